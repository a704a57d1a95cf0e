// Secrets are never values in the inventory, only references ({ env: NAME } or { file: /path }),
// resolved here, inside activities. The value is returned to the caller and nowhere else: errors
// name the reference and what to do, never the value or any part of it.
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import type { SecretRef } from '../config/schema.js';

export type { SecretRef };

/** "env MOORING_S3_SECRET_KEY" / "file /etc/mooring/s3.key": how messages name a secret. */
export function describeRef(ref: SecretRef): string {
  return 'env' in ref ? `env ${ref.env}` : `file ${ref.file}`;
}

function missing(ref: SecretRef, what: string | undefined, problem: string, fix: string): ApplicationFailure {
  // Non-retryable: a missing or malformed secret does not fix itself by retrying.
  return ApplicationFailure.nonRetryable(`${what ? `${what} (${describeRef(ref)})` : describeRef(ref)}: ${problem}: ${fix}`, 'SecretUnavailable');
}

/** The raw bytes of a secret. `what` names its role in messages, e.g. "backup.encryptionKey". */
export async function resolveSecret(ref: SecretRef, what?: string): Promise<Buffer> {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') throw missing(ref, what, 'is not set or empty', `set ${ref.env} in the worker's environment`);
    return Buffer.from(value, 'utf8');
  }
  try {
    const value = await readFile(ref.file);
    if (value.length === 0) throw missing(ref, what, 'is empty', `write the secret into ${ref.file}`);
    return value;
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw missing(ref, what, `cannot be read (${code})`, `check that ${ref.file} exists and the worker's user may read it`);
  }
}

/** A text secret (access keys, tokens): surrounding whitespace, e.g. a file's final newline, is dropped. */
export async function resolveSecretString(ref: SecretRef, what?: string): Promise<string> {
  const text = (await resolveSecret(ref, what)).toString('utf8').trim();
  if (text === '') throw missing(ref, what, 'holds only whitespace', 'put the secret itself there');
  return text;
}

/**
 * A 256-bit key: exactly 32 raw bytes, or 64 hex digits, or base64 of 32 bytes (surrounding
 * whitespace allowed). Anything else is refused rather than stretched: a short or mistyped key
 * must not silently become a weak one.
 */
export async function resolveKey256(ref: SecretRef, what?: string): Promise<Buffer> {
  const raw = await resolveSecret(ref, what);
  if (raw.length === 32) return raw;
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (/^[A-Za-z0-9_-]{43}=?$/.test(text)) return Buffer.from(text, 'base64url');
  throw missing(ref, what, 'is not a 256-bit key', 'use 32 random bytes, as raw bytes, 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
}
