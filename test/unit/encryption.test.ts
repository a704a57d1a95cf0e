// Streaming snapshot encryption: round trips at every chunk edge, every kind of tampering refused
// with the right failure, keys from secret references, and memory bounded by the chunk size on a
// 200 MB stream (a sanity bound, not a timing test).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import { DEFAULT_CHUNK_SIZE, SnapshotCryptoError, decryptStream, encryptStream, keyFingerprint, type KeyResolver } from '../../activities/backup/encryption.js';
import { resolveKey256, resolveSecret, resolveSecretString } from '../../activities/secrets.js';

const KEY = randomBytes(32);
const KEY_ID = 'lab-key-2026';
const HEADER = 9 + 1 + KEY_ID.length + 4 + 32 + 8 + 16;
const TAG = 16;

async function collect(src: Readable | Iterable<Buffer>, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, done) { parts.push(c); done(); } });
  const source = src instanceof Readable ? src : Readable.from(src);
  await (pipeline as (...s: unknown[]) => Promise<void>)(source, ...stages, sink);
  return Buffer.concat(parts);
}

/** `data` cut into writes of an awkward size, so chunk boundaries never line up with writes. */
function pieces(data: Buffer, size = 7777): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

const encrypt = (data: Buffer, chunk?: number, key = KEY) => collect(pieces(data), encryptStream(key, KEY_ID, chunk));
const decrypt = (data: Buffer, keys: KeyResolver = (id) => (id === KEY_ID ? KEY : Promise.reject(new Error(`unknown key id ${id}`)))) =>
  collect(pieces(data, 65_536), decryptStream(keys));

async function refused(data: Buffer, failure: SnapshotCryptoError['failure'], message: RegExp, keys?: KeyResolver): Promise<void> {
  await assert.rejects(decrypt(data, keys), (err: unknown) => {
    assert.ok(err instanceof SnapshotCryptoError, `expected SnapshotCryptoError, got ${String(err)}`);
    assert.equal(err.failure, failure);
    assert.match(err.message, message);
    return true;
  });
}

describe('encryptStream / decryptStream', () => {
  const C = DEFAULT_CHUNK_SIZE;
  for (const [name, size] of [['0', 0], ['1', 1], ['chunk-1', C - 1], ['chunk', C], ['chunk+1', C + 1], ['5 chunks+3', 5 * C + 3]] as const) {
    it(`round trip of ${name} bytes, with the documented length`, async () => {
      const plain = randomBytes(size);
      const sealed = await encrypt(plain);
      const chunks = size === 0 ? 1 : Math.ceil(size / C);
      assert.equal(sealed.length, HEADER + size + chunks * TAG);
      assert.equal(sealed.subarray(0, 9).toString('latin1'), 'MOORSNAP1');
      assert.equal(sealed.subarray(10, 10 + KEY_ID.length).toString(), KEY_ID);
      if (size >= 64) assert.equal(sealed.indexOf(plain.subarray(0, 64)), -1, 'plaintext must not appear in the output');
      assert.ok((await decrypt(sealed)).equals(plain));
    });
  }

  it('round trip with a small chunk size, fed as one large write', async () => {
    const plain = randomBytes(10_000);
    const sealed = await collect([plain], encryptStream(KEY, KEY_ID, 64));
    assert.equal(sealed.length, HEADER + 10_000 + Math.ceil(10_000 / 64) * TAG);
    assert.ok((await collect([sealed], decryptStream(() => KEY))).equals(plain));
  });

  it('two encryptions of the same bytes differ (random salt and nonce prefix)', async () => {
    const plain = randomBytes(1000);
    assert.notDeepEqual(await encrypt(plain), await encrypt(plain));
  });

  // A 3-chunk file with 4 KiB chunks, to cut and shuffle.
  const CH = 4096, REC = CH + TAG;
  const three = randomBytes(2 * CH + 100);
  const sealedThree = () => collect([three], encryptStream(KEY, KEY_ID, CH));
  const rec = (buf: Buffer, i: number) => buf.subarray(HEADER + i * REC, HEADER + (i + 1) * REC);

  it('a flipped byte in a chunk, in a tag or in the header is refused', async () => {
    const sealed = await sealedThree();
    for (const at of [HEADER + 10, HEADER + REC + 5, HEADER + REC - 1, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      await refused(bad, 'Corrupt', /failed authentication/);
    }
    const salt = Buffer.from(sealed);
    salt[HEADER - 40]! ^= 0x80; // inside the salt: the key check no longer matches
    await refused(salt, 'WrongKey', /lab-key-2026/);
  });

  it('dropping the last chunk is refused as truncation', async () => {
    const sealed = await sealedThree();
    await refused(sealed.subarray(0, HEADER + 2 * REC), 'Truncated', /ends after chunk 1, which is not the final chunk/);
    await refused(sealed.subarray(0, HEADER), 'Truncated', /before any chunk/);
    await refused(sealed.subarray(0, HEADER - 3), 'Truncated', /inside its header/);
    await refused(sealed.subarray(0, sealed.length - 7), 'Corrupt', /last chunk \(2\) failed authentication/);
  });

  it('reordered or duplicated chunks are refused', async () => {
    const sealed = await sealedThree();
    const swapped = Buffer.concat([sealed.subarray(0, HEADER), rec(sealed, 1), rec(sealed, 0), sealed.subarray(HEADER + 2 * REC)]);
    await refused(swapped, 'Corrupt', /chunk 0 failed authentication/);
    const doubled = Buffer.concat([sealed.subarray(0, HEADER + REC), rec(sealed, 0), sealed.subarray(HEADER + REC)]);
    await refused(doubled, 'Corrupt', /chunk 1 failed authentication/);
  });

  it('bytes appended after the final chunk are refused', async () => {
    const sealed = await sealedThree();
    await refused(Buffer.concat([sealed, Buffer.from('x')]), 'Corrupt', /last chunk/);
  });

  it('a wrong key fails with a clear error naming the key id; an unknown key id says so', async () => {
    const sealed = await sealedThree();
    await refused(sealed, 'WrongKey', /^wrong key for key id lab-key-2026/, () => randomBytes(32));
    await refused(sealed, 'UnknownKey', /^no key for key id lab-key-2026: not in the key ring/, () => Promise.reject(new Error('not in the key ring')));
    await refused(sealed, 'UnknownKey', /is not 32 bytes/, () => Buffer.alloc(16));
  });

  it('a file that is not MOORSNAP1 is refused', async () => {
    await refused(Buffer.from('SQLite format 3\0 and then some bytes'), 'NotEncrypted', /not a Mooring encrypted snapshot/);
    await refused(Buffer.concat([Buffer.from('MOORSNAP2'), randomBytes(100)]), 'UnsupportedFormat', /MOORSNAP2/);
  });

  it('refuses bad keys, key ids and chunk sizes when encrypting', () => {
    assert.throws(() => encryptStream(Buffer.alloc(31), 'k'), /exactly 32 bytes/);
    assert.throws(() => encryptStream(KEY, 'has space'), /key id "has space"/);
    assert.throws(() => encryptStream(KEY, 'k', 1), /chunk size 1/);
  });

  it('the default key id is a fingerprint: stable per key, different across keys', () => {
    assert.equal(keyFingerprint(KEY), keyFingerprint(Buffer.from(KEY)));
    assert.notEqual(keyFingerprint(KEY), keyFingerprint(randomBytes(32)));
    assert.match(keyFingerprint(KEY), /^k1-[0-9a-f]{16}$/);
    assert.ok(!keyFingerprint(KEY).includes(KEY.toString('hex').slice(0, 8)));
  });

  it('memory stays bounded while 200 MB stream through encryption and decryption', async (t) => {
    const total = 200 * 1024 * 1024;
    const block = randomBytes(256 * 1024);
    let made = 0;
    const inHash = createHash('sha256'), outHash = createHash('sha256');
    const source = new Readable({
      read() {
        if (made >= total) return this.push(null);
        block.writeUInt32BE(made / block.length, 0); // every block differs
        inHash.update(block);
        made += block.length;
        this.push(Buffer.from(block));
      },
    });
    let outBytes = 0;
    const sink = new Writable({ write(c: Buffer, _e, done) { outHash.update(c); outBytes += c.length; done(); } });
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    try {
      await pipeline(source, encryptStream(KEY, KEY_ID), decryptStream(() => KEY), sink);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(outBytes, total);
    assert.equal(outHash.digest('hex'), inHash.digest('hex'));
    const growthMiB = (peak - before) / 1024 / 1024;
    // Buffering the stream would need > 200 MiB; a few chunks in flight need a few MiB. The bound
    // leaves room for allocator and GC slack.
    t.diagnostic(`rss growth ${growthMiB.toFixed(1)} MiB for ${total / 1024 / 1024} MiB streamed`);
    assert.ok(growthMiB < 96, `rss grew by ${growthMiB.toFixed(1)} MiB`);
  });
});

describe('secret references', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  const hex = KEY.toString('hex');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves a 256-bit key as raw bytes, hex or base64, from a file or the environment', async () => {
    writeFileSync(join(dir, 'raw'), KEY);
    writeFileSync(join(dir, 'hex'), `${hex}\n`);
    writeFileSync(join(dir, 'b64'), `${KEY.toString('base64')}\n`);
    for (const f of ['raw', 'hex', 'b64']) assert.ok((await resolveKey256({ file: join(dir, f) })).equals(KEY), f);
    process.env.MOORING_TEST_KEY = KEY.toString('base64url');
    assert.ok((await resolveKey256({ env: 'MOORING_TEST_KEY' })).equals(KEY));
    delete process.env.MOORING_TEST_KEY;
  });

  it('errors name the reference and the fix, never the value', async () => {
    writeFileSync(join(dir, 'short'), 'hunter2-not-a-key');
    await assert.rejects(resolveKey256({ file: join(dir, 'short') }, 'backup.encryptionKey'), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'SecretUnavailable');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /^backup\.encryptionKey \(file .*short\): is not a 256-bit key: use 32 random bytes/);
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
    await assert.rejects(resolveSecret({ env: 'MOORING_TEST_UNSET_VAR' }), /env MOORING_TEST_UNSET_VAR: is not set or empty: set MOORING_TEST_UNSET_VAR/);
    await assert.rejects(resolveSecret({ file: join(dir, 'missing') }, 'backup.objectStore.secretKey'), /secretKey \(file .*missing\): cannot be read \(ENOENT\)/);
    writeFileSync(join(dir, 'blank'), ' \n');
    await assert.rejects(resolveSecretString({ file: join(dir, 'blank') }), /holds only whitespace/);
  });

  it('text secrets lose the trailing newline a file usually has', async () => {
    writeFileSync(join(dir, 'access'), 'AKIAEXAMPLE\n');
    assert.equal(await resolveSecretString({ file: join(dir, 'access') }), 'AKIAEXAMPLE');
  });
});
