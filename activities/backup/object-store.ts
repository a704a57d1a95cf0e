// The off-site copy of etcd snapshots: any S3-compatible store (AWS, Ceph RGW, SeaweedFS, MinIO,
// Garage), addressed path-style because most of them do not serve virtual-host buckets.
// Uploads stream: lib-storage's Upload cuts the stream into parts and holds at most
// queueSize × partSize bytes, whatever the snapshot's size. Credentials come from secret references,
// resolved here; every failure is an ApplicationFailure that says what to do (object-store-errors.ts).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand, type _Object, type CompletedPart,
} from '@aws-sdk/client-s3';
import type { ApplicationFailure } from '@temporalio/activity';
import { resolveSecretString, type SecretRef } from '../secrets.js';
import { DigestStream } from './digest.js';
import { explainStoreError, type StoreContext } from './object-store-errors.js';
import {
  MANIFEST_FORMAT, MANIFEST_SUFFIX, checkMetadata, checkObjectKey, fromUserMetadata, parseManifest, toUserMetadata,
  type Manifest, type SnapshotMetadata, type StoredSnapshot,
} from './snapshot-meta.js';

/** The inventory's `backup.objectStore` section. */
export interface ObjectStoreSettings {
  endpoint: string;
  bucket: string;
  region?: string;
  accessKey: SecretRef;
  secretKey: SecretRef;
}

export interface ObjectStoreTuning {
  /** Multipart part size (S3's minimum is 5 MiB). Default 16 MiB: up to 160 GB in 10,000 parts. */
  partSize?: number;
  /** Parts in flight at once. Memory ≈ partSize × (queueSize + 1). Default 2. */
  queueSize?: number;
  /** Attempts per request inside the SDK; Temporal retries the activity on top. Default 3. */
  maxAttempts?: number;
  /** Per-request socket timeout. Default 60 s. */
  requestTimeoutMs?: number;
}

const MIB = 1024 * 1024;

/** `stream` cut into buffers of exactly `size` bytes, the last one shorter (at least one, maybe empty). */
async function* partsOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let length = 0;
  let any = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let c = chunk;
    while (length + c.length >= size) {
      const take = size - length;
      held.push(c.subarray(0, take));
      c = c.subarray(take);
      yield Buffer.concat(held, size);
      any = true;
      held = [];
      length = 0;
    }
    if (c.length) { held.push(c); length += c.length; }
  }
  if (length || !any) yield Buffer.concat(held, length);
}

async function nextOf(it: AsyncGenerator<Buffer>): Promise<Buffer | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

export interface PutResult extends StoredSnapshot {
  storedSha256: string;
  /** Parts of a multipart upload (from the ETag's "-N"), 1 for a single PUT. */
  parts: number;
  /** Parts an earlier attempt had stored, found with ListParts, matched byte for byte and not sent again. */
  resumedParts?: number;
}

/** Where an interrupted multipart upload stands: enough for a retry to continue it (see putSnapshot). */
export interface UploadCheckpoint {
  key: string;
  uploadId: string;
  partSize: number;
  /** Parts 1…partsDone are stored (a hint: ListParts is the truth). */
  partsDone: number;
}

export interface PutOptions {
  signal?: AbortSignal;
  /** An earlier attempt's upload of the same bytes, to continue instead of starting over. */
  resume?: UploadCheckpoint;
  /** Called whenever the upload's checkpoint moves (new upload, each part stored); heartbeat it. */
  onCheckpoint?: (c: UploadCheckpoint) => void;
}

/** Opens a client; secrets are resolved now and live only inside the S3 client. */
export async function openObjectStore(settings: ObjectStoreSettings, tuning: ObjectStoreTuning = {}): Promise<ObjectStore> {
  const [accessKeyId, secretAccessKey] = await Promise.all([
    resolveSecretString(settings.accessKey, 'backup.objectStore.accessKey'),
    resolveSecretString(settings.secretKey, 'backup.objectStore.secretKey'),
  ]);
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: tuning.maxAttempts ?? 3,
    // Newer SDKs add CRC checksums to every upload by default; several S3-compatible servers reject
    // or ignore them. We carry our own sha256 of the stored bytes in the manifest instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5000, requestTimeout: tuning.requestTimeoutMs ?? 60_000 },
  });
  return new ObjectStore(client, settings, tuning);
}

export class ObjectStore {
  private readonly ctx: StoreContext;
  private readonly bucket: string;

  constructor(private readonly client: S3Client, settings: ObjectStoreSettings, private readonly tuning: ObjectStoreTuning) {
    this.bucket = settings.bucket;
    this.ctx = { endpoint: settings.endpoint, bucket: settings.bucket, accessKey: settings.accessKey, secretKey: settings.secretKey };
    const part = tuning.partSize ?? 16 * MIB;
    if (!Number.isInteger(part) || part < 5 * MIB) throw new RangeError(`partSize ${part}: S3 needs at least 5 MiB (${5 * MIB} bytes) per part`);
  }

  /** An error met while using this store, as a failure that says what to do (and if retrying helps). */
  explain(err: unknown, op: string): ApplicationFailure {
    return explainStoreError(err, this.ctx, op);
  }

  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.explain(err, op);
    }
  }

  /** Creates the bucket unless it exists. Returns whether it was created. Idempotent. */
  async ensureBucket(signal?: AbortSignal): Promise<{ created: boolean }> {
    return this.run('create bucket', async () => {
      if (await this.bucketExists(signal)) return { created: false };
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
        return { created: true };
      } catch (err) {
        // Someone else made it between our look and our create.
        if ((err as Error).name === 'BucketAlreadyOwnedByYou') return { created: false };
        throw err;
      }
    });
  }

  private async bucketExists(signal?: AbortSignal): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
      return true;
    } catch (err) {
      if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchBucket') return false;
      throw err;
    }
  }

  /**
   * Streams `body` (already encrypted) to `key` with `metadata` as user metadata, then commits it
   * by writing its manifest. A body smaller than one part goes up in one PUT; a larger one as a
   * multipart upload, at most queueSize parts in flight. If `body` errors (e.g. a digest check
   * failing at its end) or the activity is cancelled, the multipart upload is aborted and nothing
   * is committed. A worker killed mid-upload cannot abort: its retry passes the checkpoint it
   * heartbeated as `resume`, and the parts the server lists for that upload (ListParts) are not
   * sent again: the body, produced again, must match each of them (size, and MD5 where the ETag is
   * one), else that upload is aborted and this attempt fails (retryable) so the next starts over.
   * Any other unfinished upload of the same key (a worker killed before its first checkpoint) is
   * aborted, so no orphaned parts are left in the bucket.
   */
  async putSnapshot(body: Readable, key: string, metadata: SnapshotMetadata, o: PutOptions = {}): Promise<PutResult> {
    checkObjectKey(key);
    checkMetadata(metadata);
    const signal = o.signal;
    return this.run(`upload of ${key}`, async () => {
      // PUT into a missing bucket fails obscurely on some servers (SeaweedFS: 500); say it plainly.
      if (!(await this.bucketExists(signal))) throw Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket' });
      const stored = new DigestStream({ what: key });
      let sourceError: Error | undefined;
      pipeline(body, stored, (err) => { if (err) sourceError = err; });
      const partSize = this.tuning.partSize ?? 16 * MIB;
      const common = { Bucket: this.bucket, Key: key };
      let upload: { id: string; stored: Map<number, { etag: string; size: number }> } | undefined;
      const parts: CompletedPart[] = [];
      let resumed = 0;
      try {
        const reader = partsOf(stored, partSize);
        const first = await reader.next();
        const firstPart = first.done ? Buffer.alloc(0) : first.value;
        const onlyPart = firstPart.length < partSize && !o.resume;
        if (onlyPart) {
          // Whole body read (and its digests checked at its end) before anything is sent.
          if (!(await reader.next()).done) throw new Error('internal: a short part before the end');
          await this.abortOtherUploads(key, undefined, signal);
          const put = await this.client.send(new PutObjectCommand({ ...common, Body: firstPart, Metadata: toUserMetadata(metadata), ContentType: 'application/octet-stream' }), { abortSignal: signal });
          return await this.commit(key, metadata, stored, put.ETag, 1, 0, signal);
        }
        upload = await this.openUpload(key, metadata, partSize, o, signal);
        await this.abortOtherUploads(key, upload.id, signal);
        const inFlight = new Set<Promise<void>>();
        let failed: unknown;
        let n = 0;
        const checkpoint = () => {
          let done = 0;
          while (parts[done]?.ETag) done += 1;
          o.onCheckpoint?.({ key, uploadId: upload!.id, partSize, partsDone: done });
        };
        const send = (partNumber: number, data: Buffer) => {
          const p = this.client.send(new UploadPartCommand({ ...common, UploadId: upload!.id, PartNumber: partNumber, Body: data }), { abortSignal: signal })
            .then((r) => { parts[partNumber - 1] = { PartNumber: partNumber, ETag: r.ETag }; checkpoint(); })
            .catch((err: unknown) => { failed ??= err; })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        };
        for (let part: Buffer | undefined = firstPart; part; part = await nextOf(reader)) {
          n += 1;
          const have = upload.stored.get(n);
          if (have) {
            // Stored by an earlier attempt: the same bytes must come out again, else stop here.
            const md5 = createHash('md5').update(part).digest('hex');
            const etag = have.etag.replace(/"/g, '');
            if (have.size !== part.length || (/^[0-9a-f]{32}$/.test(etag) && etag !== md5)) {
              throw Object.assign(new Error(`part ${n} of the unfinished upload ${upload.id} differs from the bytes produced again: starting over`), { name: 'ResumeMismatch' });
            }
            parts[n - 1] = { PartNumber: n, ETag: have.etag };
            resumed += 1;
            continue;
          }
          if (failed) break;
          send(n, part);
          // Memory stays at queueSize parts in flight plus the one being read.
          while (inFlight.size >= (this.tuning.queueSize ?? 2)) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
        if (failed) throw failed;
        if (sourceError) throw sourceError;
        checkpoint();
        const done = await this.client.send(new CompleteMultipartUploadCommand({ ...common, UploadId: upload.id, MultipartUpload: { Parts: parts } }), { abortSignal: signal });
        upload = undefined;
        return await this.commit(key, metadata, stored, done.ETag, n, resumed, signal);
      } catch (err) {
        // The source's own error (e.g. DigestMismatch) explains more than the upload's echo of it;
        // taken now, before destroying the streams makes the pipeline report a premature close.
        const cause = sourceError ?? err;
        body.destroy();
        stored.destroy();
        // Bad bytes, a mismatch on resume or a cancellation: nothing of this upload may stay.
        // Other failures too, when the store still answers; a worker that dies cannot abort, and
        // its retry continues or aborts the upload instead.
        if (upload) await this.client.send(new AbortMultipartUploadCommand({ ...common, UploadId: upload.id })).catch(() => undefined);
        throw cause;
      }
    });
  }

  // The upload to continue (its stored parts from ListParts), or a new one.
  private async openUpload(key: string, metadata: SnapshotMetadata, partSize: number, o: PutOptions, signal?: AbortSignal): Promise<{ id: string; stored: Map<number, { etag: string; size: number }> }> {
    const r = o.resume;
    if (r && r.key === key && r.partSize === partSize) {
      try {
        const listed = new Map<number, { etag: string; size: number }>();
        let marker: string | undefined;
        do {
          const page = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: r.uploadId, PartNumberMarker: marker }), { abortSignal: signal });
          for (const p of page.Parts ?? []) if (p.PartNumber && p.ETag) listed.set(p.PartNumber, { etag: p.ETag, size: p.Size ?? -1 });
          marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
        } while (marker);
        // Only whole parts from 1 on count: a gap is sent again.
        const stored = new Map<number, { etag: string; size: number }>();
        for (let n = 1; listed.get(n)?.size === partSize; n++) stored.set(n, listed.get(n)!);
        o.onCheckpoint?.({ key, uploadId: r.uploadId, partSize, partsDone: stored.size });
        return { id: r.uploadId, stored };
      } catch (err) {
        // Aborted, completed or expired meanwhile: start a new upload.
        if ((err as Error).name !== 'NoSuchUpload') throw err;
      }
    }
    const created = await this.client.send(new CreateMultipartUploadCommand({
      Bucket: this.bucket, Key: key, Metadata: toUserMetadata(metadata), ContentType: 'application/octet-stream',
    }), { abortSignal: signal });
    if (!created.UploadId) throw new Error('the server started a multipart upload without an UploadId');
    o.onCheckpoint?.({ key, uploadId: created.UploadId, partSize, partsDone: 0 });
    return { id: created.UploadId, stored: new Map() };
  }

  /** Aborts every unfinished multipart upload of exactly `key` except `keep`. */
  private async abortOtherUploads(key: string, keep: string | undefined, signal?: AbortSignal): Promise<void> {
    const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }), { abortSignal: signal });
    for (const u of page.Uploads ?? []) {
      if (u.Key === key && u.UploadId && u.UploadId !== keep) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: u.UploadId }), { abortSignal: signal });
      }
    }
  }

  private async commit(key: string, metadata: SnapshotMetadata, stored: DigestStream, etag: string | undefined, parts: number, resumed: number, signal?: AbortSignal): Promise<PutResult> {
    const manifest: Manifest = {
      format: MANIFEST_FORMAT, key, ...metadata, size: stored.bytes, storedSha256: stored.sha256,
      ...(etag ? { etag } : {}), uploadedAt: new Date().toISOString(),
    };
    await this.writeManifest(manifest, signal);
    return { ...manifestToEntry(manifest), storedSha256: stored.sha256, parts, ...(resumed ? { resumedParts: resumed } : {}) };
  }

  private async writeManifest(m: Manifest, signal?: AbortSignal): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key: m.key + MANIFEST_SUFFIX, Body: JSON.stringify(m, null, 2), ContentType: 'application/json',
    }), { abortSignal: signal });
  }

  /**
   * Records the result of a download-decrypt-compare in the manifest (see transfer.ts). An
   * inconclusive check (the verifier could not run it) goes beside the last conclusive one and
   * never replaces it; a conclusive one clears it.
   */
  async recordRoundTrip(key: string, result: { ok: boolean; problem?: string; inconclusive?: boolean }, signal?: AbortSignal): Promise<void> {
    checkObjectKey(key);
    await this.run(`recording the verification of ${key}`, async () => {
      const m = await this.readManifest(key, signal);
      if (!m) throw Object.assign(new Error('no manifest'), { name: 'NoSuchKey' });
      const at = new Date().toISOString();
      const next: Manifest = result.inconclusive
        ? { ...m, inconclusive: { at, problem: result.problem ?? 'the check could not be run' } }
        : { ...m, roundTrip: { ok: result.ok, at, ...(result.problem ? { problem: result.problem } : {}) } };
      if (!result.inconclusive) delete next.inconclusive;
      await this.writeManifest(next, signal);
    });
  }

  private async readManifest(key: string, signal?: AbortSignal): Promise<Manifest | undefined> {
    let text: string;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key + MANIFEST_SUFFIX }), { abortSignal: signal });
      text = await r.Body!.transformToString('utf8');
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
    try {
      return parseManifest(text, key);
    } catch {
      // A damaged manifest commits nothing: the snapshot is listed as incomplete, never restored.
      return undefined;
    }
  }

  /** One catalogue entry, or undefined when no such object exists (look before you upload). */
  async statSnapshot(key: string, signal?: AbortSignal): Promise<StoredSnapshot | undefined> {
    checkObjectKey(key);
    return this.run(`looking up ${key}`, () => this.entryFor(key, undefined, signal));
  }

  // The manifest when it exists and matches the object (a complete upload); otherwise the object's
  // own user metadata, marked incomplete and unverified. A listed object needs no HEAD when its
  // manifest matches the listed size.
  private async entryFor(key: string, listed: _Object | undefined, signal?: AbortSignal): Promise<StoredSnapshot | undefined> {
    let m = listed ? await this.readManifest(key, signal) : undefined;
    if (m && m.size === listed?.Size) return manifestToEntry(m);
    let size: number | undefined;
    let meta: SnapshotMetadata | undefined;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      size = head.ContentLength;
      meta = fromUserMetadata(head.Metadata);
    } catch (err) {
      if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
    if (!listed) m = await this.readManifest(key, signal);
    if (m && m.size === size) return manifestToEntry(m);
    if (!meta) return undefined; // not a Mooring snapshot
    return { ...meta, key, size: size ?? 0, verified: false, complete: false };
  }

  /**
   * The remote catalogue under `prefix`, oldest first: one LIST page per 1000 objects, then one
   * small GET (the manifest) per snapshot, a few at a time; a HEAD only where the manifest is missing.
   */
  async listSnapshots(prefix: string, signal?: AbortSignal): Promise<StoredSnapshot[]> {
    return this.run(`listing ${prefix || '(all)'}`, async () => {
      const objects: _Object[] = [];
      let token: string | undefined;
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
        objects.push(...(page.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith(MANIFEST_SUFFIX)));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      const out: StoredSnapshot[] = [];
      for (let i = 0; i < objects.length; i += 8) {
        const batch = await Promise.all(objects.slice(i, i + 8).map((o) => this.entryFor(o.Key!, o, signal)));
        out.push(...batch.filter((e): e is StoredSnapshot => e !== undefined));
      }
      return out.sort((a, b) => Date.parse(a.takenAt) - Date.parse(b.takenAt) || a.key.localeCompare(b.key));
    });
  }

  /** The stored (encrypted) bytes; pipe them through decryptStream. */
  async getSnapshotStream(key: string, signal?: AbortSignal): Promise<{ stream: Readable; size: number }> {
    checkObjectKey(key);
    return this.run(`download of ${key}`, async () => {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { stream: r.Body as Readable, size: r.ContentLength ?? 0 };
    });
  }

  /** Deletes the object, then its manifest. Idempotent: deleting what is gone succeeds. */
  async deleteSnapshot(key: string, signal?: AbortSignal): Promise<void> {
    checkObjectKey(key);
    await this.run(`deletion of ${key}`, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key + MANIFEST_SUFFIX }), { abortSignal: signal });
    });
  }

  /**
   * A lease says "a restore or verification reads this snapshot until `expiresAt`": retention in
   * any run, from any machine, keeps leased snapshots. One lease per holder (a workflow ID);
   * writing it again renews it. Leases live outside the snapshot prefix, so listings ignore them.
   */
  async putLease(cluster: string, holder: string, key: string, expiresAt: Date, signal?: AbortSignal): Promise<void> {
    checkObjectKey(key);
    const lease: Lease = { key, holder, expiresAt: expiresAt.toISOString() };
    await this.run(`lease on ${key}`, () => this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key: leaseKey(cluster, holder), Body: JSON.stringify(lease), ContentType: 'application/json',
    }), { abortSignal: signal }));
  }

  async dropLease(cluster: string, holder: string, signal?: AbortSignal): Promise<void> {
    await this.run(`releasing the lease of ${holder}`, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: leaseKey(cluster, holder) }), { abortSignal: signal }));
  }

  /** Leases of `cluster` not yet expired at `now`. */
  async activeLeases(cluster: string, now: Date, signal?: AbortSignal): Promise<Lease[]> {
    return this.run(`listing the leases of ${cluster}`, async () => {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${LEASE_PREFIX}${cluster}/` }), { abortSignal: signal });
      const leases = await Promise.all((page.Contents ?? []).map(async (o) => {
        try {
          const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: o.Key! }), { abortSignal: signal });
          return JSON.parse(await r.Body!.transformToString('utf8')) as Lease;
        } catch (err) {
          if ((err as Error).name === 'NoSuchKey') return undefined; // released meanwhile
          throw err;
        }
      }));
      return leases.filter((l): l is Lease => !!l && typeof l.key === 'string' && Date.parse(l.expiresAt) > now.getTime());
    });
  }

  close(): void {
    this.client.destroy();
  }
}

export interface Lease { key: string; holder: string; expiresAt: string }

const LEASE_PREFIX = 'leases/';

function leaseKey(cluster: string, holder: string): string {
  const key = `${LEASE_PREFIX}${cluster}/${holder.replace(/[^A-Za-z0-9._=+-]/g, '_')}.json`;
  checkObjectKey(key);
  return key;
}

function manifestToEntry(m: Manifest): StoredSnapshot {
  const entry: StoredSnapshot & { format?: string } = { ...m, complete: true };
  delete entry.format;
  return entry;
}
