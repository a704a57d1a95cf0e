// Activities of the etcd-backup runbook and of `backup verify`. Each opens what it needs (one SSH
// session, one S3 client), heartbeats, and is idempotent: a retry after a crash finds the work
// done (the checked file on the node, the committed object in the bucket) and reuses it.
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../heartbeat.js';
import { withSession, type SshDeps } from '../ssh/access.js';
import { sh } from '../ssh/quote.js';
import { resolveKey256 } from '../secrets.js';
import type { EtcdMemberRef, EtcdTarget } from '../etcd-recovery/context.js';
import type { BackupTarget } from './context.js';
import { keyFingerprint, SnapshotCryptoError, type KeyResolver } from './encryption.js';
import { listLocalSnapshots, saveSnapshot, type TakenSnapshot } from './node-snapshot.js';
import { compactTime, localSnapshotName } from './local-names.js';
import { checkSnapshot, type SnapshotCandidate, type SnapshotCheck } from '../etcd-recovery/snapshots.js';
import type { SshSession } from '../ssh/session.js';
import { openObjectStore, type ObjectStore } from './object-store.js';
import { planRetention, renderRetentionPlan, type RetentionPlan } from './retention.js';
import { isTrusted, snapshotKey, type StoredSnapshot } from './snapshot-meta.js';
import { openDecryptedSnapshot, problemWithStoredBytes, shipSnapshot, type ShipCheckpoint } from './transfer.js';
import { checkAndTrialRestore, type PlainSnapshotCheck } from './trial-restore.js';

export interface UploadResult extends StoredSnapshot {
  /** The object was committed by an earlier attempt of this run. */
  alreadyUploaded: boolean;
  parts?: number;
}

export interface RetentionOutcome {
  where: string;
  plan: RetentionPlan;
  /** Rendered table: what is kept and deleted, and why. */
  table: string;
  deleted: string[];
  dryRun: boolean;
  error?: string;
}

export interface VerifyOutcome extends PlainSnapshotCheck {
  key: string;
  /** Plaintext bytes that came out of decryption. */
  bytes: number;
}

async function keyOf(b: BackupTarget): Promise<{ key: Buffer; keyId: string; resolve: KeyResolver }> {
  const key = await resolveKey256(b.encryptionKey, 'backup.encryptionKey');
  const keyId = keyFingerprint(key);
  return {
    key, keyId,
    resolve: (id) => {
      if (id !== keyId) throw new SnapshotCryptoError('UnknownKey', `the configured backup.encryptionKey has key id ${keyId}, the snapshot needs ${id}: configure the key it was written with`);
      return key;
    },
  };
}

async function withStore<T>(b: BackupTarget, fn: (store: ObjectStore) => Promise<T>): Promise<T> {
  const store = await openObjectStore(b.objectStore);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** Where `backup verify` decrypts and trial-restores: the worker's temp dir unless this names a bigger disk. */
export const SCRATCH_ENV = 'MOORING_VERIFY_DIR';
const verifyScratchBase = () => process.env[SCRATCH_ENV] || tmpdir();

// etcd preallocates its first WAL segment (64 MB) in a restored data dir.
const WAL_SEGMENT = 64 * 1000 * 1000;

/** Why the scratch dir cannot hold the decrypted snapshot and its restored copy, or undefined. */
async function lacksSpace(dir: string, snapshotBytes: number): Promise<string | undefined> {
  const need = 2 * snapshotBytes + WAL_SEGMENT;
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free >= need) return undefined;
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  return `the worker's scratch dir ${dir} has ${mib(free)} free; the decrypted snapshot and its trial restore need about ${mib(need)} (set ${SCRATCH_ENV} to a bigger disk)`;
}

// The local file system refused the decrypted copy: the worker's trouble, not the snapshot's.
const LOCAL_WRITE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EMFILE', 'ENFILE']);
function localWriteTrouble(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && LOCAL_WRITE.has(code) ? `${code}: ${(err as Error).message}` : undefined;
}

export const remotePrefix = (b: BackupTarget) => `${b.prefix}${b.cluster}/`;

async function statOf(s: SshSession, path: string, signal: AbortSignal): Promise<SnapshotCandidate> {
  const [size, mtime] = (await s.run(sh`stat -c '%s %Y' ${path}`, { timeoutMs: 15_000, signal })).trim().split(' ').map(Number);
  return { path, size: size ?? 0, mtime: mtime ?? 0 };
}

/** Decrypts the stored snapshot into a fresh scratch dir and checks it there; the dir is removed after. */
async function checkInScratch(store: ObjectStore, key: string, resolve: KeyResolver, signal: AbortSignal): Promise<{ result: PlainSnapshotCheck; bytes: number }> {
  const base = verifyScratchBase();
  let scratch: string;
  try {
    scratch = await mkdtemp(join(base, 'mooring-verify-'));
  } catch (err) {
    return { bytes: 0, result: { ok: false, verdict: 'inconclusive', problem: `the worker cannot make its scratch dir under ${base}: ${(err as Error).message} (set ${SCRATCH_ENV} to a writable directory)` } };
  }
  let bytes = 0;
  try {
    const { stream, entry } = await openDecryptedSnapshot(store, key, resolve, signal);
    const short = await lacksSpace(scratch, entry.size);
    if (short) {
      stream.destroy();
      return { bytes, result: { ok: false, verdict: 'inconclusive', problem: short } };
    }
    stream.on('data', (c: Buffer) => { bytes += c.length; });
    await pipeline(stream, createWriteStream(join(scratch, 'snapshot.db'), { mode: 0o600 }), { signal });
    return { bytes, result: await checkAndTrialRestore(join(scratch, 'snapshot.db'), scratch, signal) };
  } catch (err) {
    const local = localWriteTrouble(err);
    if (local) return { bytes, result: { ok: false, verdict: 'inconclusive', problem: `the worker could not write its decrypted copy under ${scratch}: ${local}` } };
    // Bad bytes are a result; anything else (store unreachable, key trouble) is thrown by this.
    return { bytes, result: { ok: false, verdict: 'bad', problem: problemWithStoredBytes(err, store, key) } };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function createBackupActivities(deps: SshDeps) {
  return {
    /** `snapshot save` on the member's own host, checked, under its final name in backup.localDir. */
    async takeEtcdSnapshot(input: { target: EtcdTarget; host: EtcdMemberRef; dir: string; name: string }): Promise<TakenSnapshot> {
      return heartbeatWhile(`snapshot save on ${input.host.name}`, (signal) =>
        withSession(deps, input.target.ssh, input.host, signal, (s) => saveSnapshot(s, input.target, input.host, input.dir, input.name, signal)));
    },

    /**
     * Streams the node's file through sha256 check and encryption into the bucket (multipart;
     * memory bounded by the part size). Refused, with nothing committed, unless the bytes are
     * exactly the snapshot that was checked.
     */
    async uploadEtcdSnapshot(input: { target: EtcdTarget; host: EtcdMemberRef; backup: BackupTarget; snapshot: TakenSnapshot }): Promise<UploadResult> {
      const b = input.backup, snap = input.snapshot;
      // A killed worker's attempt heartbeated where its multipart upload stood: continue it.
      const resume = lastHeartbeat<{ upload: ShipCheckpoint }>()?.upload;
      return heartbeatWhile(`upload of ${snap.path}`, async (signal) => {
        const { key: encKey, keyId } = await keyOf(b);
        const key = snapshotKey(b.prefix, { cluster: b.cluster, member: snap.member, revision: snap.revision, takenAt: snap.takenAt });
        return withStore(b, async (store) => {
          const existing = await store.statSnapshot(key, signal);
          if (existing?.complete && existing.sha256 === snap.sha256) return { ...existing, alreadyUploaded: true };
          return withSession(deps, input.target.ssh, input.host, signal, async (s) => {
            const source = await s.streamOut(sh`cat ${snap.path}`, { signal });
            let sent = 0;
            source.on('data', (c: Buffer) => { sent += c.length; reportProgress({ bytes: sent, of: snap.size }); });
            const put = await shipSnapshot(store, source, {
              key, expectedBytes: snap.size, encryptionKey: encKey, signal,
              metadata: { cluster: b.cluster, member: snap.member, revision: snap.revision, etcdVersion: snap.etcdVersion, sha256: snap.sha256, takenAt: snap.takenAt, keyId, verified: true },
              ...(resume ? { resume } : {}),
              onCheckpoint: (upload) => reportProgress({ upload }, { now: true }),
            });
            return { ...put, alreadyUploaded: false };
          });
        });
      });
    },

    /** Retention over the bucket: plan, then (unless a dry run) delete exactly what the plan says. */
    async applyRemoteRetention(input: { backup: BackupTarget; nowMs: number; dryRun: boolean; protect?: string[] }): Promise<RetentionOutcome> {
      const b = input.backup;
      return heartbeatWhile('remote retention', (signal) => withStore(b, async (store) => {
        const now = new Date(input.nowMs);
        const [snapshots, leases] = await Promise.all([store.listSnapshots(remotePrefix(b), signal), store.activeLeases(b.cluster, now, signal)]);
        const plan = planRetention(snapshots.map((x) => ({
          id: x.key, takenAt: Date.parse(x.takenAt), size: x.size, verified: isTrusted(x),
        })), b.retention, { now, protectedIds: [...leases.map((l) => l.key), ...(input.protect ?? [])], protectedBy: leases.length ? `a lease (${leases.map((l) => l.holder).join(', ')}) or this run` : 'this run' });
        const deleted: string[] = [];
        if (!input.dryRun) {
          for (const d of plan.delete) {
            await store.deleteSnapshot(d.id, signal);
            deleted.push(d.id);
          }
        }
        return { where: `s3 ${b.objectStore.bucket}/${remotePrefix(b)}`, plan, table: renderRetentionPlan(plan), deleted, dryRun: input.dryRun };
      }));
    },

    /** Retention over each member's local directory; an unreachable member is reported, not fatal. */
    async applyLocalRetention(input: { target: EtcdTarget; hosts: EtcdMemberRef[]; backup: BackupTarget; nowMs: number; dryRun: boolean; protect?: string[] }): Promise<RetentionOutcome[]> {
      const b = input.backup;
      return heartbeatWhile('local retention', (signal) => Promise.all(input.hosts.map(async (h): Promise<RetentionOutcome> => {
        const where = `${h.name}:${b.localDir}`;
        try {
          return await withSession(deps, input.target.ssh, h, signal, async (s) => {
            const files = await listLocalSnapshots(s, b.localDir, b.cluster, signal);
            // A file under its final name passed its checks when it was saved.
            const plan = planRetention(files.map((f) => ({ id: f.name, takenAt: Date.parse(f.takenAt), size: f.size, verified: true })), b.retention,
              { now: new Date(input.nowMs), protectedIds: input.protect ?? [], protectedBy: 'this run' });
            const deleted: string[] = [];
            if (!input.dryRun && plan.delete.length) {
              await s.run(sh`cd ${b.localDir} && rm -f -- ${plan.delete.map((d) => d.id)}`, { timeoutMs: 60_000, signal });
              deleted.push(...plan.delete.map((d) => d.id));
            }
            return { where, plan, table: renderRetentionPlan(plan), deleted, dryRun: input.dryRun };
          });
        } catch (err) {
          if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
          const plan = planRetention([], b.retention, { now: new Date(input.nowMs) });
          return { where, plan, table: `${where}: not reached (${(err as Error).message}); nothing deleted there`, deleted: [], dryRun: input.dryRun, error: (err as Error).message };
        }
      })));
    },

    /** The newest snapshot in the bucket that can be trusted (complete, checked, no failed round trip), or why none. */
    async newestRemoteSnapshot(input: { backup: BackupTarget }): Promise<{ snapshot?: StoredSnapshot; error?: string }> {
      return heartbeatWhile('remote catalogue', async (signal) => {
        try {
          const all = await withStore(input.backup, (store) => store.listSnapshots(remotePrefix(input.backup), signal));
          const good = all.filter(isTrusted);
          const newest = good.sort((a, b) => b.revision - a.revision || Date.parse(b.takenAt) - Date.parse(a.takenAt))[0];
          return newest ? { snapshot: newest } : { error: `no trusted snapshot among ${all.length} in the bucket` };
        } catch (err) {
          // A recovery can go on with local snapshots: report, do not fail.
          if (err instanceof ApplicationFailure && err.type === 'SecretUnavailable') throw err;
          return { error: (err as Error).message };
        }
      });
    },

    /**
     * Brings a stored snapshot onto a member for a restore: download, decrypt (authenticated,
     * sha256 against the catalogue), stream over SSH into a partial file, check it like a local
     * snapshot, then give it its final name in `dir`. A lease keeps retention away meanwhile.
     * Idempotent: a file already fetched and still passing its check is reused.
     */
    async fetchRemoteSnapshot(input: { target: EtcdTarget; host: EtcdMemberRef; backup: BackupTarget; snapshot: StoredSnapshot; dir: string; holder: string }): Promise<SnapshotCheck> {
      const b = input.backup, snap = input.snapshot;
      return heartbeatWhile(`fetch ${snap.key} to ${input.host.name}`, (signal) => withStore(b, async (store) => {
        await store.putLease(b.cluster, input.holder, snap.key, new Date(Date.now() + 2 * 3600_000), signal);
        const { resolve } = await keyOf(b);
        const name = localSnapshotName(b.cluster, compactTime(Date.parse(snap.takenAt)), snap.member);
        const path = `${input.dir}/${name}`;
        const partial = `${input.dir}/.${name}.partial`;
        return withSession(deps, input.target.ssh, input.host, signal, async (s) => {
          const have = (await s.run(sh`umask 077; mkdir -p ${input.dir} && chmod 700 ${input.dir} && rm -f ${partial} && if [ -f ${path} ]; then echo yes; fi`, { timeoutMs: 15_000, signal })).trim() === 'yes';
          if (have) {
            const c = await checkSnapshot(s, await statOf(s, path, signal), signal);
            if (c.ok) return c;
          }
          const { stream } = await openDecryptedSnapshot(store, snap.key, resolve, signal);
          // Count the bytes on their way through, never with a 'data' listener on the source: that
          // starts it flowing before streamIn is reading, and what flows meanwhile is lost.
          const counted = countingStream((bytes) => reportProgress({ bytes, of: snap.size }));
          stream.on('error', (err) => counted.destroy(err));
          stream.pipe(counted);
          await s.streamIn(sh`umask 077; cat > ${partial}`, counted, { signal, timeoutMs: 3 * 3600_000 });
          const c = await checkSnapshot(s, await statOf(s, partial, signal), signal);
          if (!c.ok) {
            await s.exec(sh`rm -f ${partial}`, { timeoutMs: 15_000, signal });
            throw ApplicationFailure.nonRetryable(`${snap.key} decrypted and matched its sha256 but fails the check on ${input.host.name}: ${c.error}`, 'CorruptSnapshot');
          }
          await s.run(sh`mv -f ${partial} ${path}`, { timeoutMs: 15_000, signal });
          return { ...c, path };
        });
      }));
    },

    /**
     * Download, decrypt (authenticated), compare sha256 with the catalogue, `snapshot status` and a
     * trial restore into a scratch directory, then record the result in the manifest. A lease keeps
     * retention away from the snapshot meanwhile. Only the snapshot's own bytes can make it bad;
     * when this worker cannot check it (no space or no write access in its scratch dir, the etcd
     * tool missing, a timeout) the result is inconclusive and recorded as such, never against it.
     */
    async verifyBackupSnapshot(input: { backup: BackupTarget; key: string; holder: string }): Promise<VerifyOutcome> {
      const b = input.backup;
      return heartbeatWhile(`verify ${input.key}`, (signal) => withStore(b, async (store) => {
        const { resolve } = await keyOf(b);
        await store.putLease(b.cluster, input.holder, input.key, new Date(Date.now() + 60 * 60_000), signal);
        try {
          const { result, bytes } = await checkInScratch(store, input.key, resolve, signal);
          signal.throwIfAborted(); // a cancelled check proves nothing and records nothing
          await store.recordRoundTrip(input.key, result.verdict === 'inconclusive'
            ? { ok: false, inconclusive: true, problem: result.problem ?? 'inconclusive' }
            : { ok: result.ok, ...(result.problem ? { problem: result.problem } : {}) }, signal);
          return { key: input.key, bytes, ...result };
        } finally {
          await store.dropLease(b.cluster, input.holder).catch(() => undefined);
        }
      }));
    },
  };
}

export type BackupActivities = ReturnType<typeof createBackupActivities>;

/** A pass-through that tells `onBytes` how many bytes went through so far. */
export function countingStream(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      onBytes(total);
      done(null, chunk);
    },
  });
}
