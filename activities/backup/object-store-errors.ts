// S3 client errors turned into failures that say what happened and what to do, and whether a
// retry can help (Temporal retries an activity only when the failure is retryable). Messages name
// the endpoint, bucket, key and secret *references*, never a secret.
import { ApplicationFailure } from '@temporalio/activity';
import { describeRef, type SecretRef } from '../secrets.js';
import { DigestMismatch } from './digest.js';
import { SnapshotCryptoError } from './encryption.js';
import { retryAfterMs } from '../http/retry-after.js';

// Shared with the apiserver's /readyz probe (activities/control-plane/readyz.ts).
export { MAX_RETRY_AFTER_MS, retryAfterMs } from '../http/retry-after.js';

export interface StoreContext {
  endpoint: string;
  bucket: string;
  accessKey: SecretRef;
  secretKey: SecretRef;
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'AuthorizationHeaderMalformed']);

interface SdkError extends Error {
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  /** The raw HTTP response (a hidden property the SDK sets on service errors). */
  $response?: { headers?: Record<string, string | undefined> };
}

/** Wraps any error from an object-store operation. `op` says what was attempted, e.g. "upload of lab/x.db.enc". */
export function explainStoreError(err: unknown, ctx: StoreContext, op: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const where = `object store ${ctx.endpoint}, bucket ${ctx.bucket}: ${op}`;
  if (err instanceof DigestMismatch) {
    // The bytes were not the snapshot that was checked: nothing was committed. Retrying re-reads
    // the same source; the runbook decides whether to take a new snapshot.
    return ApplicationFailure.create({ message: `${where} refused: ${err.message}; nothing was stored as good`, type: 'SnapshotDigestMismatch', nonRetryable: true });
  }
  if (err instanceof SnapshotCryptoError) {
    return ApplicationFailure.create({ message: `${where}: ${err.message}`, type: `Snapshot${err.failure}`, nonRetryable: true });
  }
  const e = (err ?? {}) as SdkError;
  const name = e.Code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const code = e.code ?? (e.cause as { code?: string } | undefined)?.code;
  if (AUTH.has(name)) {
    return ApplicationFailure.create({
      message: `${where} refused (${name}): the server does not accept these credentials; check backup.objectStore.accessKey (${describeRef(ctx.accessKey)}) and secretKey (${describeRef(ctx.secretKey)})`,
      type: 'ObjectStoreAuthFailed', nonRetryable: true,
    });
  }
  if (name === 'AccessDenied' || status === 403) {
    return ApplicationFailure.create({
      message: `${where} denied (${name}): the credentials are valid but lack permission; grant them read, write, list and delete on bucket ${ctx.bucket}`,
      type: 'ObjectStoreAccessDenied', nonRetryable: true,
    });
  }
  if (name === 'NoSuchBucket') {
    return ApplicationFailure.create({ message: `${where}: the bucket does not exist; create it (ensureBucket) or fix backup.objectStore.bucket`, type: 'BucketNotFound', nonRetryable: true });
  }
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) {
    return ApplicationFailure.create({ message: `${where}: no such object; list the catalogue (mooring backup list) for the snapshots that exist`, type: 'SnapshotNotFound', nonRetryable: true });
  }
  if ((code && NETWORK.has(code)) || name === 'TimeoutError' || name === 'RequestTimeout' || name === 'AbortError') {
    return ApplicationFailure.create({
      message: `${where} failed: cannot reach the server (${code ?? name}); check that it runs and that backup.objectStore.endpoint is right (retrying)`,
      type: 'ObjectStoreUnavailable', nonRetryable: false,
    });
  }
  if ((status !== undefined && (status >= 500 || status === 429)) || name === 'SlowDown' || name === 'ServiceUnavailable') {
    // A server shedding load says when to come back; Temporal's next attempt waits that long
    // instead of its own backoff (the SDK's own retries inside the request already honoured it).
    const wait = status === 429 || status === 503 || name === 'SlowDown' ? retryAfterMs(e.$response?.headers) : undefined;
    return ApplicationFailure.create({
      message: `${where} failed: the server answered ${status ?? ''} ${name} (retrying${wait !== undefined ? ` in ${Math.round(wait / 1000)} s, as its Retry-After asks` : ''})`,
      type: 'ObjectStoreUnavailable', nonRetryable: false, ...(wait !== undefined ? { nextRetryDelay: wait } : {}),
    });
  }
  // Unknown: say what it was; retrying is the safe default for an idempotent operation.
  return ApplicationFailure.create({ message: `${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`, type: 'ObjectStoreError', nonRetryable: false });
}
