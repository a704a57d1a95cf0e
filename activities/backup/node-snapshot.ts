// A snapshot taken on a member's own host, over SSH: `etcdctl snapshot save` against that member
// (TLS) into a partial file, checked (the sha256 that save appends, in the same read as the whole
// file's sha256; then `snapshot status`), and only then renamed to its final name. A file with a
// final name was checked; a partial one never counts. Saving the same name again (a retry after
// a crash) re-checks and reuses the file.
import { ApplicationFailure } from '@temporalio/activity';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import type { EtcdMemberRef, EtcdTarget } from '../etcd-recovery/context.js';
import { clientUrl, etcdctl, parseEndpointStatus } from '../etcd-recovery/etcdctl.js';
import { checkSnapshot, type SnapshotCheck } from '../etcd-recovery/snapshots.js';
import { LOCAL_NAME } from './local-names.js';
import { sizedTimeoutMs } from '../heartbeat.js';
import { stallGuarded } from './stall-guard.js';

export interface TakenSnapshot {
  member: string;
  path: string;
  size: number;
  /** sha256 (hex) of the whole file, as it lies on the node. */
  sha256: string;
  revision: number;
  /** etcd's own hash of the keyspace (`snapshot status`). */
  hash: number;
  totalKeys: number;
  etcdVersion: string;
  /** ISO 8601 UTC, when save finished (the file's mtime). */
  takenAt: string;
  /** This run's file was already there and passed the checks again (a retry after a crash). */
  reused: boolean;
}

/**
 * Seconds without a byte of the snapshot after which its save is stopped: as long as the dial
 * timeout Mooring already gives a member to answer, far longer than a live member pauses.
 */
export const SAVE_STALL_SECONDS = 30;

/** etcdctl's command timeout for saving a database of `dbSize` bytes (at least the old fixed 30 s). */
export function snapshotSaveTimeoutSeconds(dbSize: number): number {
  return Math.max(30, Math.ceil(sizedTimeoutMs(dbSize) / 1000));
}

export async function saveSnapshot(s: SshSession, t: EtcdTarget, member: EtcdMemberRef, dir: string, name: string, signal: AbortSignal): Promise<TakenSnapshot> {
  if (!LOCAL_NAME.test(name)) throw ApplicationFailure.nonRetryable(`snapshot name ${JSON.stringify(name)} is not one Mooring makes`, 'InvalidInput');
  const path = `${dir}/${name}`;
  const partial = `${dir}/.${name}.partial`;
  const endpoint = clientUrl(member.ip, t.etcd.clientPort);
  // The member's own version, and proof it answers before we ask it for the whole database.
  const st = await s.exec(etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'status', '-w', 'json'], { timeoutSeconds: 5 }), { timeoutMs: 20_000, signal });
  const status = st.code === 0 ? safe(() => parseEndpointStatus(st.stdout)[0]) : undefined;
  if (!status) throw ApplicationFailure.retryable(`${member.name}: etcd does not answer endpoint status: ${lastLine(st.stderr)}`, 'MemberUnavailable');

  const existing = (await s.run(sh`umask 077; mkdir -p ${dir} && chmod 700 ${dir} && if [ -f ${path} ]; then echo yes; fi`, { timeoutMs: 15_000, signal })).trim() === 'yes';
  let reused = false;
  let c: SnapshotCheck & { sha256?: string };
  if (existing) {
    c = await checkSnapshot(s, { path, mtime: 0, size: 0 }, signal, { sha256: true });
    // Our own final file failing its check now means the disk changed it: keep it for a person
    // to look at, and say so; this run cannot vouch for it.
    if (!c.ok) throw ApplicationFailure.nonRetryable(`${path} on ${member.name} was checked when saved but fails now (${c.error}): the disk may be failing; it is left in place for inspection`, 'CorruptSnapshot');
    reused = true;
  } else {
    // etcdctl's --command-timeout bounds the whole transfer (3.4 cut a 3.6 GB save off after 30 s
    // on the lab): sized by the database the member reports, like every other long step.
    // etcdctl writes into `<partial>.part` and renames it when done; a member that stops sending
    // ends the save after SAVE_STALL_SECONDS instead of at the command timeout (stall-guard.ts).
    const saveCommand = etcdctl(t.etcd.tls, [endpoint], ['snapshot', 'save', partial], { timeoutSeconds: 30, commandTimeoutSeconds: snapshotSaveTimeoutSeconds(status.dbSize) });
    const save = await s.exec(`${sh`rm -f ${partial} ${partial}.part`} || exit 1\n${stallGuarded(saveCommand, `${partial}.part`, SAVE_STALL_SECONDS)}`, { timeoutMs: 30 * 60_000, signal });
    if (save.code !== 0) {
      await s.exec(sh`rm -f ${partial} ${partial}.part`, { timeoutMs: 15_000, signal }).catch(() => undefined);
      throw ApplicationFailure.retryable(`${member.name}: snapshot save failed: ${lastLine(save.stderr)}`, 'SnapshotSaveFailed');
    }
    c = await checkSnapshot(s, { path: partial, mtime: 0, size: 0 }, signal, { sha256: true });
    if (!c.ok) {
      // A partial file that fails its check is only ever ours and never good: remove it.
      await s.exec(sh`rm -f ${partial}`, { timeoutMs: 15_000, signal }).catch(() => undefined);
      throw ApplicationFailure.retryable(`${member.name}: the saved snapshot fails its check (${c.error}); not kept`, 'CorruptSnapshot');
    }
    await s.run(sh`chmod 600 ${partial} && mv -f ${partial} ${path}`, { timeoutMs: 15_000, signal });
  }
  // A rename does not change the bytes: the check above, and the whole-file sha256 taken in the
  // same read of the file, stand for the final name (the upload streams the file through a
  // sha256 check against this value, so bytes changed since are caught there).
  const sha256 = c.sha256 ?? '';
  const facts = (await s.run(sh`stat -c '%s %Y' ${path}`, { timeoutMs: 15_000, signal })).trim().split(' ');
  const [size, mtime] = [Number(facts[0]), Number(facts[1])];
  if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isFinite(size) || !Number.isFinite(mtime)) throw ApplicationFailure.retryable(`${member.name}: could not read the size and sha256 of ${path}`, 'SnapshotSaveFailed');
  return {
    member: member.name, path, size, sha256, revision: c.revision ?? 0, hash: c.hash ?? 0, totalKeys: c.totalKeys ?? 0,
    etcdVersion: status.version, takenAt: new Date(mtime * 1000).toISOString(), reused,
  };
}

export interface LocalSnapshotFile {
  name: string;
  path: string;
  size: number;
  /** From the name (the run's time), so a copied file keeps its place in time. */
  takenAt: string;
}

/** The cluster's Mooring-made snapshots in `dir` (other files there are not ours and are ignored). */
export async function listLocalSnapshots(s: SshSession, dir: string, cluster: string, signal: AbortSignal): Promise<LocalSnapshotFile[]> {
  const out = await s.run(sh`if [ -d ${dir} ]; then find ${dir} -maxdepth 1 -type f -name '*.db' -printf '%s %f\n'; fi`, { timeoutMs: 20_000, signal });
  return out.split('\n').filter(Boolean).flatMap((line) => {
    const [size, name = ''] = line.split(' ', 2);
    const m = LOCAL_NAME.exec(name);
    if (!m || m.groups!.cluster !== cluster) return [];
    const t = m.groups!.time!;
    const takenAt = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`;
    return [{ name, path: `${dir}/${name}`, size: Number(size), takenAt }];
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() || '(no output)';
}

function safe<T>(fn: () => T): T | undefined {
  try { return fn(); } catch { return undefined; }
}
