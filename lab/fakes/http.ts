// SIMULATED: the HTTP plumbing shared by the lab's cloud API fakes (OpenStack, Proxmox VE):
// a small router, body parsing, JSON answers, fault injection and the `/_fake/*` control API.
// Only Node's own http module, and only loopback: the control API has no authentication, so a
// fake must never listen where anything but the lab can reach it.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultInjector, type FaultAction } from './faults.js';

export interface FakeRequest {
  method: string;
  /** Path without the query string, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Route parameters, percent-decoded. */
  params: Record<string, string>;
  /** Parsed JSON, or a string map for a form body; undefined when there was no body. */
  body: unknown;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** HTTP reason phrase; Proxmox puts its error message there. */
  statusMessage?: string;
}

export type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** Thrown by handlers; the server turns it into an answer in the service's own error shape. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: { body?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
  }
}

interface Route { method: string; parts: string[]; handler: Handler }

/** Path templates with `:name` segments; a `*name` last segment takes the rest of the path. */
export class Router {
  private readonly routes: Route[] = [];

  /** Takes over every route of another router (services mounted on one fake). */
  mount(other: Router): this {
    this.routes.push(...other.routes);
    return this;
  }

  on(method: string, template: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), parts: template.split('/').filter(Boolean), handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined {
    const segs = path.split('/').filter(Boolean);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, segs);
      if (!params) continue;
      if (r.method === method.toUpperCase()) return { handler: r.handler, params };
      allowed.push(r.method);
    }
    return allowed.length ? { allowed } : undefined;
  }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p.startsWith('*')) { params[p.slice(1)] = segs.slice(i).map(decode).join('/'); return params; }
    const s = segs[i];
    if (s === undefined) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = decode(s);
    else if (p !== s) return undefined;
  }
  return segs.length === parts.length ? params : undefined;
}

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

export interface RequestRecord { method: string; path: string; status: number | 'hang' | 'drop'; fault: boolean }

export interface FakeServerOptions {
  /** Used in messages only, e.g. "OpenStack fake". */
  name: string;
  host: string;
  port: number;
  router: Router;
  /** Renders an error (handler errors, injected faults, 404/405) the way the real service does. */
  errorResponse: (status: number, message: string, path: string) => FakeResponse;
  /** How the service answers a path or method it does not have (default 404 / 405). */
  unrouted?: (method: string, path: string) => FakeResponse;
  /** Settles time-based state transitions before each request. */
  beforeEach?: () => void;
  /** Headers every API answer carries (e.g. OpenStack's x-openstack-request-id). */
  headers?: () => Record<string, string>;
  /** Extra control routes under /_fake/ (state-level faults a separate process can ask for). */
  control?: Router;
}

export interface RunningFake {
  url: string;
  faults: FaultInjector;
  /** Requests the fake answered (or hung/dropped), oldest first, for asserting retries; the last 10,000. */
  requests: RequestRecord[];
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const MAX_RECORDS = 10_000; // a lab fake may run for hours; the log must not grow without bound

export function assertLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== '::1') {
    throw new Error(`fake host "${host}" is not a loopback address: the fakes' control API is unauthenticated, listen on 127.0.0.1 (or another 127.x address)`);
  }
}

export async function startFakeServer(opts: FakeServerOptions): Promise<RunningFake> {
  assertLoopback(opts.host);
  const faults = new FaultInjector();
  const requests: RequestRecord[] = [];
  const record = (r: RequestRecord) => { requests.push(r); if (requests.length > MAX_RECORDS) requests.splice(0, requests.length - MAX_RECORDS); };
  const timers = new Set<NodeJS.Timeout>();
  const control = controlRouter(faults, opts.control);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in a fake must be loud but must not kill the test process.
      if (!res.headersSent) send(res, { status: 500, body: { error: `${opts.name} internal error: ${(err as Error).message}` } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const path = url.pathname;
    const rawBody = await readBody(req);

    if (path.startsWith('/_fake/')) {
      const reply = await dispatch(control, method, path, url.searchParams, req.headers, rawBody, (s, m) => ({ status: s, body: { error: m } }));
      send(res, reply);
      return;
    }

    const fault = faults.take(method, path);
    if (fault) {
      const handled = await applyFault(fault, res, path);
      if (handled) { record({ method, path, status: handled, fault: true }); return; }
    }
    opts.beforeEach?.();
    const reply = await dispatch(opts.router, method, path, url.searchParams, req.headers, rawBody, (s, m) => opts.errorResponse(s, m, path), opts.unrouted);
    record({ method, path, status: reply.status, fault: false });
    send(res, { ...reply, headers: { ...opts.headers?.(), ...reply.headers } });
  }

  /** Returns what was recorded when the fault replaced the answer, or undefined to go on normally. */
  async function applyFault(fault: FaultAction, res: ServerResponse, path: string): Promise<number | 'hang' | 'drop' | undefined> {
    switch (fault.kind) {
      case 'hang':
        return 'hang'; // the response stays open until the client aborts or close() destroys it
      case 'drop':
        res.socket?.destroy();
        return 'drop';
      case 'delay':
        await new Promise<void>((resolve) => { const t = setTimeout(() => { timers.delete(t); resolve(); }, fault.delayMs); timers.add(t); });
        return undefined;
      case 'status': {
        const reply = opts.errorResponse(fault.status, fault.message ?? defaultFaultMessage(fault.status), path);
        // Both clouds send Retry-After with a 429 and often with a 503; tests pin that the client honours it.
        reply.headers = { ...opts.headers?.(), ...reply.headers };
        if (fault.retryAfterSeconds !== undefined) reply.headers['retry-after'] = String(fault.retryAfterSeconds);
        send(res, reply);
        return fault.status;
      }
    }
  }

  const sockets = new Set<Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed = false;
  return {
    url: `http://${host}:${addr.port}`,
    faults,
    requests,
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung requests and idle keep-alive connections would otherwise hold close() open forever.
        for (const s of sockets) s.destroy();
      });
    },
  };
}

function defaultFaultMessage(status: number): string {
  if (status === 409) return 'Conflict (injected fault)';
  if (status === 429) return 'Rate limit exceeded (injected fault)';
  if (status === 503) return 'Service Unavailable (injected fault)';
  return `Error ${status} (injected fault)`;
}

async function dispatch(router: Router, method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders, rawBody: string,
  error: (status: number, message: string) => FakeResponse, unrouted?: (method: string, path: string) => FakeResponse): Promise<FakeResponse> {
  const m = router.match(method, path);
  if ((!m || 'allowed' in m) && unrouted) return unrouted(method, path);
  if (!m) return error(404, `The resource could not be found: ${method} ${path}`);
  if ('allowed' in m) {
    const r = error(405, `The method ${method} is not allowed for this resource.`);
    return { ...r, headers: { ...r.headers, allow: m.allowed.join(', ') } };
  }
  let body: unknown;
  try {
    body = parseBody(rawBody, headers['content-type']);
  } catch (e) {
    return error(400, (e as Error).message);
  }
  try {
    return await m.handler({ method, path, query, headers, params: m.params, body });
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    const r = error(e.status, e.message);
    return { ...r, ...(e.extra.body !== undefined ? { body: e.extra.body } : {}), headers: { ...r.headers, ...e.extra.headers } };
  }
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new Error('Malformed request body: not valid JSON');
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: FakeResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  let payload = '';
  if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  if (reply.statusMessage !== undefined) res.statusMessage = reply.statusMessage.replace(/[\r\n]+/g, ' ').trim();
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** `/_fake/faults`: the same fault API over HTTP, so a separate process (CLI, crash test) can inject. */
function controlRouter(faults: FaultInjector, extra: Router | undefined): Router {
  const r = new Router()
    .on('GET', '/_fake/faults', () => ({ status: 200, body: { faults: faults.list() } }))
    .on('POST', '/_fake/faults', (req) => {
      try {
        return { status: 201, body: { id: faults.inject(req.body as never) } };
      } catch (e) {
        return { status: 400, body: { error: (e as Error).message } };
      }
    })
    .on('DELETE', '/_fake/faults', () => ({ status: 200, body: { removed: faults.clear() } }))
    .on('DELETE', '/_fake/faults/:id', (req) => {
      const removed = faults.clear(req.params.id);
      return removed ? { status: 200, body: { removed } } : { status: 404, body: { error: `no fault ${req.params.id}` } };
    });
  return extra ? r.mount(extra) : r;
}
