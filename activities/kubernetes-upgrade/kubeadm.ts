// kubeadm on a node: `upgrade plan`, `upgrade apply` (the first master), `upgrade node` (the
// others). Each writes kubeadm's whole output to /var/lib/kubeadm-upgrade-<step>.log on the node
// and fails with its tail. Done is read from the cluster, not remembered: `apply` counts as done
// when kubeadm's ClusterConfiguration (uploaded after the control plane is upgraded) and this
// master's kube-apiserver manifest both name the release; `node` on a master when its manifests
// do. Re-running either on a half-done node is what kubeadm itself supports.
import type { SshSession } from '../ssh/session.js';
import { sh, shellQuote } from '../ssh/quote.js';
import { kubectlCommand } from './kubectl.js';

const MANIFESTS = '/etc/kubernetes/manifests';
const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** `cmd` with its output in a log on the node; its tail is the error when it fails. */
export const logged = (step: string, command: string) => {
  const file = shellQuote(`/var/lib/kubeadm-upgrade-${step}.log`);
  return `${command} > ${file} 2>&1 || { code=$?; tail -n 30 ${file} >&2; exit "$code"; }`;
};

const ignoring = (checks: readonly string[]) => (checks.length ? [`--ignore-preflight-errors=${checks.join(',')}`] : []);

/** The release the node's static-pod manifests run, per component (absent: not a control-plane node). */
export async function manifestVersions(s: SshSession, signal: AbortSignal): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const c of COMPONENTS) {
    const r = await s.exec(sh`grep -o ${`image: *[^ ]*${c}:[^ ]*`} ${`${MANIFESTS}/${c}.yaml`}`, { timeoutMs: 15_000, signal });
    out[c] = r.code === 0 ? /:v?(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] : undefined;
  }
  return out;
}

/** kubernetesVersion of kubeadm's ClusterConfiguration in the kubeadm-config ConfigMap. */
export async function clusterConfigVersion(s: SshSession, signal: AbortSignal): Promise<string | undefined> {
  const out = await s.run(kubectlCommand(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']), { timeoutMs: 60_000, signal });
  return /kubernetesVersion:\s*v?(\d+\.\d+\.\d+)/.exec(out)?.[1];
}

export async function upgradePlan(s: SshSession, version: string, ignore: readonly string[], signal: AbortSignal): Promise<string> {
  const cmd = sh`kubeadm upgrade plan ${`v${version}`} ${ignoring(ignore)}`;
  await s.run(logged('plan', cmd), { timeoutMs: 300_000, signal });
  const out = await s.run(sh`cat /var/lib/kubeadm-upgrade-plan.log`, { timeoutMs: 15_000, signal });
  // What kubeadm would do, for the run's history: its table of components, not the whole log.
  return out.split('\n').filter((l) => /^(COMPONENT|kube-|etcd|kubelet|CoreDNS|coredns|kubeadm|Upgrade to|You can now apply)/i.test(l.trim())).slice(0, 30).join('\n');
}

export async function upgradeApply(s: SshSession, version: string, ignore: readonly string[], signal: AbortSignal): Promise<{ ran: boolean; tail: string }> {
  const [cfg, mine] = [await clusterConfigVersion(s, signal), (await manifestVersions(s, signal))['kube-apiserver']];
  if (cfg === version && mine === version) return { ran: false, tail: `the cluster configuration and ${s.target.name}'s kube-apiserver already run ${version}` };
  await s.run(logged('apply', sh`kubeadm upgrade apply ${`v${version}`} --yes ${ignoring(ignore)}`), { timeoutMs: 1_800_000, signal });
  const tail = await s.run(sh`tail -n 3 /var/lib/kubeadm-upgrade-apply.log`, { timeoutMs: 15_000, signal });
  return { ran: true, tail: tail.trim() };
}

export async function upgradeNode(s: SshSession, version: string, role: 'master' | 'worker', ignore: readonly string[], signal: AbortSignal): Promise<{ ran: boolean; tail: string }> {
  if (role === 'master') {
    const m = await manifestVersions(s, signal);
    if (COMPONENTS.every((c) => m[c] === version)) return { ran: false, tail: `${s.target.name}'s control plane already runs ${version}` };
  }
  await s.run(logged('node', sh`kubeadm upgrade node ${ignoring(ignore)}`), { timeoutMs: 1_800_000, signal });
  const tail = await s.run(sh`tail -n 3 /var/lib/kubeadm-upgrade-node.log`, { timeoutMs: 15_000, signal });
  return { ran: true, tail: tail.trim() };
}
