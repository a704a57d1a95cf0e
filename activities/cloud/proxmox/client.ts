// One Proxmox VE API client per activity attempt, on the `proxmox-api` package: the token secret is
// resolved here from its reference (never returned or logged), TLS is verified (tls.ts), and the
// activity's cancellation aborts the HTTP request. The package retries a request once after a
// network error, POSTs included: callers whose POST creates something look it up before they retry.
import { readFile } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import proxmoxApi, { type Proxmox } from 'proxmox-api';
import { fetch as undiciFetch, type Agent } from 'undici';
import { resolveSecretString } from '../../secrets.js';
import type { ProxmoxTarget } from './context.js';
import { toFailure } from './errors.js';
import { tlsDispatcher } from './tls.js';

export type PveApi = Proxmox.Api;

export interface ProxmoxClient {
  api: PveApi;
  close(): Promise<void>;
}

/** A token secret is a UUID (what `pveum user token add` prints); proxmox-api refuses anything else. */
const TOKEN_SECRET = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function cancellationSignal(): AbortSignal | undefined {
  try { return Context.current().cancellationSignal; } catch { return undefined; }
}

export async function openProxmox(target: ProxmoxTarget, deps: { readText?: (path: string) => Promise<string> } = {}): Promise<ProxmoxClient> {
  const secret = (await resolveSecretString(target.tokenSecret, 'provider.proxmox.tokenSecret')).toLowerCase();
  if (!TOKEN_SECRET.test(secret)) throw ApplicationFailure.nonRetryable('provider.proxmox.tokenSecret: the secret it points to is not an API token secret (a UUID such as 5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0, printed by `pveum user token add`)', 'SecretUnavailable');
  let ca: string | undefined;
  if (target.caFile) {
    try { ca = await (deps.readText ?? ((p) => readFile(p, 'utf8')))(target.caFile); } catch (e) {
      throw ApplicationFailure.nonRetryable(`provider.proxmox.caFile: cannot read ${target.caFile} on the worker (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'InvalidInput');
    }
  }
  const dispatcher: Agent = tlsDispatcher({ ...(ca ? { ca } : {}), ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}) });
  const url = new URL(target.apiUrl);
  const cancel = cancellationSignal();
  const api = proxmoxApi({
    host: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    schema: url.protocol === 'http:' ? 'http' : 'https',
    tokenID: target.tokenId,
    tokenSecret: secret,
    queryTimeout: 30_000,
    fetch: (input, init) => undiciFetch(input, {
      ...init,
      dispatcher,
      ...(cancel ? { signal: init?.signal ? AbortSignal.any([init.signal as AbortSignal, cancel]) : cancel } : {}),
    }),
  });
  return { api, close: async () => { await dispatcher.close(); } };
}

/** Runs one activity body against the API; every error leaves as an ApplicationFailure. */
export async function withProxmox<T>(what: string, target: ProxmoxTarget, fn: (api: PveApi) => Promise<T>, deps: { readText?: (path: string) => Promise<string> } = {}): Promise<T> {
  const c = await openProxmox(target, deps);
  try {
    return await fn(c.api);
  } catch (err) {
    if (cancellationSignal()?.aborted) throw err;
    throw toFailure(err, what);
  } finally {
    await c.close();
  }
}
