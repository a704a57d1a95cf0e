// The object store against a real SeaweedFS S3 server on loopback (with S3 authentication):
// buckets, multipart streaming of encrypted snapshots, metadata and manifests, the catalogue,
// download-decrypt round trips, refusal of bytes that are not the checked snapshot, deletion, and
// the failures an operator meets (wrong secret key, missing bucket, server down). Each result is
// also checked with a plain S3 client, not only through the code under test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { openObjectStore, type ObjectStore, type ObjectStoreSettings } from '../../activities/backup/object-store.js';
import { openDecryptedSnapshot, shipSnapshot, verifyRemoteSnapshot, type ShipCheckpoint } from '../../activities/backup/transfer.js';
import { isTrusted, snapshotKey, type SnapshotMetadata } from '../../activities/backup/snapshot-meta.js';
import { keyFingerprint } from '../../activities/backup/encryption.js';
import { startS3Server, type S3Server } from '../../lab/s3.js';
import { scratchDir } from '../helpers/scratch.js';

const MIB = 1024 * 1024;
const BUCKET = 'etcd-snapshots-test';

/** Deterministic pseudo-random bytes (AES-CTR keystream), generated on the fly. */
function generated(seed: string, total: number, block = 256 * 1024): Readable {
  const ctr = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  let made = 0;
  return new Readable({
    read() {
      if (made >= total) return this.push(null);
      const n = Math.min(block, total - made);
      made += n;
      this.push(ctr.update(Buffer.alloc(n)));
    },
  });
}
async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  await pipeline(stream, new Writable({ write(c: Buffer, _e, done) { h.update(c); bytes += c.length; done(); } }));
  return { sha256: h.digest('hex'), bytes };
}
function failure(type: string, retryable: boolean, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type, err.message);
    assert.equal(err.nonRetryable, !retryable, `nonRetryable for ${type}`);
    assert.match(err.message, message);
    return true;
  };
}

describe('object store on real SeaweedFS S3', () => {
  const dir = scratchDir('objstore-');
  const encryptionKey = randomBytes(32);
  const keyId = keyFingerprint(encryptionKey);
  const keys = (id: string) => (id === keyId ? encryptionKey : Promise.reject(new Error(`unknown key id ${id}`)));
  let server: S3Server;
  let settings: ObjectStoreSettings;
  let store: ObjectStore;
  let raw: S3Client;

  const meta = (over: Partial<SnapshotMetadata>): SnapshotMetadata => ({
    cluster: 'lab', member: 'etcd-1', revision: 1000, etcdVersion: '3.4.30', sha256: '0'.repeat(64),
    takenAt: '2026-11-20T10:00:00.000Z', keyId, verified: true, ...over,
  });

  before(async () => {
    server = await startS3Server({ dir: join(dir, 's3') });
    // Credentials by reference, as the inventory gives them: files the worker can read.
    writeFileSync(join(dir, 'access'), `${server.accessKey}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'secret'), `${server.secretKey}\n`, { mode: 0o600 });
    settings = { endpoint: server.endpoint, bucket: BUCKET, accessKey: { file: join(dir, 'access') }, secretKey: { file: join(dir, 'secret') } };
    store = await openObjectStore(settings, { partSize: 5 * MIB, queueSize: 2 });
    raw = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey } });
  });
  after(async () => {
    store?.close();
    raw?.destroy();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ensureBucket creates the bucket once and is idempotent', async () => {
    assert.deepEqual(await store.ensureBucket(), { created: true });
    assert.deepEqual(await store.ensureBucket(), { created: false });
    const names = ((await raw.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
    assert.deepEqual(names.filter((n) => n === BUCKET), [BUCKET]);
  });

  const bigSize = 64 * MIB + 12_345;
  const big = meta({ revision: 5000, takenAt: '2026-11-20T12:00:00.000Z' });
  const bigKey = snapshotKey('etcd/', big);
  let bigPlain: { sha256: string; bytes: number };

  it('streams a 64 MB encrypted snapshot as a multipart upload with its metadata and manifest', async () => {
    bigPlain = await sha256Of(generated('big', bigSize));
    big.sha256 = bigPlain.sha256;
    assert.equal(bigKey, 'etcd/lab/20261120T120000Z-etcd-1-r5000.db.enc');
    const put = await shipSnapshot(store, generated('big', bigSize), { key: bigKey, metadata: big, encryptionKey, expectedBytes: bigSize });
    // The server saw a multipart upload: its ETag ends in -<parts>, with ceil(size / 5 MiB) parts
    // (64 MiB + 12,345 bytes of plaintext, 65 chunk tags and a header: 12.8 parts of 5 MiB).
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: bigKey }));
    assert.match(head.ETag ?? '', /-13"$/);
    assert.equal(put.size, bigSize + 65 * 16 + 9 + 1 + keyId.length + 4 + 32 + 8 + 16);
    assert.equal(put.parts, 13);
    assert.equal(put.etag, head.ETag);
    assert.equal(head.ContentLength, put.size);
    assert.ok(put.size > bigSize, 'ciphertext carries a header and a tag per chunk');
    // The stored bytes' sha256, computed independently from a plain download.
    const stored = await sha256Of((await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: bigKey }))).Body as Readable);
    assert.deepEqual(stored, { sha256: put.storedSha256, bytes: put.size });
    // User metadata on the object, as any S3 tool shows it.
    assert.deepEqual(head.Metadata, {
      'mooring-format': 'MOORSNAP1', cluster: 'lab', member: 'etcd-1', revision: '5000', 'etcd-version': '3.4.30',
      sha256: bigPlain.sha256, 'taken-at': '2026-11-20T12:00:00.000Z', 'key-id': keyId, verified: 'true',
    });
  });

  it('reads the metadata back as a catalogue entry, stored hash included', async () => {
    const entry = await store.statSnapshot(bigKey);
    assert.ok(entry);
    const { uploadedAt, etag, ...rest } = entry;
    assert.ok(Date.parse(uploadedAt!) > Date.now() - 600_000);
    assert.match(etag!, /-13"$/);
    assert.deepEqual(rest, { ...big, key: bigKey, size: rest.size, storedSha256: rest.storedSha256, complete: true });
    assert.equal(await store.statSnapshot('etcd/lab/nothing-here.db.enc'), undefined);
  });

  it('downloads and decrypts to the same bytes; verification records the round trip', async () => {
    const { stream, entry } = await openDecryptedSnapshot(store, bigKey, keys);
    assert.equal(entry.sha256, bigPlain.sha256);
    assert.deepEqual(await sha256Of(stream), bigPlain);
    const rt = await verifyRemoteSnapshot(store, bigKey, keys);
    assert.deepEqual(rt, { key: bigKey, ok: true, plaintextBytes: bigSize });
    assert.equal((await store.statSnapshot(bigKey))?.roundTrip?.ok, true);
  });

  it('an inconclusive verification goes beside the last conclusive round trip, never replaces it; the next conclusive one clears it', async () => {
    await store.recordRoundTrip(bigKey, { ok: false, inconclusive: true, problem: 'etcdutl could not be started (ENOENT: not found)' });
    let entry = await store.statSnapshot(bigKey);
    assert.equal(entry?.roundTrip?.ok, true);
    assert.match(entry?.inconclusive?.problem ?? '', /ENOENT/);
    assert.equal(isTrusted(entry!), true);
    await verifyRemoteSnapshot(store, bigKey, keys);
    entry = await store.statSnapshot(bigKey);
    assert.equal(entry?.roundTrip?.ok, true);
    assert.equal(entry?.inconclusive, undefined);
  });

  it('never stores as good bytes that are not the checked snapshot (single PUT and multipart)', async () => {
    for (const [size, name] of [[100_000, 'small'], [12 * MIB, 'multipart']] as const) {
      const good = await sha256Of(generated(name, size));
      const m = meta({ sha256: good.sha256, takenAt: '2026-11-20T13:00:00.000Z', member: `etcd-${name === 'small' ? 2 : 3}` });
      const key = snapshotKey('etcd/', m);
      // The source delivers other bytes (a corrupt copy), then a truncated one.
      await assert.rejects(shipSnapshot(store, generated(`${name}-corrupt`, size), { key, metadata: m, encryptionKey }),
        failure('SnapshotDigestMismatch', false, /sha256 .* differs from the expected .*nothing was stored as good/));
      await assert.rejects(shipSnapshot(store, generated(name, size - 1), { key, metadata: m, encryptionKey, expectedBytes: size }),
        failure('SnapshotDigestMismatch', false, /bytes arrived, \d+ expected: truncated/));
      assert.equal(await store.statSnapshot(key), undefined, `${name}: no object left behind`);
      const pending = await raw.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      assert.deepEqual((pending.Uploads ?? []).filter((u) => u.Key === key), [], `${name}: the multipart upload was aborted`);
    }
  });

  it('lists the catalogue: complete snapshots, an unfinished upload marked as such, nothing foreign', async () => {
    const small = meta({ revision: 900, takenAt: '2026-11-19T10:00:00.000Z' });
    const smallData = randomBytes(3000);
    small.sha256 = createHash('sha256').update(smallData).digest('hex');
    await shipSnapshot(store, Readable.from([smallData]), { key: snapshotKey('etcd/', small), metadata: small, encryptionKey });
    // An upload that never committed: the object with its metadata, but no manifest.
    const orphan = meta({ revision: 950, takenAt: '2026-11-19T11:00:00.000Z' });
    const orphanKey = snapshotKey('etcd/', orphan);
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: orphanKey, Body: 'partial', Metadata: { cluster: 'lab', member: 'etcd-1', revision: '950', 'etcd-version': '3.4.30', sha256: orphan.sha256, 'taken-at': orphan.takenAt, 'key-id': keyId, verified: 'true' } }));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'etcd/lab/README.txt', Body: 'not a snapshot' }));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/x.db.enc', Body: 'elsewhere' }));

    const list = await store.listSnapshots('etcd/lab/');
    assert.deepEqual(list.map((e) => [e.key, e.revision, e.complete, e.verified]), [
      ['etcd/lab/20261119T100000Z-etcd-1-r900.db.enc', 900, true, true],
      [orphanKey, 950, false, false],
      [bigKey, 5000, true, true],
    ]);
    assert.equal(list[1]!.size, 'partial'.length);
    assert.equal(list[0]!.size, 9 + 1 + keyId.length + 4 + 32 + 8 + 16 + 3000 + 16);
  });

  it('detects a stored object altered in the bucket and records the failed verification', async () => {
    const m = meta({ revision: 1200, takenAt: '2026-11-21T10:00:00.000Z' });
    const data = randomBytes(50_000);
    m.sha256 = createHash('sha256').update(data).digest('hex');
    const key = snapshotKey('etcd/', m);
    await shipSnapshot(store, Readable.from([data]), { key, metadata: m, encryptionKey });
    const stored = Buffer.from(await (await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
    stored[stored.length - 100]! ^= 0xff;
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: stored }));
    const rt = await verifyRemoteSnapshot(store, key, keys);
    assert.equal(rt.ok, false);
    assert.match(rt.problem!, /stored object .*: sha256 [0-9a-f]{64} of the bytes that arrived differs/);
    const entry = await store.statSnapshot(key);
    assert.equal(entry?.roundTrip?.ok, false);
    assert.match(entry?.roundTrip?.problem ?? '', /differs/);
    // With the wrong key the failure names the key id, and the good snapshot is not marked bad.
    await assert.rejects(verifyRemoteSnapshot(store, bigKey, () => randomBytes(32)), failure('SnapshotWrongKey', false, new RegExp(`verification of ${bigKey}: wrong key for key id ${keyId}`)));
    assert.equal((await store.statSnapshot(bigKey))?.roundTrip?.ok, true);
    // A damaged manifest commits nothing: the snapshot drops to incomplete and unverified.
    const m2 = meta({ ...m, revision: 1300, sha256: createHash('sha256').update(data.subarray(1)).digest('hex') });
    const key2 = snapshotKey('etcd/', m2);
    await shipSnapshot(store, Readable.from([data.subarray(1)]), { key: key2, metadata: m2, encryptionKey });
    assert.deepEqual(await store.statSnapshot(key2).then((e) => [e?.complete, e?.verified]), [true, true]);
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${key2}.manifest.json`, Body: '{"format":"mooring-snapshot-manifest/1","key":"elsewhere"}' }));
    assert.deepEqual(await store.statSnapshot(key2).then((e) => [e?.complete, e?.verified]), [false, false]);
    await assert.rejects(openDecryptedSnapshot(store, key2, keys), failure('SnapshotIncomplete', false, /has no valid manifest: its upload never completed/));
  });

  it('deletes a snapshot with its manifest; deleting again succeeds', async () => {
    const key = 'etcd/lab/20261119T100000Z-etcd-1-r900.db.enc';
    await store.deleteSnapshot(key);
    assert.equal(await store.statSnapshot(key), undefined);
    await assert.rejects(raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${key}.manifest.json` })), { name: 'NotFound' });
    await store.deleteSnapshot(key);
    assert.ok(!(await store.listSnapshots('etcd/lab/')).some((e) => e.key === key));
    await assert.rejects(store.getSnapshotStream(key), failure('SnapshotNotFound', false, /no such object/));
  });

  // A worker killed mid-upload: its source stops after `parts` parts and its client is dropped,
  // so the multipart upload stays open with those parts, as after a SIGKILL.
  async function killedMidUpload(seed: string, size: number, m: SnapshotMetadata, parts: number): Promise<ShipCheckpoint> {
    const doomed = await openObjectStore(settings, { partSize: 5 * MIB, queueSize: 2 });
    let last: ShipCheckpoint | undefined;
    // Enough plaintext for `parts` parts and a little more, then nothing, ever.
    const stalling = Readable.from((async function* () {
      let passed = 0;
      for await (const c of generated(seed, size) as AsyncIterable<Buffer>) {
        if (passed > parts * 5 * MIB + MIB) break;
        passed += c.length;
        yield c;
      }
      await new Promise(() => undefined);
    })());
    void shipSnapshot(doomed, stalling, { key: snapshotKey('etcd/', m), metadata: m, encryptionKey, onCheckpoint: (c) => { last = c; } }).catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if ((last?.partsDone ?? 0) >= parts) { clearInterval(poll); resolve(); }
        else if (Date.now() - t0 > 60_000) { clearInterval(poll); reject(new Error(`only ${last?.partsDone} parts stored`)); }
      }, 20);
    });
    doomed.close();
    return last!;
  }
  const pendingUploads = async (key: string) => ((await raw.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).filter((u) => u.Key === key);

  it('a retry after a killed worker continues its multipart upload: stored parts are matched, not sent again', async () => {
    const size = 30 * MIB + 777;
    const m = meta({ revision: 7000, takenAt: '2026-11-22T10:00:00.000Z' });
    const plain = await sha256Of(generated('resume', size));
    m.sha256 = plain.sha256;
    const key = snapshotKey('etcd/', m);
    const cp = await killedMidUpload('resume', size, m, 3);
    assert.equal(cp.key, key);
    assert.ok(cp.partsDone >= 3);
    assert.equal((await pendingUploads(key)).length, 1, 'the killed attempt left its upload open');

    const checkpoints: ShipCheckpoint[] = [];
    const put = await shipSnapshot(store, generated('resume', size), { key, metadata: m, encryptionKey, expectedBytes: size, resume: cp, onCheckpoint: (c) => checkpoints.push(c) });
    assert.equal(put.resumedParts, cp.partsDone, `${put.resumedParts} parts taken over from the killed attempt`);
    assert.equal(checkpoints[0]?.uploadId, cp.uploadId, 'the same multipart upload was continued');
    assert.equal(put.parts, Math.ceil(put.size / (5 * MIB)));
    assert.deepEqual(await pendingUploads(key), [], 'no unfinished upload left');
    // The object is whole: plain download, decrypt, the snapshot's own sha256.
    const { stream } = await openDecryptedSnapshot(store, key, keys);
    assert.deepEqual(await sha256Of(stream), plain);
    const stored = await sha256Of((await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body as Readable);
    assert.deepEqual(stored, { sha256: put.storedSha256, bytes: put.size });
  });

  it('a checkpoint whose parts do not match is aborted (no parts left), and the next attempt starts over', async () => {
    const size = 20 * MIB;
    const m = meta({ revision: 7100, takenAt: '2026-11-22T11:00:00.000Z' });
    m.sha256 = (await sha256Of(generated('mismatch', size))).sha256;
    const key = snapshotKey('etcd/', m);
    const cp = await killedMidUpload('mismatch', size, m, 2);
    // Other header parameters produce other bytes: part 1 cannot match.
    const wrong = { ...cp, salt: randomBytes(32).toString('hex') };
    await assert.rejects(shipSnapshot(store, generated('mismatch', size), { key, metadata: m, encryptionKey, resume: wrong }),
      failure('ObjectStoreError', true, /part 1 of the unfinished upload .* differs from the bytes produced again: starting over/));
    assert.deepEqual(await pendingUploads(key), [], 'the mismatched upload was aborted');
    const put = await shipSnapshot(store, generated('mismatch', size), { key, metadata: m, encryptionKey, resume: wrong });
    assert.equal(put.resumedParts, undefined, 'a new upload, nothing taken over');
    assert.equal((await store.statSnapshot(key))?.complete, true);
  });

  it('an upload left by a worker killed before its first checkpoint is aborted by the next upload of the key', async () => {
    const size = 12 * MIB;
    const m = meta({ revision: 7200, takenAt: '2026-11-22T12:00:00.000Z' });
    m.sha256 = (await sha256Of(generated('orphan-parts', size))).sha256;
    const key = snapshotKey('etcd/', m);
    await killedMidUpload('orphan-parts', size, m, 1);
    assert.equal((await pendingUploads(key)).length, 1);
    await shipSnapshot(store, generated('orphan-parts', size), { key, metadata: m, encryptionKey });
    assert.deepEqual(await pendingUploads(key), [], 'the orphaned parts were aborted');
  });

  it('a wrong secret key is refused with a clear, non-retryable error that names the references only', async () => {
    writeFileSync(join(dir, 'wrong-secret'), 'definitely-not-the-secret\n');
    const bad = await openObjectStore({ ...settings, secretKey: { file: join(dir, 'wrong-secret') } }, { maxAttempts: 1 });
    try {
      await assert.rejects(bad.listSnapshots('etcd/'), (err: unknown) => {
        failure('ObjectStoreAuthFailed', false, /SignatureDoesNotMatch.*check backup\.objectStore\.accessKey \(file .*access\) and secretKey \(file .*wrong-secret\)/)(err);
        assert.ok(!(err as Error).message.includes('definitely-not-the-secret'));
        return true;
      });
    } finally {
      bad.close();
    }
  });

  it('a missing bucket is named, with the fix', async () => {
    const other = await openObjectStore({ ...settings, bucket: 'no-such-bucket-here' }, { maxAttempts: 1 });
    try {
      const m = meta({ sha256: createHash('sha256').update('x').digest('hex') });
      await assert.rejects(shipSnapshot(other, Readable.from([Buffer.from('x')]), { key: snapshotKey('etcd/', m), metadata: m, encryptionKey }),
        failure('BucketNotFound', false, /bucket no-such-bucket-here: upload of .*: the bucket does not exist; create it/));
    } finally {
      other.close();
    }
  });

  it('a server that is down gives a clear, retryable error', async () => {
    await server.stop();
    const down = await openObjectStore(settings, { maxAttempts: 1 });
    try {
      await assert.rejects(down.listSnapshots('etcd/'), failure('ObjectStoreUnavailable', true, new RegExp(`object store ${server.endpoint}.*cannot reach the server \\(ECONNREFUSED\\)`)));
      await assert.rejects(down.ensureBucket(), failure('ObjectStoreUnavailable', true, /cannot reach/));
    } finally {
      down.close();
    }
  });
});
