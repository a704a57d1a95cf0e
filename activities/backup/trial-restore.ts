// What `backup verify` does with a decrypted snapshot on the worker's machine, in a scratch
// directory: the sha256 `snapshot save` appended, `snapshot status`, and a trial restore with the
// etcd tool the worker has (etcdutl for 3.5+, else etcdctl). Nothing here touches a cluster.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTool } from '../../client/tools.js';
import { sizedTimeoutMs } from '../heartbeat.js';

const run = promisify(execFile);

export interface PlainSnapshotCheck {
  ok: boolean;
  problem?: string;
  revision?: number;
  hash?: number;
  totalKeys?: number;
  /** The trial restore produced a member data dir with a database. */
  restored?: boolean;
  restoreTool?: string;
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

/** Runs every check; the first that fails is the problem. `scratch` must be an empty directory the caller removes. */
export async function checkAndTrialRestore(file: string, scratch: string, signal?: AbortSignal): Promise<PlainSnapshotCheck> {
  if (!(await appendedHashMatches(file))) return { ok: false, problem: 'the sha256 appended by snapshot save does not match: truncated or corrupt' };
  const etcdctl = findTool('etcdctl', 'MOORING_ETCDCTL_BIN');
  const env = { ...process.env, ETCDCTL_API: '3' };
  // Both read the whole database (a restore writes it again): timeouts follow its size.
  const { size } = await stat(file);
  let status: { hash: number; revision: number; totalKey: number };
  try {
    const r = await run(etcdctl, ['snapshot', 'status', file, '-w', 'json'], { env, timeout: sizedTimeoutMs(size, 300_000), ...(signal ? { signal } : {}) });
    status = JSON.parse(r.stdout) as typeof status;
  } catch (err) {
    return { ok: false, problem: `snapshot status refused it: ${lastLine(err)}` };
  }
  const base = { revision: status.revision, hash: status.hash, totalKeys: status.totalKey };
  // etcd 3.5 moved restore to etcdutl; 3.4 has only etcdctl. Use what this machine has.
  let tool: string;
  try { tool = findTool('etcdutl', 'MOORING_ETCDUTL_BIN'); } catch { tool = etcdctl; }
  const dataDir = join(scratch, 'restored');
  try {
    await run(tool, ['snapshot', 'restore', file, '--data-dir', dataDir, '--name', 'mooring-verify',
      '--initial-cluster', 'mooring-verify=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'],
    { env, timeout: sizedTimeoutMs(3 * size, 600_000), ...(signal ? { signal } : {}) });
  } catch (err) {
    return { ok: false, ...base, restored: false, restoreTool: tool, problem: `trial restore failed: ${lastLine(err)}` };
  }
  const db = join(dataDir, 'member', 'snap', 'db');
  const restored = existsSync(db) && (await stat(db)).size > 0;
  return restored
    ? { ok: true, ...base, restored, restoreTool: tool }
    : { ok: false, ...base, restored, restoreTool: tool, problem: `trial restore left no database at ${db}` };
}

function lastLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(err)).trim().split('\n').pop() ?? 'unknown error';
}
