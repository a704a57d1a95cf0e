// A release's kubeadm, kubelet and kubectl onto a node, as the upgrade's "package" step: each file
// copied beside its place from the release directory (kubernetes.binaries.source) and renamed over
// the installed one (atomic per file; a symlink is replaced, never written through). Each package
// is looked at first: one that already reports the release is left alone, so a retry after a crash
// does only what is missing. In the lab the release directory is the SIMULATED package source
// (lab/kubernetes-lab.ts: the built kubeadm, the machine's kubectl, the SIMULATED kubelet's shim).
import { ApplicationFailure } from '@temporalio/activity';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import type { KubePackage, KubernetesBinaries } from './context.js';

const VERSION = /^\d+\.\d+\.\d+$/;
const minor = (v: string) => Number(v.split('.')[1]);

/** The command each package answers its version with (kubectl: the client's only). */
const VERSION_OF: Record<KubePackage, (bin: string) => string> = {
  kubeadm: (bin) => sh`${bin} version -o short`,
  kubelet: (bin) => sh`${bin} --version`,
  kubectl: (bin) => sh`${bin} version --client -o json`,
};

export async function packageVersion(s: SshSession, pkg: KubePackage, bin: string, signal: AbortSignal): Promise<string | undefined> {
  const r = await s.exec(`[ -x ${sh`${bin}`} ] && ${VERSION_OF[pkg](bin)}`, { timeoutMs: 30_000, signal });
  if (r.code !== 0) return undefined;
  return (pkg === 'kubectl' ? /"gitVersion":\s*"v(\d+\.\d+\.\d+)/ : /v(\d+\.\d+\.\d+)/).exec(r.stdout)?.[1];
}

export interface PackagesResult { installed: KubePackage[]; already: KubePackage[]; previous: Partial<Record<KubePackage, string>> }

export async function installPackages(s: SshSession, b: KubernetesBinaries, version: string, packages: readonly KubePackage[], signal: AbortSignal): Promise<PackagesResult> {
  if (!VERSION.test(version)) throw ApplicationFailure.nonRetryable(`Kubernetes version "${version}" is not 1.M.P`, 'InvalidInput');
  const src = b.source.replace('{version}', version);
  const out: PackagesResult = { installed: [], already: [], previous: {} };
  for (const pkg of packages) {
    const to = `${b.installDir}/${pkg}`;
    const offered = await packageVersion(s, pkg, `${src}/${pkg}`, signal);
    // kubectl is a client: any build within one minor of the release is in its skew policy (the
    // lab has one kubectl build for its three releases). kubeadm and kubelet must be the release.
    const fits = pkg === 'kubectl' ? offered !== undefined && Math.abs(minor(offered) - minor(version)) <= 1 : offered === version;
    if (!fits) {
      throw ApplicationFailure.nonRetryable(`${s.target.name}: ${src}/${pkg} ${offered ? `reports ${offered}, not ${pkg === 'kubectl' ? `within one minor of ${version}` : version}` : 'is missing or does not run'} (kubernetes.binaries.source): put ${pkg} ${version} there`, 'PreconditionFailed');
    }
    const now = await packageVersion(s, pkg, to, signal);
    if (now === offered) { out.already.push(pkg); continue; }
    if (now) out.previous[pkg] = now;
    const tmp = `${b.installDir}/.${pkg}.mooring-new`;
    await s.run(sh`mkdir -p ${b.installDir} && cp ${`${src}/${pkg}`} ${tmp} && chmod 755 ${tmp} && mv -f ${tmp} ${to}`, { timeoutMs: 180_000, signal });
    const after = await packageVersion(s, pkg, to, signal);
    if (after !== offered) throw new Error(`${s.target.name}: ${to} reports ${after ?? 'nothing'} after installing ${offered}`);
    out.installed.push(pkg);
  }
  return out;
}
