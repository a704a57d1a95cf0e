// Retry-After (RFC 9110 §10.2.3): how long a server that answered 429 or 503 asks to be left
// alone. Activities turn it into ApplicationFailure's nextRetryDelay, so Temporal's next attempt
// waits that long instead of the retry policy's backoff (the S3 client, the apiserver's /readyz).

/** A server asking for longer than this is waited for this long, then asked again. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * The wait a 429/503 (SlowDown) answer asks for in its Retry-After header, in milliseconds
 * (delay-seconds or an HTTP date, RFC 9110), capped at MAX_RETRY_AFTER_MS; undefined when there
 * is none or it cannot be read.
 */
export function retryAfterMs(headers: Record<string, string | undefined> | undefined, now = Date.now()): number | undefined {
  const value = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1]?.trim();
  if (!value) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
