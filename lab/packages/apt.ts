// SIMULATED apt-get and apt-mark for bare netns lab nodes (lab only; see docs/provisioning.md).
// The lab has no package mirror and no network to one, so "installing" a package puts on the
// node what the package would: kubeadm and kubectl of the release (links to the lab's builds),
// the SIMULATED kubelet at that release (lab/kubelet/install.ts, the same code the Kubernetes lab
// uses) with its unit, a SIMULATED containerd, and helm (a link to the real Helm that
// scripts/build-helm.sh cached: only the package is simulated). Every argument is checked as apt
// would refuse it: an unknown package, a version that is not an available release, a package whose
// repository (the pkgs.k8s.io minor, or Helm's, in /etc/apt/sources.list.d) is not configured, no -y.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findTool, helmCacheDir, isExecutable } from '../../client/tools.js';
import { shellQuote } from '../../activities/ssh/quote.js';
import { resolveKubernetes } from '../kubernetes-versions.js';
import { installKubelet } from '../kubelet/install.js';

const SBIN = '/usr/local/sbin';
const KUBERNETES = ['kubelet', 'kubeadm', 'kubectl'];
/** Packages whose programs the lab machine already has (Debian's), shared by every node view. */
const ON_THE_MACHINE: Record<string, string> = { haproxy: '/usr/sbin/haproxy', keepalived: '/usr/sbin/keepalived' };

class AptError extends Error { constructor(message: string, readonly code = 100) { super(message); } }

function nodeDir(): string {
  const d = process.env.MOORING_LAB_NODE_DIR;
  if (!d) throw new AptError('SIMULATED apt: run inside a lab node (MOORING_LAB_NODE_DIR is not set)', 1);
  return d;
}

function sourceLines(): string[] {
  const dir = '/etc/apt/sources.list.d';
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.list')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).map((l) => l.trim());
}

/** The pkgs.k8s.io minors the node's sources list names ("1.35"). */
function kubernetesRepositories(): string[] {
  return sourceLines().flatMap((l) => { const m = /^deb \[signed-by=\/\S+\] https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v(\d+\.\d+)\/deb\/ \/$/.exec(l); return m ? [m[1]!] : []; });
}

/** Helm's Debian repository as its install guide configures it (any distribution, component main). */
const HELM_SOURCE = /^deb \[signed-by=\/\S+\] https:\/\/packages\.buildkite\.com\/helm-linux\/helm-debian\/any\/ any main$/;
const helmRepository = () => sourceLines().some((l) => HELM_SOURCE.test(l));

/** The Helm releases scripts/build-helm.sh cached ("4.3.2"), each a real helm binary. */
function helmBuilds(): string[] {
  let names: string[];
  try { names = readdirSync(helmCacheDir()); } catch { return []; }
  return names.flatMap((n) => { const m = /^v(\d+\.\d+\.\d+)$/.exec(n); return m && isExecutable(join(helmCacheDir(), n, 'helm')) ? [m[1]!] : []; });
}

function installHelm(p: string, version: string | undefined): void {
  const v = /^(\d+\.\d+\.\d+)-\*$/.exec(version ?? '')?.[1];
  if (!v) throw new AptError(`E: ${p}: the host phase pins Helm as helm=X.Y.Z-* (got ${JSON.stringify(version ?? '')})`);
  if (!helmRepository()) throw new AptError(`E: Version '${version}' for 'helm' was not found (no packages.buildkite.com/helm-linux/helm-debian repository in /etc/apt/sources.list.d)`);
  const built = helmBuilds();
  if (!built.includes(v)) throw new AptError(`E: Version '${version}' for 'helm' was not found (the lab has built Helm ${built.join(', ') || 'none'}: scripts/build-helm.sh ${v})`);
  link(join(helmCacheDir(), `v${v}`, 'helm'), 'helm');
}

function link(target: string, name: string): void {
  const file = join(SBIN, name);
  let now: string | undefined;
  try { now = readlinkSync(file); } catch { now = undefined; }
  if (now === target) return;
  rmSync(file, { force: true });
  symlinkSync(target, file);
}

function install(args: string[]): string[] {
  if (!args.includes('-y')) throw new AptError('SIMULATED apt-get install: without -y apt would ask; the host phase must pass -y');
  const allowed = new Set(['-y', '-q', '--allow-change-held-packages']);
  const packages = args.filter((a) => !allowed.has(a));
  const bad = packages.find((a) => a.startsWith('-'));
  if (bad) throw new AptError(`SIMULATED apt-get install: option ${bad} is not one the lab knows`);
  if (!packages.length) throw new AptError('SIMULATED apt-get install: no package named');
  const done: string[] = [];
  for (const p of packages) {
    const [name, version] = p.split('=') as [string, string | undefined];
    if (KUBERNETES.includes(name)) {
      const v = /^(\d+\.\d+\.\d+)-\*$/.exec(version ?? '')?.[1];
      if (!v) throw new AptError(`E: ${p}: the host phase pins Kubernetes packages as ${name}=X.Y.Z-* (got ${JSON.stringify(version ?? '')})`);
      const minor = v.split('.').slice(0, 2).join('.');
      if (!kubernetesRepositories().includes(minor)) throw new AptError(`E: Version '${version}' for '${name}' was not found (no pkgs.k8s.io v${minor} repository in /etc/apt/sources.list.d)`);
      let build;
      try { build = resolveKubernetes(v); } catch (err) { throw new AptError(`E: Version '${version}' for '${name}' was not found (${(err as Error).message})`); }
      if (build.version !== v) throw new AptError(`E: Version '${version}' for '${name}' was not found (the lab has ${build.version})`);
      if (name === 'kubelet') {
        installKubelet('/', `v${v}`);
        // The "unit" the SIMULATED systemctl starts: the release's programs the kubelet runs as pods.
        writeFileSync(join(nodeDir(), 'kubelet.unit'), `binaries=${build.binDir}\n`);
      } else if (name === 'kubeadm') link(join(build.binDir, 'kubeadm'), 'kubeadm');
      else link(findTool('kubectl', 'MOORING_KUBECTL'), 'kubectl');
    } else if (name === 'helm') {
      installHelm(p, version);
    } else if (name === 'containerd' && version === undefined) {
      const file = join(SBIN, 'containerd');
      writeFileSync(file, '#!/bin/sh\n# SIMULATED containerd (Mooring lab): no container runtime runs here; the SIMULATED kubelet runs pods as processes.\necho "containerd SIMULATED (Mooring lab)"\n[ "${1:-}" = --version ] || exit 1\n');
      chmodSync(file, 0o755);
    } else if (ON_THE_MACHINE[name] && version === undefined) {
      if (!existsSync(ON_THE_MACHINE[name])) throw new AptError(`E: ${name} is not installed on the lab machine (set-up installs it)`);
    } else {
      throw new AptError(`E: Unable to locate package ${p}`);
    }
    done.push(p);
  }
  return done;
}

function main(argv: string[]): void {
  const [tool, ...args] = argv;
  const log = (line: string) => writeFileSync(join(nodeDir(), 'packages.log'), `${new Date().toISOString()}\t${tool} ${args.join(' ')}\t${line}\n`, { flag: 'a' });
  if (tool === 'apt-get') {
    const words = args.filter((a) => a !== '-q');
    if (words[0] === 'update' && words.length === 1) {
      if (!kubernetesRepositories().length && !helmRepository()) throw new AptError('SIMULATED apt-get update: no pkgs.k8s.io or Helm repository in /etc/apt/sources.list.d');
      log('SIMULATED update'); console.log('SIMULATED apt-get update (Mooring lab: no mirror)');
      return;
    }
    if (words[0] === 'install') { const done = install(words.slice(1)); log(`SIMULATED install ${done.join(' ')}`); console.log(`SIMULATED: installed ${done.join(' ')}`); return; }
    throw new AptError(`SIMULATED apt-get: only update and install are simulated (got ${args.join(' ')})`);
  }
  if (tool === 'apt-mark') {
    const file = join(nodeDir(), 'apt-holds');
    const held = new Set(existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    if (args[0] === 'showhold' && args.length === 1) { for (const p of [...held].sort()) console.log(p); return; }
    if (args[0] !== 'hold' || args.length < 2) throw new AptError('SIMULATED apt-mark: only `apt-mark hold PKG...` and `apt-mark showhold` are simulated');
    for (const p of args.slice(1)) if (![...KUBERNETES, 'helm'].includes(p) || !existsSync(join(SBIN, p))) throw new AptError(`E: Unable to locate package ${p} (not installed)`);
    args.slice(1).forEach((p) => held.add(p));
    writeFileSync(file, `${[...held].sort().join('\n')}\n`);
    for (const p of args.slice(1)) console.log(`${p} set on hold.`);
    return;
  }
  throw new AptError(`SIMULATED apt: unknown tool ${tool}`, 1);
}

/** The shim put at /usr/local/sbin/<tool> on a bare lab node. */
export function aptShim(tool: 'apt-get' | 'apt-mark', main: string): string {
  return `#!/bin/sh\n# SIMULATED ${tool} (Mooring lab): see docs/provisioning.md\nexec ${shellQuote(process.execPath)} ${shellQuote(main)} ${tool} "$@"\n`;
}

if (process.argv[1] && basename(process.argv[1]) === 'apt.js') {
  try {
    mkdirSync(SBIN, { recursive: true });
    main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(err instanceof AptError ? err.code : 1);
  }
}
