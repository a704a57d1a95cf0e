// Client-side encryption of etcd snapshots before they leave the node: a snapshot holds every
// Secret of the cluster, so the bucket only ever sees ciphertext. Streaming AEAD in fixed-size
// chunks (the STREAM construction: per-chunk AES-256-GCM, a chunk counter in the nonce and a
// final-chunk flag in the authenticated data), so memory is bounded by one or two chunks whatever
// the snapshot's size, and a truncated, reordered or altered file is refused.
// The byte layout is specified in docs/backup-format.md; change both together.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const MAGIC = Buffer.from('MOORSNAP1', 'ascii');
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const MIN_CHUNK = 16, MAX_CHUNK = 64 * 1024 * 1024;
const TAG = 16, SALT = 32, PREFIX = 8, CHECK = 16;
const KEY_ID = /^[A-Za-z0-9._:@/+-]{1,128}$/;
const MAX_CHUNKS = 2 ** 32;

export type CryptoFailure = 'NotEncrypted' | 'UnsupportedFormat' | 'UnknownKey' | 'WrongKey' | 'Corrupt' | 'Truncated';

/** Why a file cannot be decrypted. Callers treat every byte already emitted as untrusted. */
export class SnapshotCryptoError extends Error {
  constructor(readonly failure: CryptoFailure, message: string) {
    super(message);
    this.name = 'SnapshotCryptoError';
  }
}

/** Returns the 32-byte key for a key id named in a file's header (may look it up asynchronously). */
export type KeyResolver = (keyId: string) => Buffer | Promise<Buffer>;

/** A key id derived from the key itself (HMAC, so it reveals nothing): stable, and no extra config. */
export function keyFingerprint(key: Buffer): string {
  checkKey(key);
  return `k1-${createHmac('sha256', key).update('mooring snapshot key id').digest('hex').slice(0, 16)}`;
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new TypeError('an AES-256 key is exactly 32 bytes');
}

// One master key, many files: each file gets its own keys from HKDF over a random salt, so nonces
// (random prefix + counter) can never repeat under one key, and the key check commits to the key
// (GCM alone does not, and "wrong key" deserves a clearer message than "corrupt").
function fileKeys(master: Buffer, salt: Buffer): { chunkKey: Buffer; checkKey: Buffer } {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, salt, info, 32));
  return { chunkKey: derive('MOORSNAP1 chunk key'), checkKey: derive('MOORSNAP1 key check') };
}

interface Header { keyId: string; chunkSize: number; salt: Buffer; prefix: Buffer; check: Buffer; bytes: Buffer }

function nonce(prefix: Buffer, counter: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, PREFIX);
  return n;
}

function aad(headerDigest: Buffer, final: boolean): Buffer {
  return Buffer.concat([headerDigest, Buffer.from([final ? 1 : 0])]);
}

function seal(key: Buffer, prefix: Buffer, digest: Buffer, counter: number, final: boolean, plain: Buffer): Buffer {
  if (counter >= MAX_CHUNKS) throw new RangeError('stream too long for one file (2^32 chunks)');
  const c = createCipheriv('aes-256-gcm', key, nonce(prefix, counter), { authTagLength: TAG });
  c.setAAD(aad(digest, final));
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function open(key: Buffer, prefix: Buffer, digest: Buffer, counter: number, final: boolean, record: Buffer): Buffer | undefined {
  const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, counter), { authTagLength: TAG });
  d.setAAD(aad(digest, final));
  d.setAuthTag(record.subarray(record.length - TAG));
  try {
    return Buffer.concat([d.update(record.subarray(0, record.length - TAG)), d.final()]);
  } catch {
    return undefined;
  }
}

/**
 * The random, public parts of one file's header (written in clear at its start). Given the same
 * key, parameters and plaintext, encryptStream produces the same bytes, which is what lets an
 * interrupted upload resume: the parts already stored are produced again, identical (and compared),
 * instead of being uploaded again. Never reuse them for a different plaintext: the nonces would
 * repeat under one key.
 */
export interface FileParams { salt: Buffer; noncePrefix: Buffer }

export function newFileParams(): FileParams {
  return { salt: randomBytes(SALT), noncePrefix: randomBytes(PREFIX) };
}

/** Encrypts a byte stream into the MOORSNAP1 format. `keyId` is written in clear into the header. */
export function encryptStream(key: Buffer, keyId: string = keyFingerprint(key), chunkSize = DEFAULT_CHUNK_SIZE, params: FileParams = newFileParams()): Transform {
  checkKey(key);
  if (!KEY_ID.test(keyId)) throw new TypeError(`key id ${JSON.stringify(keyId)}: use 1-128 of A-Z a-z 0-9 . _ : @ / + -`);
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) throw new RangeError(`chunk size ${chunkSize}: use ${MIN_CHUNK}..${MAX_CHUNK} bytes`);
  if (params.salt.length !== SALT || params.noncePrefix.length !== PREFIX) throw new RangeError(`file parameters: the salt is ${SALT} bytes and the nonce prefix ${PREFIX}`);
  const { salt, noncePrefix: prefix } = params;
  const { chunkKey, checkKey: ck } = fileKeys(key, salt);
  const id = Buffer.from(keyId, 'utf8');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(chunkSize);
  const unchecked = Buffer.concat([MAGIC, Buffer.from([id.length]), id, size, salt, prefix]);
  const header = Buffer.concat([unchecked, createHmac('sha256', ck).update(unchecked).digest().subarray(0, CHECK)]);
  const digest = createHash('sha256').update(header).digest();

  // A full chunk is held back until one more byte arrives: only then is it known not to be the last.
  const cur = Buffer.allocUnsafe(chunkSize);
  let fill = 0, counter = 0, started = false;
  const start = (t: Transform) => { if (!started) { started = true; t.push(header); } };
  return new Transform({
    transform(data: Buffer, _enc, done: TransformCallback) {
      try {
        start(this);
        let at = 0;
        while (at < data.length) {
          if (fill === chunkSize) {
            this.push(seal(chunkKey, prefix, digest, counter++, false, cur));
            fill = 0;
          }
          const n = Math.min(chunkSize - fill, data.length - at);
          data.copy(cur, fill, at, at + n);
          fill += n;
          at += n;
        }
        done();
      } catch (err) { done(err as Error); }
    },
    flush(done: TransformCallback) {
      try {
        start(this);
        this.push(seal(chunkKey, prefix, digest, counter++, true, cur.subarray(0, fill)));
        done();
      } catch (err) { done(err as Error); }
    },
  });
}

/** Bytes received but not yet consumed, without copying until a record is taken. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void { if (b.length) { this.parts.push(b); this.length += b.length; } }
  peek(n: number): Buffer { return this.take(n, false); }
  take(n: number, consume = true): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0, i = 0, off = 0;
    while (at < n) {
      const p = this.parts[i]!;
      const k = Math.min(p.length - off, n - at);
      p.copy(out, at, off, off + k);
      at += k;
      off += k;
      if (off === p.length) { i += 1; off = 0; }
    }
    if (consume) {
      this.parts = this.parts.slice(i);
      if (off) this.parts[0] = this.parts[0]!.subarray(off);
      this.length -= n;
    }
    return out;
  }
}

function parseHeader(q: ByteQueue): Header | undefined {
  if (q.length < MAGIC.length + 1) return undefined;
  const start = q.peek(MAGIC.length + 1);
  if (!start.subarray(0, MAGIC.length).equals(MAGIC)) {
    const isOurs = start.subarray(0, 8).equals(MAGIC.subarray(0, 8));
    throw new SnapshotCryptoError(isOurs ? 'UnsupportedFormat' : 'NotEncrypted', isOurs
      ? `unsupported format ${JSON.stringify(start.subarray(0, MAGIC.length).toString('latin1'))}: this Mooring reads MOORSNAP1; upgrade Mooring to read it`
      : 'not a Mooring encrypted snapshot (no MOORSNAP1 header): was it uploaded unencrypted, or is it another file?');
  }
  const idLen = start[MAGIC.length]!;
  const total = MAGIC.length + 1 + idLen + 4 + SALT + PREFIX + CHECK;
  if (q.length < total) return undefined;
  const bytes = q.take(total);
  let at = MAGIC.length + 1;
  const keyId = bytes.subarray(at, at += idLen).toString('utf8');
  const chunkSize = bytes.readUInt32BE(at); at += 4;
  const salt = bytes.subarray(at, at += SALT);
  const prefix = bytes.subarray(at, at += PREFIX);
  const check = bytes.subarray(at, at += CHECK);
  if (!KEY_ID.test(keyId) || chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) throw new SnapshotCryptoError('Corrupt', 'the header is corrupt (key id or chunk size out of range)');
  return { keyId, chunkSize, salt, prefix, check, bytes };
}

/**
 * Decrypts a MOORSNAP1 stream; the key is looked up by the key id in the header. Plaintext is
 * emitted only chunk by authenticated chunk; any failure errors the stream with a
 * SnapshotCryptoError, and output already emitted must then be discarded (write to a temporary
 * file and rename it only after the stream ended cleanly).
 */
export function decryptStream(keyResolver: KeyResolver): Transform {
  const q = new ByteQueue();
  let h: Header | undefined;
  let keys: { chunkKey: Buffer; digest: Buffer } | undefined;
  let counter = 0;

  async function ready(): Promise<boolean> {
    if (keys) return true;
    h ??= parseHeader(q);
    if (!h) return false;
    let master: Buffer;
    try {
      master = await keyResolver(h.keyId);
    } catch (err) {
      throw new SnapshotCryptoError('UnknownKey', `no key for key id ${h.keyId}: ${(err as Error).message}`);
    }
    if (!Buffer.isBuffer(master) || master.length !== 32) throw new SnapshotCryptoError('UnknownKey', `the key given for key id ${h.keyId} is not 32 bytes`);
    const { chunkKey, checkKey: ck } = fileKeys(master, h.salt);
    const expect = createHmac('sha256', ck).update(h.bytes.subarray(0, h.bytes.length - CHECK)).digest().subarray(0, CHECK);
    if (!timingSafeEqual(expect, h.check)) {
      throw new SnapshotCryptoError('WrongKey', `wrong key for key id ${h.keyId}: the key given does not match this file (or its header was altered)`);
    }
    keys = { chunkKey, digest: createHash('sha256').update(h.bytes).digest() };
    return true;
  }

  const fail = (final: boolean) => new SnapshotCryptoError('Corrupt', final
    ? `the last chunk (${counter}) failed authentication: the file is corrupt, altered, cut inside a chunk or has bytes appended`
    : `chunk ${counter} failed authentication: the file is corrupt, altered or its chunks reordered`);

  return new Transform({
    transform(data: Buffer, _enc, done: TransformCallback) {
      q.push(data);
      ready().then((ok) => {
        if (!ok) return done();
        const record = h!.chunkSize + TAG;
        // Only a record followed by more bytes is known not to be the last one.
        while (q.length > record) {
          const plain = open(keys!.chunkKey, h!.prefix, keys!.digest, counter, false, q.take(record));
          if (!plain) throw fail(false);
          counter += 1;
          this.push(plain);
        }
        done();
      }).catch((err: Error) => done(err));
    },
    flush(done: TransformCallback) {
      ready().then((ok) => {
        if (!ok) throw new SnapshotCryptoError('Truncated', 'the file ends inside its header: it was truncated');
        if (q.length < TAG) {
          throw new SnapshotCryptoError('Truncated', counter === 0 ? 'the file ends after its header, before any chunk: it was truncated'
            : `the file ends after chunk ${counter - 1} without its final chunk: it was truncated`);
        }
        const rest = q.take(q.length);
        const plain = open(keys!.chunkKey, h!.prefix, keys!.digest, counter, true, rest);
        if (plain) { this.push(plain); return done(); }
        // Authentic but not marked final: the file was cut at a chunk boundary.
        if (open(keys!.chunkKey, h!.prefix, keys!.digest, counter, false, rest)) {
          throw new SnapshotCryptoError('Truncated', `the file ends after chunk ${counter}, which is not the final chunk: it was truncated`);
        }
        throw fail(true);
      }).catch((err: Error) => done(err));
    },
  });
}
