// The off-site copy of etcd snapshots: any S3-compatible store (AWS, Ceph RGW, SeaweedFS, MinIO,
// Garage), addressed path-style because most of them do not serve virtual-host buckets.
// Uploads stream: lib-storage's Upload cuts the stream into parts and holds at most
// queueSize × partSize bytes, whatever the snapshot's size. Credentials come from secret references,
// resolved here; every failure is an ApplicationFailure that says what to do (object-store-errors.ts).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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

export interface PutResult extends StoredSnapshot {
  storedSha256: string;
  /** Parts of a multipart upload (from the ETag's "-N"), 1 for a single PUT. */
  parts: number;
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
   * by writing its manifest. If `body` errors (e.g. a digest check failing at its end), the
   * multipart upload is aborted and nothing is committed.
   */
  async putSnapshot(body: Readable, key: string, metadata: SnapshotMetadata, signal?: AbortSignal): Promise<PutResult> {
    checkObjectKey(key);
    checkMetadata(metadata);
    return this.run(`upload of ${key}`, async () => {
      // PUT into a missing bucket fails obscurely on some servers (SeaweedFS: 500); say it plainly.
      if (!(await this.bucketExists(signal))) throw Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket' });
      const stored = new DigestStream({ what: key });
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let sourceError: Error | undefined;
      pipeline(body, stored, (err) => { if (err) sourceError = err; });
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: stored, Metadata: toUserMetadata(metadata), ContentType: 'application/octet-stream' },
        partSize: this.tuning.partSize ?? 16 * MIB,
        queueSize: this.tuning.queueSize ?? 2,
        leavePartsOnError: false,
        abortController: abort,
      });
      let etag: string | undefined;
      try {
        etag = (await upload.done()).ETag;
      } catch (err) {
        body.destroy();
        stored.destroy();
        // The source's own error (e.g. DigestMismatch) explains more than the upload's echo of it.
        throw sourceError ?? err;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      const manifest: Manifest = {
        format: MANIFEST_FORMAT, key, ...metadata, size: stored.bytes, storedSha256: stored.sha256,
        ...(etag ? { etag } : {}), uploadedAt: new Date().toISOString(),
      };
      await this.writeManifest(manifest, signal);
      const parts = /-(\d+)"?$/.exec(etag ?? '')?.[1];
      return { ...manifestToEntry(manifest), storedSha256: stored.sha256, parts: parts ? Number(parts) : 1 };
    });
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
