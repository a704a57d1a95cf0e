// Snapshots on member hosts for a majority recovery: find candidates, check their integrity with
// `snapshot status` (never skip the hash check), and restore one into a fresh data dir.
import { ApplicationFailure } from '@temporalio/activity';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { ddBytes, reportProgress, sizedTimeoutMs } from '../heartbeat.js';

export interface SnapshotCandidate {
  path: string;
  /** Modification time, epoch seconds. */
  mtime: number;
  size: number;
}

export interface SnapshotCheck extends SnapshotCandidate {
  ok: boolean;
  hash?: number;
  revision?: number;
  totalKeys?: number;
  error?: string;
}

/** Snapshot files (*.db) in `dir`, newest first. */
export async function listSnapshots(s: SshSession, dir: string, signal: AbortSignal): Promise<SnapshotCandidate[]> {
  const out = await s.run(sh`if [ -d ${dir} ]; then find ${dir} -maxdepth 1 -type f -name '*.db' -printf '%T@ %s %p\n'; fi`, { timeoutMs: 20_000, signal });
  return out.split('\n').filter(Boolean).map((l) => {
    const [mtime, size, ...path] = l.split(' ');
    return { mtime: Math.floor(Number(mtime)), size: Number(size), path: path.join(' ') };
  }).sort((a, b) => b.mtime - a.mtime);
}

/**
 * `snapshot status` reads the bolt database but does not check the sha256 that `snapshot save`
 * appends (a truncated file can pass it); restore does. Check that hash here too, the same way:
 * the last 32 bytes are the sha256 of everything before them. With `sha256`, the same exec also
 * hashes the whole file (for the backup catalogue and the upload's check), beside that check.
 */
export async function checkSnapshot(s: SshSession, c: SnapshotCandidate, signal: AbortSignal, opts: { sha256?: boolean } = {}): Promise<SnapshotCheck & { sha256?: string }> {
  // Both commands read the whole file: their timeouts grow with it (an 8 GB database takes
  // minutes on a busy disk). dd reports the bytes hashed each second, which go into the heartbeat.
  c = { ...c, size: c.size > 0 ? c.size : await fileSize(s, c.path, signal) };
  const size = c.size;
  reportProgress({ checking: c.path, bytes: 0, of: size });
  // With sha256 (a backup's new snapshot), `snapshot status` runs in the same exec, beside the
  // hashing: one round trip, and its read of the bolt database overlaps the hashers' read (the
  // file was just written, so both read from the page cache) instead of following it.
  const hash = await s.exec(opts.sha256 ? appendedAndWholeSha256(c.path, { alongside: snapshotStatusCommand(c.path) }) : appendedSha256Matches(c.path), {
    timeoutMs: sizedTimeoutMs(size), signal,
    onOutput: (chunk, stream) => { const n = stream === 'stderr' ? ddBytes(chunk) : undefined; if (n !== undefined) reportProgress({ checking: c.path, bytes: n, of: size }); },
  });
  // The hashing itself could not run (no temp dir, a hasher that failed): no verdict on the file, try again.
  if (hash.code === TOOLING_FAILED) throw new Error(`${s.target.name}: could not hash ${c.path}: ${hash.stderr.trim().split('\n').pop() ?? ''}`);
  const whole = /^sha256 ([0-9a-f]{64})$/m.exec(hash.stdout)?.[1];
  // The same verdicts in the same order as before: the appended sha256 first, then status.
  if (hash.code !== 0) return { ...c, ok: false, error: 'sha256 appended by snapshot save does not match: truncated or corrupt' };
  if (opts.sha256 && !whole) throw new Error(`${s.target.name}: hashing ${c.path} printed no sha256`);
  reportProgress({ checking: c.path, bytes: size, of: size, status: 'snapshot status' });
  // Status from the same exec when it ran there; otherwise (the plain check) on its own, as always.
  const r = statusAlongside(hash.stdout) ?? await s.exec(snapshotStatusCommand(c.path), { timeoutMs: sizedTimeoutMs(size), signal });
  if (r.code !== 0) return { ...c, ok: false, error: r.stderr.trim().split('\n').pop() ?? `exit ${r.code}` };
  try {
    const j = JSON.parse(r.stdout) as { hash: number; revision: number; totalKey: number };
    return { ...c, ok: true, hash: j.hash, revision: j.revision, totalKeys: j.totalKey, ...(whole ? { sha256: whole } : {}) };
  } catch {
    return { ...c, ok: false, error: 'snapshot status printed no JSON' };
  }
}

export const TOOLING_FAILED = 3;

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Defines the shell function `sha256` (stdin to `<hex> ...`): OpenSSL's when it hashes the empty
 * input right, else coreutils' sha256sum. Debian's sha256sum uses neither the CPU's SHA
 * instructions nor OpenSSL's vectorised code: on the lab's 2-core EPYC it hashes 250 MB in 1.0 s,
 * openssl in 0.24 s; a backup checks a new snapshot with two of them (docs/performance.md). Same
 * digest either way; the self test keeps an openssl that is missing, broken or prints another
 * format from being used.
 */
export const SHA256_TOOL = `if h=$(printf '' | openssl dgst -sha256 -r 2>/dev/null) && [ "\${h%% *}" = ${EMPTY_SHA256} ]; then sha256() { openssl dgst -sha256 -r; }; else sha256() { sha256sum; }; fi; `;

const ALONGSIDE = '--mooring-alongside-exit--';
const ALONGSIDE_ERR = '--mooring-alongside-stderr--';

// The file's size into n; a file of 32 bytes or less cannot hold a database and its sha256.
const SIZE_OR_CORRUPT = `n=$(stat -c %s -- "$f" 2>/dev/null) || n=0; [ "$n" -gt 32 ] || exit 1; `;
// The sha256 of all but the last 32 bytes: dd reads exactly those straight from the file (for
// progress on stderr) into the hasher, one pipe; `head -c -32` behind a tee cost two more copies
// through pipes, which on a 2-core host took longer than the hashing (docs/performance.md).
const PREFIX_SHA256 = `dd if="$f" iflag=count_bytes,fullblock count=$((n-32)) bs=4M status=progress | sha256 | cut -d' ' -f1`;
// The last 32 bytes (what `snapshot save` appended), as hex.
const TRAILER = `tail -c 32 "$f" | od -An -v -tx1 | tr -d ' \\n'`;

/** Exit 0 when the last 32 bytes of the file are the sha256 of everything before them, else 1. */
export function appendedSha256Matches(path: string): string {
  return `${SHA256_TOOL}f=${sh`${path}`}; ${SIZE_OR_CORRUPT}[ "$(${PREFIX_SHA256})" = "$(${TRAILER})" ]`;
}

/**
 * Both hashes at once: the whole file's sha256 (printed as `sha256 <hex>`) by a hasher reading
 * the file itself, beside the sha256 of all but the last 32 bytes, compared with those bytes
 * (exit 1 when they differ, as the plain check). The two readers start together on a file that
 * was just written, so the second finds the first's pages in the cache. Exit 3: the hashing could
 * not be set up, no verdict. `alongside` (a command: `snapshot status`) runs in the background
 * meanwhile; after the sha256 line come a marker with its exit code, its stdout, a second marker
 * and its stderr (statusAlongside).
 */
export function appendedAndWholeSha256(path: string, opts: { alongside?: string } = {}): string {
  const bg = opts.alongside ? `(${opts.alongside}) >"$d/a.out" 2>"$d/a.err" & a=$!; ` : '';
  // A tooling failure ends the exec: the command running alongside is not left reading the file.
  const fail = opts.alongside ? `{ kill "$a" 2>/dev/null; exit ${TOOLING_FAILED}; }` : `exit ${TOOLING_FAILED}`;
  const report = opts.alongside ? `wait "$a"; echo "${ALONGSIDE} $?"; cat "$d/a.out"; echo; echo ${ALONGSIDE_ERR}; cat "$d/a.err"; ` : '';
  return `${SHA256_TOOL}f=${sh`${path}`}; ${SIZE_OR_CORRUPT}d=$(mktemp -d) || exit ${TOOLING_FAILED}; trap 'rm -rf "$d"' EXIT; `
    + bg
    + `sha256 <"$f" >"$d/sum" & w=$!; `
    + `p=$(${PREFIX_SHA256}); `
    + `wait "$w" || ${fail}; echo "sha256 $(cut -d' ' -f1 <"$d/sum")"; `
    + report
    + `[ "$p" = "$(${TRAILER})" ]`;
}

/** The result of the command run alongside the hashes, from their output; undefined when it did not run there. */
export function statusAlongside(stdout: string): { code: number; stdout: string; stderr: string } | undefined {
  const m = new RegExp(`^${ALONGSIDE} (\\d+)\n`, 'm').exec(stdout);
  if (!m) return undefined;
  const rest = stdout.slice(m.index + m[0].length);
  const cut = rest.lastIndexOf(`\n${ALONGSIDE_ERR}\n`);
  if (cut < 0) return undefined;
  return { code: Number(m[1]), stdout: rest.slice(0, cut).trim(), stderr: rest.slice(cut + ALONGSIDE_ERR.length + 2) };
}

/**
 * `snapshot status` with the host's own tool: etcdutl where it is installed (etcd 3.5 moved the
 * offline commands there, and 3.6's etcdctl has no `snapshot status`), else etcdctl (etcd 3.4).
 */
export function snapshotStatusCommand(path: string): string {
  return sh`if command -v etcdutl >/dev/null 2>&1; then etcdutl snapshot status ${path} -w json; else ETCDCTL_API=3 etcdctl snapshot status ${path} -w json; fi`;
}

async function fileSize(s: SshSession, path: string, signal: AbortSignal): Promise<number> {
  const out = (await s.exec(sh`stat -c %s ${path}`, { timeoutMs: 15_000, signal })).stdout.trim();
  return /^\d+$/.test(out) ? Number(out) : 0;
}

export interface RestoreSpec {
  snapshot: string;
  name: string;
  initialCluster: string;
  clusterToken: string;
  peerUrl: string;
  dataDir: string;
}

/**
 * Restores into `dataDir`, which must be empty or absent (the old one was moved aside first).
 * etcd 3.4 restores with etcdctl, 3.5+ with etcdutl. A data dir already holding this restore's
 * member (a retry after a crash) is left as it is.
 */
export async function restoreSnapshot(s: SshSession, spec: RestoreSpec, etcdVersion: string, signal: AbortSignal): Promise<{ tool: string; alreadyRestored: boolean; bumpedRevision: boolean; note: string }> {
  const tool = /^v?3\.[0-4]\./.test(etcdVersion) ? 'etcdctl' : 'etcdutl';
  // A marker beside the data dir, named for this restore's cluster token, tells a retry that the
  // data dir holds this restore (and not some other data that merely looks like a member).
  const marker = `${spec.dataDir}.restored-${spec.clusterToken}`;
  const staging = `${spec.dataDir}.restoring`;
  const moveIntoPlace = `{ rmdir ${sh`${spec.dataDir}`} 2>/dev/null || true; } && mv ${sh`${staging} ${spec.dataDir}`} && chmod 700 ${sh`${spec.dataDir}`}`;
  // The marker is written before the restored dir is moved into place: a crash between the two
  // leaves marker + staging, and the retry finishes the move instead of finding a "dirty" dir.
  const state = (await s.run(sh`if [ -e ${marker} ] && [ -d ${staging} ]; then echo unmoved; elif [ -e ${marker} ]; then echo restored; elif [ -n "$(ls -A ${spec.dataDir} 2>/dev/null)" ]; then echo dirty; else echo empty; fi`, { timeoutMs: 15_000, signal })).trim();
  if (state === 'unmoved') await s.run(moveIntoPlace, { timeoutMs: 60_000, signal });
  if (state === 'restored' || state === 'unmoved') return { tool, alreadyRestored: true, bumpedRevision: false, note: 'restored earlier by this run' };
  // Revisions must not go backwards for watchers (Kubernetes informers): bump and mark compacted
  // where the installed tool can (etcdctl 3.4.27+, etcdutl 3.5.10+), otherwise say so.
  const env = tool === 'etcdctl' ? 'ETCDCTL_API=3 ' : '';
  const probe = (await s.exec(`command -v ${tool} >/dev/null 2>&1 || { echo missing; exit 0; }; ${env}${tool} snapshot restore --help 2>&1 | grep -q -- --bump-revision && echo bump`, { timeoutMs: 15_000, signal })).stdout.trim();
  if (probe === 'missing') throw ApplicationFailure.nonRetryable(`${s.target.name} has no ${tool} on PATH: etcd ${etcdVersion} (etcd.version in the inventory) restores with ${tool}${tool === 'etcdutl' ? ' (etcd 3.6 has no etcdctl snapshot restore)' : ''}; install that release's ${tool} there, or correct etcd.version, and run again`, 'PreconditionFailed');
  const canBump = probe === 'bump';
  const bump = canBump ? ['--bump-revision', '1000000000', '--mark-compacted'] : [];
  if (state === 'dirty') throw ApplicationFailure.nonRetryable(`${spec.dataDir} on ${s.target.name} is not empty and was not restored by this run: refusing to restore over it (move it aside first)`, 'PreconditionFailed');
  // etcd refuses to restore into an existing directory: restore beside it, then move into place.
  // A restore copies and re-hashes the whole database and writes it into the new data dir.
  const size = await fileSize(s, spec.snapshot, signal);
  reportProgress({ restoring: spec.snapshot, of: size });
  await s.run(`rm -rf ${sh`${staging}`} && ${env}${sh`${tool} snapshot restore ${spec.snapshot} --name ${spec.name} --initial-cluster ${spec.initialCluster} --initial-cluster-token ${spec.clusterToken} --initial-advertise-peer-urls ${spec.peerUrl} --data-dir ${staging} ${bump}`} && touch ${sh`${marker}`} && ${moveIntoPlace}`, { timeoutMs: sizedTimeoutMs(3 * size), signal });
  return {
    tool, alreadyRestored: false, bumpedRevision: canBump,
    note: canBump ? 'revision bumped by 1e9 and marked compacted' : `--bump-revision skipped: the installed ${tool} does not support it (needs etcdctl 3.4.27+ or etcdutl 3.5.10+); watchers may see old revisions and should re-list`,
  };
}
