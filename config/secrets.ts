// Resolving a secret reference ({ env: NAME } or { file: /path }) to its bytes, shared by the
// activities (inventory secrets) and by the processes themselves (the payload codec's keys).
// The value is returned to the caller and nowhere else: errors name the reference and what to do,
// never the value or any part of it. Plain errors here; activities/secrets.ts turns them into
// non-retryable activity failures.
import { readFile } from 'node:fs/promises';
import type { SecretRef } from './schema.js';

/** "env MOORING_S3_SECRET_KEY" / "file /etc/mooring/s3.key": how messages name a secret. */
export function describeRef(ref: SecretRef): string {
  return 'env' in ref ? `env ${ref.env}` : `file ${ref.file}`;
}

/** A secret that cannot be had; the message says which and how to fix it. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

function missing(ref: SecretRef, what: string | undefined, problem: string, fix: string): SecretError {
  return new SecretError(`${what ? `${what} (${describeRef(ref)})` : describeRef(ref)}: ${problem}: ${fix}`);
}

/** The raw bytes of a secret. `what` names its role in messages, e.g. "backup.encryptionKey". */
export async function readSecret(ref: SecretRef, what?: string, who = 'the worker'): Promise<Buffer> {
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined || value === '') throw missing(ref, what, 'is not set or empty', `set ${ref.env} in ${who}'s environment`);
    return Buffer.from(value, 'utf8');
  }
  let value: Buffer;
  try {
    value = await readFile(ref.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw missing(ref, what, `cannot be read (${code})`, `check that ${ref.file} exists and ${who}'s user may read it`);
  }
  if (value.length === 0) throw missing(ref, what, 'is empty', `write the secret into ${ref.file}`);
  return value;
}

/** A text secret (access keys, tokens): surrounding whitespace, e.g. a file's final newline, is dropped. */
export async function readSecretString(ref: SecretRef, what?: string, who?: string): Promise<string> {
  const text = (await readSecret(ref, what, who)).toString('utf8').trim();
  if (text === '') throw missing(ref, what, 'holds only whitespace', 'put the secret itself there');
  return text;
}

/**
 * A 256-bit key: exactly 32 raw bytes, or 64 hex digits, or base64 of 32 bytes (surrounding
 * whitespace allowed). Anything else is refused rather than stretched: a short or mistyped key
 * must not silently become a weak one.
 */
export async function readKey256(ref: SecretRef, what?: string, who?: string): Promise<Buffer> {
  const raw = await readSecret(ref, what, who);
  if (raw.length === 32) return raw;
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (/^[A-Za-z0-9_-]{43}=?$/.test(text)) return Buffer.from(text, 'base64url');
  throw missing(ref, what, 'is not a 256-bit key', 'use 32 random bytes, as raw bytes, 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
}
