// How an OpenStack API answer becomes what Temporal needs: an ApplicationFailure whose type says
// whether to retry. 429/503 carry the server's Retry-After as nextRetryDelay; a quota refusal is
// non-retryable and names the quota (retrying cannot raise it); messages carry the service's own
// words and the request id, never a request body (which may hold a secret).
import { ApplicationFailure } from '@temporalio/common';

export const MAX_RETRY_AFTER_MS = 10 * 60_000;

export class OpenStackApiError extends Error {
  override name = 'OpenStackApiError';
  constructor(
    readonly status: number,
    readonly what: string,
    readonly detail: string,
    readonly errorType: string | undefined,
    readonly retryAfterMs: number | undefined,
    readonly requestId: string | undefined,
  ) {
    super(`${what}: HTTP ${status}${errorType ? ` ${errorType}` : ''}: ${detail}${requestId ? ` (request ${requestId})` : ''}`);
  }
}

export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** The message and type inside Keystone, Nova, Neutron or Glance error bodies. */
export function parseErrorBody(text: string): { message: string; type?: string } {
  let body: unknown;
  try { body = JSON.parse(text); } catch { return { message: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300) || '(no body)' }; }
  if (typeof body !== 'object' || body === null) return { message: String(body) };
  const b = body as Record<string, unknown>;
  const neutron = b.NeutronError as { type?: string; message?: string } | undefined;
  if (neutron && typeof neutron === 'object') return { message: neutron.message ?? '', ...(neutron.type ? { type: neutron.type } : {}) };
  if (typeof b.message === 'string') return { message: b.message };
  // Keystone {"error": {...}}, Nova {"itemNotFound": {...}}: one key holding {code, message}.
  const [key, inner] = Object.entries(b)[0] ?? [];
  const msg = (inner as { message?: unknown } | undefined)?.message;
  return { message: typeof msg === 'string' ? msg : JSON.stringify(b).slice(0, 300), ...(key && key !== 'error' ? { type: key } : {}) };
}

/** "port" from Neutron's "Quota exceeded for resources: ['port']", "instances" from Nova's. */
export function quotaName(detail: string): string | undefined {
  const neutron = /Quota exceeded for resources: \[([^\]]*)\]/i.exec(detail);
  if (neutron) return neutron[1]!.replace(/['"\s]/g, '');
  const nova = /Quota exceeded for (\w+)/i.exec(detail);
  return nova?.[1];
}

export function isQuotaError(e: OpenStackApiError): boolean {
  return (e.status === 403 || e.status === 409 || e.status === 413) && (e.errorType === 'OverQuota' || /quota exceeded/i.test(e.detail));
}

/** Any error from a cloud call as the failure the activity throws. */
export function toFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenStackApiError) {
    const e = err;
    if (isQuotaError(e)) {
      const q = quotaName(e.detail);
      return ApplicationFailure.create({ type: 'OpenStackQuotaExceeded', nonRetryable: true, message: `${what}: the project's ${q ?? ''} quota is exhausted (${e.detail}): raise the quota or make room, then run again`.replace("'s  quota", "'s quota") });
    }
    if (e.status === 429 || e.status === 503) {
      return ApplicationFailure.create({
        type: 'OpenStackUnavailable', nonRetryable: false, message: `${e.message}; retrying${e.retryAfterMs !== undefined ? ` in ${Math.round(e.retryAfterMs / 1000)} s as Retry-After asks` : ''}`,
        ...(e.retryAfterMs !== undefined ? { nextRetryDelay: e.retryAfterMs } : {}),
      });
    }
    if (e.status >= 500 || e.status === 408) return ApplicationFailure.create({ type: 'OpenStackUnavailable', nonRetryable: false, message: e.message });
    if (e.status === 401) return ApplicationFailure.create({ type: 'OpenStackUnauthorized', nonRetryable: true, message: `${e.message}: the credentials were refused: check the cloud's credentials` });
    if (e.status === 403) return ApplicationFailure.create({ type: 'OpenStackForbidden', nonRetryable: true, message: `${e.message}: the project's role does not allow this` });
    if (e.status === 404) return ApplicationFailure.create({ type: 'OpenStackNotFound', nonRetryable: true, message: e.message });
    // Conflicts (a port still detaching, a server mid-transition) often clear by themselves.
    if (e.status === 409) return ApplicationFailure.create({ type: 'OpenStackConflict', nonRetryable: false, message: e.message });
    return ApplicationFailure.create({ type: 'OpenStackBadRequest', nonRetryable: true, message: e.message });
  }
  const name = (err as Error | undefined)?.name;
  if (name === 'CloudConfigError') return ApplicationFailure.create({ type: 'OpenStackConfig', nonRetryable: true, message: (err as Error).message });
  if (name === 'CloudInventoryError') return ApplicationFailure.create({ type: 'OpenStackInventoryMismatch', nonRetryable: true, message: (err as Error).message });
  // Network errors (connection refused, reset, timeout): the cloud may be back on the next attempt.
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  return ApplicationFailure.create({ type: 'OpenStackUnreachable', nonRetryable: false, message: `${what}: ${cause ?? name ?? 'error'}: ${(err as Error | undefined)?.message ?? String(err)}` });
}

export { OPENSTACK_NON_RETRYABLE } from './plan/failure-types.js';

/** An inventory value the cloud contradicts (a name matching two images, an address outside a subnet). */
export class CloudInventoryError extends Error {
  override name = 'CloudInventoryError';
}
