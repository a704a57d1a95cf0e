// How a failure of the `proxmox-api` package becomes what Temporal needs. The package throws plain
// Errors whose message is `METHOD URL return Error STATUS REASON: {json}` (400/401/500), `... connection
// failed with STATUS REASON return: {json}` (anything else, 2xx other than 200 included) or
// `FaILED to call METHOD URL` after a network error it already retried once. We parse the status and
// PVE's own message back out; the URL holds no secret (the token travels in a header).
import { ApplicationFailure } from '@temporalio/common';

export class ProxmoxApiError extends Error {
  override name = 'ProxmoxApiError';
  constructor(readonly status: number, readonly reason: string, readonly errors: Record<string, string> | undefined, readonly request: string) {
    super(`${request}: HTTP ${status} ${reason}${errors ? ` ${JSON.stringify(errors)}` : ''}`);
  }
}

/** A precondition the inventory names (template, storage, bridge, VMID range, placement). */
export class ProxmoxInventoryError extends Error { override name = 'ProxmoxInventoryError'; }

/** A task that ended with an error, with the last lines of its log. */
export class ProxmoxTaskError extends Error {
  override name = 'ProxmoxTaskError';
  constructor(readonly upid: string, readonly exitstatus: string, readonly logTail: string[], what: string) {
    super(`${what}: task ${upid} failed: ${exitstatus}${logTail.length ? `\nlast lines of its log:\n${logTail.map((l) => `  ${l}`).join('\n')}` : ''}`);
  }
}

/** Reads the status, reason and PVE message out of a proxmox-api error; undefined for anything else. */
export function parseEngineError(err: unknown): ProxmoxApiError | undefined {
  if (err instanceof ProxmoxApiError) return err;
  const msg = err instanceof Error ? err.message : '';
  const m = /^([A-Z]+) (\S+) (?:return Error|connection failed with) (\d{3}) ([\s\S]*)$/.exec(msg);
  if (!m) return undefined;
  const [, method, url, status, rest] = m as unknown as [string, string, string, string, string];
  const cut = Math.max(rest.lastIndexOf(': {"'), rest.lastIndexOf(' return: {"'));
  let reason = cut >= 0 ? rest.slice(0, cut) : rest;
  let errors: Record<string, string> | undefined;
  if (cut >= 0) {
    try {
      const body = JSON.parse(rest.slice(rest.indexOf('{', cut))) as { message?: unknown; errors?: unknown };
      if (typeof body.message === 'string' && body.message.trim()) reason = body.message.trim();
      if (body.errors && typeof body.errors === 'object') errors = body.errors as Record<string, string>;
    } catch { /* the reason phrase is enough */ }
  }
  const path = url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '');
  return new ProxmoxApiError(Number(status), reason, errors, `${method} ${path}`);
}

/** "Permission check failed (/vms/9000, VM.Clone)" → the path and privilege PVE named. */
export function missingPrivilege(reason: string): { path: string; privilege: string } | undefined {
  const m = /Permission check failed \(([^,]+), ([^)]+)\)/.exec(reason);
  return m ? { path: m[1] as string, privilege: m[2] as string } : undefined;
}

/** The TLS error down a cause chain (proxmox-api wraps undici's "fetch failed", which wraps it). */
function tlsError(err: unknown): { code: string; message: string } | undefined {
  for (let e: unknown = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|PROXMOX_PIN/.test(code)) return { code, message: (e as Error).message };
  }
  return undefined;
}

/** Any error from a Proxmox call as the failure the activity throws. */
export function toFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ProxmoxInventoryError) return ApplicationFailure.nonRetryable(err.message, 'ProxmoxInventoryError');
  if (err instanceof ProxmoxTaskError) {
    // PVE's lock waits give up after a while ("got timeout"): another clone held the storage or the template.
    const lock = /got timeout|can't lock file|cfs-lock .* error/i.test(err.exitstatus);
    return lock ? ApplicationFailure.retryable(err.message, 'ProxmoxLockTimeout') : ApplicationFailure.nonRetryable(err.message, 'ProxmoxTaskFailed');
  }
  const tls = tlsError(err);
  if (tls) {
    return ApplicationFailure.nonRetryable(`${what}: TLS check of the Proxmox API failed (${tls.code}: ${tls.message}): pin its certificate with provider.proxmox.caFile or provider.proxmox.fingerprint (docs/proxmox.md)`, 'ProxmoxTls');
  }
  const api = parseEngineError(err);
  if (api) {
    const text = `${what}: ${api.message}`;
    if (api.status === 401) return ApplicationFailure.nonRetryable(`${text}: check provider.proxmox.tokenId and the secret provider.proxmox.tokenSecret points to`, 'ProxmoxAuth');
    if (api.status === 403) {
      const p = missingPrivilege(api.reason);
      return ApplicationFailure.nonRetryable(p ? `${what}: the API token lacks ${p.privilege} on ${p.path}: grant it (pveum acl modify ${p.path} --tokens TOKENID --roles ROLE)` : text, 'ProxmoxPermission');
    }
    if (api.status === 400) return ApplicationFailure.nonRetryable(text, 'ProxmoxBadRequest');
    if (api.status === 501) return ApplicationFailure.nonRetryable(`${text} (this PVE version lacks the endpoint)`, 'ProxmoxNotImplemented');
    return ApplicationFailure.retryable(text, 'ProxmoxApiError');
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`${what}: ${message}`, 'ProxmoxUnreachable');
}
