// The whole path of a snapshot to and from the bucket, every byte checked on the way:
//   ship:   plaintext ─ sha256 must equal the checked snapshot's ─ encrypt ─ upload (+ manifest)
//   fetch:  download ─ sha256 must equal the manifest's ─ decrypt (authenticated) ─ sha256 again
// A check fails at the end of its stream, so an upload is aborted before it completes and a
// download errors before its consumer sees a clean end.
import { Writable, pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { DigestMismatch, DigestStream } from './digest.js';
import { DEFAULT_CHUNK_SIZE, SnapshotCryptoError, decryptStream, encryptStream, newFileParams, type KeyResolver } from './encryption.js';
import type { ObjectStore, PutResult, UploadCheckpoint } from './object-store.js';
import type { SnapshotMetadata, StoredSnapshot } from './snapshot-meta.js';

export interface ShipOptions {
  key: string;
  /** `sha256` is the plaintext's, as checked on the node; the upload is refused if the bytes differ. */
  metadata: SnapshotMetadata;
  /** The 32-byte key; `metadata.keyId` is written into the file's header. */
  encryptionKey: Buffer;
  /** The plaintext's size when known: a short read is refused even before the hash is compared. */
  expectedBytes?: number;
  chunkSize?: number;
  signal?: AbortSignal;
  /** An interrupted attempt's checkpoint (from its heartbeat): continue its upload. */
  resume?: ShipCheckpoint;
  /** Called as the upload moves on; heartbeat it so a retry can resume. */
  onCheckpoint?: (c: ShipCheckpoint) => void;
}

/**
 * Where an interrupted upload stands, and what reproduces its bytes: the file's public header
 * parameters (salt and nonce prefix, hex; they are written in clear at the start of the object)
 * and chunk size. MOORSNAP1 chunks are sealed with nonces from the chunk index, so the same
 * plaintext under the same parameters gives the same ciphertext, part boundaries included.
 */
export interface ShipCheckpoint extends UploadCheckpoint {
  salt: string;
  noncePrefix: string;
  chunkSize: number;
  /** The plaintext's sha256: a checkpoint is only ever used again for the very same snapshot. */
  sha256: string;
}

/**
 * Encrypts and uploads `source`; commits it only if the plaintext is exactly the checked snapshot.
 * With `resume`, the source is read and encrypted again from its first byte (both sha256 checks
 * need every byte, and a hash's state cannot be saved), but the parts already stored are matched
 * instead of sent: what a retry saves is the upload, usually the slow, off-site half.
 */
export async function shipSnapshot(store: ObjectStore, source: Readable, o: ShipOptions): Promise<PutResult> {
  const plain = new DigestStream({ sha256: o.metadata.sha256, ...(o.expectedBytes !== undefined ? { bytes: o.expectedBytes } : {}), what: `snapshot for ${o.key}` });
  const r = o.resume && o.resume.key === o.key && o.resume.sha256 === o.metadata.sha256 ? o.resume : undefined;
  const chunkSize = r?.chunkSize ?? o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const params = r ? { salt: Buffer.from(r.salt, 'hex'), noncePrefix: Buffer.from(r.noncePrefix, 'hex') } : newFileParams();
  const sealed = encryptStream(o.encryptionKey, o.metadata.keyId, chunkSize, params);
  const reproduce = { salt: params.salt.toString('hex'), noncePrefix: params.noncePrefix.toString('hex'), chunkSize, sha256: o.metadata.sha256 };
  // Errors travel downstream by destruction: putSnapshot sees its body fail and aborts the upload.
  pipeline(source, plain, sealed, () => undefined);
  return store.putSnapshot(sealed, o.key, o.metadata, {
    ...(o.signal ? { signal: o.signal } : {}),
    ...(r ? { resume: r } : {}),
    onCheckpoint: (c) => o.onCheckpoint?.({ ...c, ...reproduce }),
  });
}

/**
 * The plaintext of a stored snapshot, checked three ways: the stored bytes' sha256 against the
 * manifest, each chunk's authentication tag, and the plaintext's sha256 against the metadata.
 * The stream errors if any check fails; consume it into a temporary file and keep that file only
 * after a clean end.
 */
export async function openDecryptedSnapshot(store: ObjectStore, key: string, keys: KeyResolver, signal?: AbortSignal): Promise<{ stream: Readable; entry: StoredSnapshot }> {
  const entry = await store.statSnapshot(key, signal);
  if (!entry) throw ApplicationFailure.nonRetryable(`snapshot ${key} is not in the bucket: list the catalogue for the snapshots that exist`, 'SnapshotNotFound');
  if (!entry.complete || !entry.storedSha256) {
    throw ApplicationFailure.nonRetryable(`snapshot ${key} has no valid manifest: its upload never completed (or the manifest was damaged); it cannot be trusted`, 'SnapshotIncomplete');
  }
  const { stream } = await store.getSnapshotStream(key, signal);
  const stored = new DigestStream({ sha256: entry.storedSha256, bytes: entry.size, what: `stored object ${key}` });
  const plain = new DigestStream({ sha256: entry.sha256, what: `decrypted snapshot ${key}` });
  // The plaintext check sits last, so the stream the consumer reads is the one that fails; an error
  // anywhere destroys every stage, including the download.
  pipeline(stream, stored, decryptStream(keys), plain, () => undefined);
  return { stream: plain, entry };
}

export interface RoundTrip {
  key: string;
  ok: boolean;
  /** Why it failed: the check that caught it. */
  problem?: string;
  plaintextBytes: number;
}

/**
 * What a failed read of a stored snapshot proves. Bad bytes (a digest that does not match, a chunk
 * that fails authentication) condemn the snapshot: the problem is returned, to be recorded. A key
 * we lack or that does not fit, an unreachable store or a cancellation say nothing certain about
 * it (the configuration may be wrong): those are thrown, and nothing is recorded.
 */
export function problemWithStoredBytes(err: unknown, store: ObjectStore, key: string): string {
  const keyTrouble = err instanceof SnapshotCryptoError && (err.failure === 'UnknownKey' || err.failure === 'WrongKey');
  if (!keyTrouble && (err instanceof DigestMismatch || err instanceof SnapshotCryptoError)) return err.message;
  throw store.explain(err, `verification of ${key}`);
}

/**
 * Downloads, decrypts and compares a stored snapshot without keeping it, and records the result in
 * its manifest. A failed check is a result (ok: false), not an exception; an unreachable store
 * (retryable) and a missing or non-matching key (non-retryable, nothing recorded) are exceptions.
 */
export async function verifyRemoteSnapshot(store: ObjectStore, key: string, keys: KeyResolver, signal?: AbortSignal): Promise<RoundTrip> {
  const { stream } = await openDecryptedSnapshot(store, key, keys, signal);
  let bytes = 0;
  const sink = new Writable({ write(chunk: Buffer, _e, done) { bytes += chunk.length; done(); } });
  let problem: string | undefined;
  try {
    await (signal ? pipelineAsync(stream, sink, { signal }) : pipelineAsync(stream, sink));
  } catch (err) {
    problem = problemWithStoredBytes(err, store, key);
  }
  await store.recordRoundTrip(key, { ok: !problem, ...(problem ? { problem } : {}) }, signal);
  return { key, ok: !problem, ...(problem ? { problem } : {}), plaintextBytes: bytes };
}
