// Which etcd each lab member runs: Debian's 3.4 (the etcd-server package, /usr/bin/etcd), or a
// release that scripts/build-etcd.sh built from the Go module proxy and cached outside the clone
// (${XDG_CACHE_HOME:-~/.cache}/mooring/etcd/<version>/{etcd,etcdctl,etcdutl}). A member on a
// built release gets the three binaries in its own /usr/local/sbin, ahead of /usr/bin on PATH,
// so the commands Mooring sends over SSH (`etcdctl`, `etcdutl`) find that release's tools.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { etcdCacheDir } from '../client/tools.js';

/** The patch release of each minor that set-up builds (keep in step with scripts/build-etcd.sh). */
export const PINNED_ETCD: Readonly<Record<string, string>> = { '3.5': '3.5.35', '3.6': '3.6.16' };
/** The minor the Debian package provides (etcd-server in Debian 12/13). */
export const SYSTEM_ETCD_MINOR = '3.4';
export const ETCD_TOOLS = ['etcd', 'etcdctl', 'etcdutl'] as const;

export interface EtcdBuild {
  /** Full version, e.g. 3.6.16. */
  version: string;
  /** Directory holding etcd, etcdctl, etcdutl; undefined for the system package (/usr/bin). */
  binDir?: string;
}

let systemVersion: string | undefined;
/** The version of Debian's /usr/bin/etcd, asked once. */
function systemEtcdVersion(): string {
  if (systemVersion) return systemVersion;
  let out = '';
  try { out = execFileSync('/usr/bin/etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 }); } catch { /* below */ }
  const v = /etcd Version: (\d+\.\d+\.\d+)/.exec(out)?.[1];
  if (!v) throw new Error('etcd 3.4 for the lab is the Debian package etcd-server (/usr/bin/etcd), which does not run here: run `npm run setup`');
  return (systemVersion = v);
}

/**
 * Resolves what a caller asks for: `3.4` (or Debian's exact version) is the system package;
 * `3.5`, `3.6` are the pinned builds; an exact `3.M.P` is that build, if it is in the cache.
 */
export function resolveEtcd(requested: string): EtcdBuild {
  const want = requested.trim().replace(/^v/, '');
  const m = /^3\.(\d+)(?:\.(\d+))?$/.exec(want);
  if (!m) throw new Error(`etcd version "${requested}" is not one the lab knows: give 3.4, ${Object.keys(PINNED_ETCD).join(', ')} or an exact 3.M.P that scripts/build-etcd.sh built`);
  const minor = `3.${m[1]}`;
  if (minor === SYSTEM_ETCD_MINOR) {
    const sys = systemEtcdVersion();
    if (m[2] !== undefined && want !== sys) throw new Error(`etcd ${want}: the lab's 3.4 is Debian's package, version ${sys}; ask for 3.4`);
    return { version: sys };
  }
  const version = m[2] !== undefined ? want : PINNED_ETCD[minor];
  if (!version) throw new Error(`etcd ${want}: the lab has 3.4 (Debian) and builds ${Object.entries(PINNED_ETCD).map(([k, v]) => `${k} (${v})`).join(', ')}`);
  const binDir = join(etcdCacheDir(), version);
  const missing = ETCD_TOOLS.filter((t) => !existsSync(join(binDir, t)));
  if (missing.length) throw new Error(`etcd ${version} is not built (${missing.join(', ')} missing in ${binDir}): run \`scripts/build-etcd.sh ${version}\` (or \`npm run setup\`, which builds the pinned ones), then bring the lab up again`);
  return { version, binDir };
}

const minorOf = (v: string) => Number(v.split('.')[1]);

/**
 * Checks that the versions can form one cluster: etcd supports members one minor apart only (a
 * rolling upgrade), so 3.4 beside 3.6 is refused here rather than by a member that never joins.
 */
export function checkMixable(byMember: ReadonlyMap<string, EtcdBuild>): void {
  const minors = [...byMember.values()].map((b) => minorOf(b.version));
  if (!minors.length) return;
  if (Math.max(...minors) - Math.min(...minors) > 1) {
    throw new Error(`etcd members more than one minor apart cannot form a cluster (${[...byMember].map(([n, b]) => `${n}=${b.version}`).join(', ')}): etcd supports one minor apart, during a rolling upgrade`);
  }
}

/** The lowest version among the members: what the cluster runs at, and what the inventory says. */
export function clusterVersion(byMember: ReadonlyMap<string, EtcdBuild>): string {
  const cmp = (a: string, b: string) => {
    const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  };
  return [...byMember.values()].map((b) => b.version).sort(cmp)[0] ?? systemEtcdVersion();
}
