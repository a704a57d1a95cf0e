// etcd releases on a member host: which ones the binary source offers, which one is installed
// where the unit runs it from, and installing another one there. Installing copies each tool next
// to its place and renames it over (atomic per file; a symlink is replaced, never written
// through), etcd itself last, so a crash in between leaves the old etcd and a retry does it again.
// The replaced binaries are kept per version in keepDir: the way back for a member that fails.
import { ApplicationFailure } from '@temporalio/activity';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';

export interface EtcdBinaries {
  /** A directory per release on the host, `{version}` standing for it. */
  source: string;
  installDir: string;
  keepDir: string;
}

/** etcdutl exists from 3.5 on; etcd and etcdctl in every release. Order: etcd last. */
const TOOLS = ['etcdctl', 'etcdutl', 'etcd'] as const;
const VERSION = /^\d+\.\d+\.\d+$/;

/** The releases found in `source` (a `{version}` directory pattern) holding every `required` program. */
export async function releasesIn(s: SshSession, source: string, required: readonly string[], signal: AbortSignal): Promise<string[]> {
  const [pre = '', post = ''] = source.split('{version}');
  const checks = required.map((t) => `[ -x "$d/"${sh`${t}`} ]`).join(' && ');
  const out = await s.run(`for d in ${sh`${pre}`}*${sh`${post}`}; do ${checks} && printf '%s\\n' "$d"; done; true`, { timeoutMs: 20_000, signal });
  return out.split('\n').filter((l) => l.startsWith(pre) && l.endsWith(post))
    .map((l) => l.slice(pre.length, l.length - post.length)).filter((v) => VERSION.test(v));
}

/** `etcd --version` of a binary: "etcd Version: 3.5.35" → 3.5.35; undefined when absent. */
export async function binaryVersion(s: SshSession, path: string, signal: AbortSignal): Promise<string | undefined> {
  const r = await s.exec(sh`[ -x ${path} ] && ${path} --version`, { timeoutMs: 15_000, signal });
  return r.code === 0 ? /etcd Version: (\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] : undefined;
}

export interface InstallResult { version: string; alreadyInstalled: boolean; previous?: string; keptAt?: string }

export async function installRelease(s: SshSession, b: EtcdBinaries, version: string, signal: AbortSignal): Promise<InstallResult> {
  if (!VERSION.test(version)) throw ApplicationFailure.nonRetryable(`etcd version "${version}" is not 3.M.P`, 'InvalidInput');
  const installed = `${b.installDir}/etcd`;
  const previous = await binaryVersion(s, installed, signal);
  if (previous === version) return { version, alreadyInstalled: true };
  const src = b.source.replace('{version}', version);
  const offered = await binaryVersion(s, `${src}/etcd`, signal);
  if (offered !== version) {
    throw ApplicationFailure.nonRetryable(`${s.target.name}: ${src}/etcd ${offered ? `reports ${offered}, not ${version}` : 'is missing or does not run'} (etcd.binaries.source): put etcd ${version}'s binaries there`, 'PreconditionFailed');
  }
  let keptAt: string | undefined;
  if (previous) {
    // Kept once per version: a retry finds the copy complete (renamed into place last) and keeps it.
    keptAt = `${b.keepDir}/${previous}`;
    const copies = TOOLS.map((t) => sh`if [ -e ${`${b.installDir}/${t}`} ]; then cp -L ${`${b.installDir}/${t}`} ${`${keptAt}.partial/${t}`}; fi`).join(' && ');
    await s.run(`if [ ! -x ${sh`${keptAt}/etcd`} ]; then rm -rf ${sh`${keptAt}.partial`} && mkdir -p ${sh`${keptAt}.partial`} && ${copies} && mv ${sh`${keptAt}.partial ${keptAt}`}; fi`, { timeoutMs: 120_000, signal });
  }
  await s.run(sh`mkdir -p ${b.installDir}`, { timeoutMs: 15_000, signal });
  for (const t of TOOLS) {
    const from = `${src}/${t}`;
    const to = `${b.installDir}/${t}`;
    const tmp = `${b.installDir}/.${t}.mooring-new`;
    // etcd 3.4 has no etcdutl: an etcdutl of a newer release left behind would lie about the version.
    await s.run(sh`if [ -e ${from} ]; then cp ${from} ${tmp} && chmod 755 ${tmp} && mv -f ${tmp} ${to}; else rm -f ${to}; fi`, { timeoutMs: 120_000, signal });
  }
  const now = await binaryVersion(s, installed, signal);
  if (now !== version) throw new Error(`${s.target.name}: ${installed} reports ${now ?? 'nothing'} after installing ${version}`);
  return { version, alreadyInstalled: false, ...(previous ? { previous } : {}), ...(keptAt ? { keptAt } : {}) };
}
