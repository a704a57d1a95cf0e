// A small typed OpenStack client on Node's fetch: one Keystone v3 token per client, renewed before
// it expires and once more if a service answers 401 (revoked, clock skew); service URLs from the
// token's catalog for the configured region and interface; the Nova microversion on every compute
// call. The client holds the credentials in memory for renewals and nowhere else: they are not in
// any error, log line or return value.
import type { CloudConfig } from './config/clouds.js';
import { authRequest, endpointFor, type CatalogEntry, type ServiceType, type TokenBody } from './identity/tokens.js';
import { OpenStackApiError, parseErrorBody, retryAfterMs, CloudInventoryError } from './errors.js';

/** The Nova microversion Mooring speaks: 2.64 has server tags at create (2.52) and group `policy`. */
export const COMPUTE_MICROVERSION = '2.64';

export interface ClientOptions {
  fetch?: typeof fetch;
  /** Cancels every request (the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Renew the token this long before it expires (default 5 min, at most half its lifetime). */
  renewMarginMs?: number;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  now?: () => number;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | string[] | undefined>;
  /** Answer 404 with undefined instead of throwing (look-ups). */
  allowNotFound?: boolean;
}

export interface Reply<T> { status: number; body: T; headers: Headers }

interface Token { id: string; expiresAt: number; issuedAt: number; catalog: CatalogEntry[]; projectId?: string }

export class OpenStackClient {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private readonly f: typeof fetch;
  private readonly now: () => number;
  /** How many times a token was issued (tests check renewal). */
  authentications = 0;

  constructor(private readonly cloud: CloudConfig, private readonly opts: ClientOptions = {}) {
    this.f = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  get cloudName(): string { return this.cloud.name; }
  get region(): string | undefined { return this.cloud.region; }

  private signal(): AbortSignal {
    const t = AbortSignal.timeout(this.opts.timeoutMs ?? 60_000);
    return this.opts.signal ? AbortSignal.any([t, this.opts.signal]) : t;
  }

  private identityUrl(): string {
    return /\/v3$/.test(this.cloud.authUrl) ? this.cloud.authUrl : `${this.cloud.authUrl}/v3`;
  }

  private async issue(): Promise<Token> {
    const url = `${this.identityUrl()}/auth/tokens`;
    const res = await this.f(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(authRequest(this.cloud.credentials)), signal: this.signal() });
    const text = await res.text();
    const what = `Keystone ${url} (cloud ${this.cloud.name}, ${this.cloud.credentials.type === 'password' ? 'password' : 'application credential'})`;
    if (res.status !== 201 && res.status !== 200) {
      const e = parseErrorBody(text);
      throw new OpenStackApiError(res.status, `authentication at ${what}`, e.message, e.type, retryAfterMs(res.headers.get('retry-after')), res.headers.get('x-openstack-request-id') ?? undefined);
    }
    const id = res.headers.get('x-subject-token');
    const body = JSON.parse(text) as TokenBody;
    if (!id || !body.token?.expires_at) throw new OpenStackApiError(res.status, `authentication at ${what}`, 'the answer has no X-Subject-Token or expires_at', undefined, undefined, undefined);
    this.authentications += 1;
    const issuedAt = body.token.issued_at ? Date.parse(body.token.issued_at) : this.now();
    return { id, expiresAt: Date.parse(body.token.expires_at), issuedAt, catalog: body.token.catalog ?? [], ...(body.token.project ? { projectId: body.token.project.id } : {}) };
  }

  /** A valid token: the current one, or a new one when it is near its end. One renewal at a time. */
  private async currentToken(force = false): Promise<Token> {
    const t = this.token;
    if (!force && t) {
      const lifetime = t.expiresAt - t.issuedAt;
      const margin = Math.min(this.opts.renewMarginMs ?? 5 * 60_000, lifetime / 2);
      if (this.now() < t.expiresAt - margin) return t;
    }
    this.pending ??= this.issue().then((tok) => { this.token = tok; return tok; }).finally(() => { this.pending = undefined; });
    return this.pending;
  }

  async projectId(): Promise<string | undefined> {
    return (await this.currentToken()).projectId;
  }

  /** The service's base URL from the catalog. */
  async endpoint(service: ServiceType): Promise<string> {
    const ep = endpointFor((await this.currentToken()).catalog, service, this.cloud.region, this.cloud.interface);
    if (typeof ep === 'string') return ep;
    throw new CloudInventoryError(`cloud ${this.cloud.name}: ${ep.missing}: check provider.openstack.region and the cloud's interface`);
  }

  async request<T>(service: ServiceType, method: string, path: string, o: RequestOptions = {}): Promise<Reply<T>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) qs.append(k, x);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (service === 'compute') {
      const mv = this.cloud.computeApiVersion && /^2\.\d+$/.test(this.cloud.computeApiVersion) ? this.cloud.computeApiVersion : COMPUTE_MICROVERSION;
      headers['openstack-api-version'] = `compute ${mv}`;
      headers['x-openstack-nova-api-version'] = mv;
    }
    for (let attempt = 0; ; attempt++) {
      const token = await this.currentToken(attempt > 0);
      const base = await this.endpoint(service);
      const url = `${base}${path}${qs.size ? `?${qs}` : ''}`;
      const res = await this.f(url, { method, headers: { ...headers, 'x-auth-token': token.id }, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}), signal: this.signal() });
      const text = await res.text();
      // A token can be revoked or expire early (clock skew): renew once, then give up.
      if (res.status === 401 && attempt === 0) continue;
      if (res.status === 404 && o.allowNotFound) return { status: 404, body: undefined as T, headers: res.headers };
      if (res.status >= 400) {
        const e = parseErrorBody(text);
        throw new OpenStackApiError(res.status, `${method} ${service} ${path}`, e.message, e.type, retryAfterMs(res.headers.get('retry-after'), this.now()), res.headers.get('x-openstack-request-id') ?? undefined);
      }
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
    }
  }
}
