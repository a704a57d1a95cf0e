// What `backup verify` does with a decrypted snapshot on the worker's machine, in a scratch
// directory: the sha256 `snapshot save` appended, `snapshot status`, and a trial restore with the
// etcd tool the worker has (etcdutl for 3.5+, else etcdctl). Nothing here touches a cluster.
//
// Two kinds of failure, kept apart because retention acts on the first only:
//   bad           the snapshot's own bytes fail a check (appended sha256, `snapshot status` or the
//                 restore refusing its content): proved by the snapshot, recorded against it;
//   inconclusive  this worker could not run the check (tool missing or not executable, no space
//                 or no write access in the scratch dir, a timeout, a cancellation): says nothing
//                 about the snapshot, which keeps the trust it had.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachedEtcdBuilds, findTool } from '../local/tools.js';
import { sizedTimeoutMs } from '../heartbeat.js';

const run = promisify(execFile);

export type CheckVerdict = 'good' | 'bad' | 'inconclusive';

export interface PlainSnapshotCheck {
  ok: boolean;
  /** good: every check passed; bad: the snapshot failed one; inconclusive: this worker could not check it. */
  verdict: CheckVerdict;
  problem?: string;
  revision?: number;
  hash?: number;
  totalKeys?: number;
  /** The trial restore produced a member data dir with a database. */
  restored?: boolean;
  restoreTool?: string;
}

export interface TrialRestoreTimeouts {
  statusMs?: number;
  restoreMs?: number;
}

/** The last 32 bytes of a saved snapshot are the sha256 of everything before them. */
export async function appendedHashMatches(file: string): Promise<boolean> {
  const { size } = await stat(file);
  if (size <= 32) return false;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { start: 0, end: size - 33 })) hash.update(chunk as Buffer);
  const fd = await open(file, 'r');
  try {
    const tail = Buffer.alloc(32);
    await fd.read(tail, 0, 32, size - 32);
    return hash.digest().equals(tail);
  } finally {
    await fd.close();
  }
}

const inconclusive = (problem: string, extra: Partial<PlainSnapshotCheck> = {}): PlainSnapshotCheck => ({ ok: false, verdict: 'inconclusive', ...extra, problem });
const bad = (problem: string, extra: Partial<PlainSnapshotCheck> = {}): PlainSnapshotCheck => ({ ok: false, verdict: 'bad', ...extra, problem });

/**
 * Runs every check; the first that fails decides. `scratch` must be an empty directory the caller
 * removes. A failure of this machine (see the top of the file) is an inconclusive result, not a
 * bad snapshot.
 */
export async function checkAndTrialRestore(file: string, scratch: string, signal?: AbortSignal, timeouts: TrialRestoreTimeouts = {}): Promise<PlainSnapshotCheck> {
  try {
    if (!(await appendedHashMatches(file))) return bad('the sha256 appended by snapshot save does not match: truncated or corrupt');
  } catch (err) {
    return inconclusive(`the worker could not read its decrypted copy: ${lastLine(err)}`);
  }
  let etcdctl: string;
  try {
    etcdctl = findTool('etcdctl', 'MOORING_ETCDCTL_BIN');
  } catch (err) {
    return inconclusive(`this worker cannot run snapshot status: ${(err as Error).message}`);
  }
  const env = { ...process.env, ETCDCTL_API: '3' };
  // Both read the whole database (a restore writes it again): the default timeouts follow its size.
  const { size } = await stat(file);
  const statusMs = timeouts.statusMs ?? sizedTimeoutMs(size, 300_000);
  let status: { hash: number; revision: number; totalKey: number };
  try {
    const r = await run(etcdctl, ['snapshot', 'status', file, '-w', 'json'], { env, timeout: statusMs, ...(signal ? { signal } : {}) });
    status = JSON.parse(r.stdout) as typeof status;
  } catch (err) {
    const why = workerTrouble(err, etcdctl, statusMs);
    return why ? inconclusive(`snapshot status could not run on this worker: ${why}`) : bad(`snapshot status refused it: ${lastLine(err)}`);
  }
  const base = { revision: status.revision, hash: status.hash, totalKeys: status.totalKey };
  // etcd 3.5 moved restore to etcdutl; 3.4 has only etcdctl. Use what this machine has, but an
  // etcdutl the operator named and that is missing is their mistake, reported, not worked around.
  let tool = etcdctl;
  try {
    // Not on PATH: the newest etcdutl set-up built (it restores snapshots of every older minor).
    tool = findTool('etcdutl', 'MOORING_ETCDUTL_BIN', cachedEtcdBuilds());
  } catch (err) {
    if (process.env.MOORING_ETCDUTL_BIN) return inconclusive(`this worker cannot run the trial restore: ${(err as Error).message}`, base);
  }
  const dataDir = join(scratch, 'restored');
  const restoreMs = timeouts.restoreMs ?? sizedTimeoutMs(3 * size, 600_000);
  try {
    await run(tool, ['snapshot', 'restore', file, '--data-dir', dataDir, '--name', 'mooring-verify',
      '--initial-cluster', 'mooring-verify=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'],
    { env, timeout: restoreMs, ...(signal ? { signal } : {}) });
  } catch (err) {
    const why = workerTrouble(err, tool, restoreMs);
    return why
      ? inconclusive(`the trial restore could not run on this worker: ${why}`, { ...base, restoreTool: tool })
      : bad(`trial restore refused it: ${lastLine(err)}`, { ...base, restored: false, restoreTool: tool });
  }
  const db = join(dataDir, 'member', 'snap', 'db');
  const restored = existsSync(db) && (await stat(db)).size > 0;
  return restored
    ? { ok: true, verdict: 'good', ...base, restored, restoreTool: tool }
    // The tool said it succeeded: a missing database is the tool's fault, not the snapshot's.
    : inconclusive(`${tool} reported a successful restore but left no database at ${db}`, { ...base, restoreTool: tool });
}

// Errors of the machine, not of a file's content: the program could not start, was stopped, or
// the scratch file system refused a write.
const SPAWN_OR_FS = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOEXEC', 'ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'ABORT_ERR']);
const ENVIRONMENT_TEXT = /no space left on device|disk quota exceeded|read-only file system|permission denied|too many open files|cannot allocate memory|out of memory|exec format error/i;

/**
 * Why a failed run of an etcd tool says nothing about the snapshot, or undefined when the tool
 * ran to its end and refused the file (then the snapshot is bad).
 */
export function workerTrouble(err: unknown, tool: string, timeoutMs?: number): string | undefined {
  const e = (err ?? {}) as { code?: unknown; killed?: boolean; signal?: string | null; name?: string; stderr?: string | Buffer; message?: string };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return 'cancelled';
  if (typeof e.code === 'string' && SPAWN_OR_FS.has(e.code)) {
    if (e.code === 'ENOENT') return `${tool} could not be started (ENOENT: not found)`;
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'ENOEXEC') return `${tool} could not be started (${e.code}: not executable)`;
    return `${e.code}: ${lastLine(err)}`;
  }
  if (e.killed || e.signal) return e.killed && timeoutMs !== undefined ? `${tool} was stopped after its time limit (${Math.round(timeoutMs / 1000)} s)` : `${tool} was killed (${e.signal ?? 'signal'})`;
  const text = `${e.stderr ? String(e.stderr) : ''}\n${e.message ?? ''}`;
  const m = ENVIRONMENT_TEXT.exec(text);
  if (m) return `${m[0]} (${lastLine(err)})`;
  return undefined;
}

function lastLine(err: unknown): string {
  const e = (err ?? {}) as { stderr?: string | Buffer; message?: string };
  const stderr = e.stderr ? String(e.stderr).trim() : '';
  return (stderr || e.message || String(err)).trim().split('\n').pop() ?? 'unknown error';
}
