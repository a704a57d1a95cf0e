// Whether this process encrypts payloads, and with which keys: MOORING_CODEC_KEYS lists key ids
// with a reference to each key (never a key itself), the first being the one that encrypts:
//   MOORING_CODEC_KEYS="2026-12=file:/etc/mooring/codec-2026-12.key,2026-06=env:MOORING_CODEC_KEY_OLD"
// Unset or empty: no codec, payloads in clear (the default). The same variable configures the
// worker, the CLI, the replay test and `mooring codec-server`, so they agree by construction.
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { SecretRef } from '../../config/schema.js';
import { readKey256 } from '../../config/secrets.js';
import { AesGcmPayloadCodec, KEY_ID_PATTERN } from './aes-gcm.js';

export const CODEC_KEYS_ENV = 'MOORING_CODEC_KEYS';
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.js', import.meta.url));

export interface CodecKeyRef { id: string; ref: SecretRef }

const EXAMPLE = `${CODEC_KEYS_ENV}="2026-12=file:/etc/mooring/codec-2026-12.key,2026-06=env:MOORING_CODEC_KEY_OLD"`;

/** Parses the variable's value; a bad entry is refused with its position and the fix. */
export function parseCodecKeys(value: string): CodecKeyRef[] {
  const entries = value.split(/[\s,]+/).filter(Boolean);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const where = `${CODEC_KEYS_ENV} entry ${i + 1} (${JSON.stringify(entry.replace(/=.*/, '=…'))})`;
    const m = /^([^=]+)=(env|file):(.+)$/.exec(entry);
    if (!m) throw new Error(`${where}: is not ID=env:NAME or ID=file:/abs/path; e.g. ${EXAMPLE}`);
    const [, id, kind, target] = m as unknown as [string, string, 'env' | 'file', string];
    if (!KEY_ID_PATTERN.test(id)) throw new Error(`${where}: key id ${JSON.stringify(id)} must be 1-64 of A-Z a-z 0-9 . _ -`);
    if (seen.has(id)) throw new Error(`${where}: key id ${id} is listed twice; each id names one key`);
    seen.add(id);
    const parsed = SecretRef.safeParse(kind === 'env' ? { env: target } : { file: target });
    if (!parsed.success) throw new Error(`${where}: ${kind} ${parsed.error.issues[0]?.message ?? 'is not a valid reference'}`);
    return { id, ref: parsed.data };
  });
}

/** Resolves every key; `who` names the process in messages ("the worker", "the CLI"). */
export async function codecFromKeyRefs(refs: CodecKeyRef[], who: string): Promise<AesGcmPayloadCodec> {
  if (!refs.length) throw new Error(`${CODEC_KEYS_ENV}: no key listed; e.g. ${EXAMPLE}`);
  const keys = new Map<string, Buffer>();
  for (const { id, ref } of refs) keys.set(id, await readKey256(ref, `${CODEC_KEYS_ENV} key ${id}`, who));
  return new AesGcmPayloadCodec({ current: refs[0]!.id, keys });
}

/** The codec configured for this process, or undefined when encryption is off. */
export async function codecFromEnv(who: string, env: NodeJS.ProcessEnv = process.env): Promise<AesGcmPayloadCodec | undefined> {
  const value = env[CODEC_KEYS_ENV]?.trim();
  if (!value) return undefined;
  return codecFromKeyRefs(parseCodecKeys(value), who);
}

/**
 * The data converter of every Temporal client, worker and replay worker when the codec is on:
 * the codec, and the failure converter that moves messages and stack traces into a payload.
 */
export function encryptingDataConverter(codec: AesGcmPayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}
