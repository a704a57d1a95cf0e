// Secrets are never values in the inventory, only references ({ env: NAME } or { file: /path }),
// resolved here, inside activities (config/secrets.ts does the reading, shared with the payload
// codec's keys). Failures become non-retryable activity failures: a missing or malformed secret
// does not fix itself by retrying. Messages name the reference and the fix, never the value.
import { ApplicationFailure } from '@temporalio/activity';
import type { SecretRef } from '../config/schema.js';
import { SecretError, describeRef, readKey256, readSecret, readSecretString } from '../config/secrets.js';

export type { SecretRef };
export { describeRef };

async function asActivityFailure<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SecretError) throw ApplicationFailure.nonRetryable(err.message, 'SecretUnavailable');
    throw err;
  }
}

/** The raw bytes of a secret. `what` names its role in messages, e.g. "backup.encryptionKey". */
export const resolveSecret = (ref: SecretRef, what?: string): Promise<Buffer> => asActivityFailure(() => readSecret(ref, what));

/** A text secret (access keys, tokens): surrounding whitespace, e.g. a file's final newline, is dropped. */
export const resolveSecretString = (ref: SecretRef, what?: string): Promise<string> => asActivityFailure(() => readSecretString(ref, what));

/** A 256-bit key: 32 raw bytes, 64 hex digits or base64 of 32 bytes; anything else is refused. */
export const resolveKey256 = (ref: SecretRef, what?: string): Promise<Buffer> => asActivityFailure(() => readKey256(ref, what));
