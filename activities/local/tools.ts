// Where the external programs Mooring drives are found on the machine that runs it (CLI, worker,
// lab): the set-up script's .tools/bin first, then PATH. Nothing is ever downloaded at run time.
// Below activities, CLI and lab alike, so an activity never imports from client/.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** True when `path` exists and this process may execute it. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where scripts/build-etcd.sh caches the etcd releases it builds, one directory per version. */
export function etcdCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring', 'etcd');
}

/** Where scripts/build-kubernetes.sh caches the Kubernetes releases it builds, one directory per version. */
export function kubernetesCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring', 'kubernetes');
}

/** Where scripts/build-helm.sh caches the Helm releases it builds, one directory per version (v4.3.2/helm). */
export function helmCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring', 'helm');
}

/** The cached etcd builds (directories named 3.M.P), newest first. */
export function cachedEtcdBuilds(): string[] {
  let names: string[];
  try { names = readdirSync(etcdCacheDir()); } catch { return []; }
  const key = (v: string) => v.split('.').map(Number);
  return names.filter((n) => /^\d+\.\d+\.\d+$/.test(n)).sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return (y[0]! - x[0]!) || (y[1]! - x[1]!) || (y[2]! - x[2]!);
  }).map((n) => join(etcdCacheDir(), n));
}

/**
 * `envVar` if set, else .tools/bin, else PATH, else `fallbackDirs` in order (for the etcd tools:
 * the newest release set-up built, whose etcdutl restores snapshots of every older minor too).
 */
export function findTool(name: string, envVar?: string, fallbackDirs: readonly string[] = []): string {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const candidates = [join(PROJECT_ROOT, '.tools', 'bin', name), ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, name)), ...fallbackDirs.map((d) => join(d, name))];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${name} not found: run \`npm run setup\` (it installs ${name} into .tools/bin)${envVar ? ` or set ${envVar}` : ''}`);
  return found;
}
