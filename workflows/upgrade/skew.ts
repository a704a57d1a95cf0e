// Kubernetes' version-skew policy (kubernetes.io/releases/version-skew-policy), as the upgrade
// plan checks it on the cluster before it plans anything. Pure.
import type { NodeVersions } from '../../activities/kubernetes-versions/observe.js';
import { highest, KUBEADM_ETCD, KUBEADM_ETCD_CHECKED_THROUGH, lowest, mustParse, formatVersion, type Version } from './versions.js';

/**
 * What etcd each Kubernetes minor needs, written from the table the plan computes with (so the
 * approver reads the same facts the hops were placed by).
 */
const ETCD_FOR_KUBERNETES = `etcd for Kubernetes (kubeadm's constants, checked through 1.${KUBEADM_ETCD_CHECKED_THROUGH}): ${KUBEADM_ETCD.map((r, i) => {
  const next = KUBEADM_ETCD[i + 1];
  return `1.${r.fromMinor}${next ? `-1.${next.fromMinor - 1}` : '+'} run etcd ${r.etcdMinor} and accept external etcd ${r.minExternal}+`;
}).join('; ')}. External etcd reaches each minor before the first Kubernetes hop to a release that needs it.`;

export const SKEW_RULES: readonly string[] = [
  'kube-apiserver: instances of an HA control plane at most one minor apart (only during an upgrade).',
  'kube-controller-manager, kube-scheduler: not newer than kube-apiserver (the newest, while a hop rolls through the masters), at most one minor older.',
  'kubelet: never newer than kube-apiserver; at most three minors older (two before Kubernetes 1.28).',
  'kubectl: within one minor of kube-apiserver, older or newer.',
  'kubeadm: upgrades one minor at a time, and must itself be at the target release on the node it runs on.',
  'So: control plane first, one minor per hop, then kubelets and kubectl on every node before the next hop.',
  'etcd: one minor at a time (3.4 → 3.5 → 3.6), newest patch of a minor before the next; members one minor apart only during the rolling upgrade.',
  ETCD_FOR_KUBERNETES,
];

/** How many minors a kubelet may lag the apiserver (1.28 widened it from two to three). */
export const kubeletMaxLag = (apiserver: Version) => (apiserver.minor >= 28 ? 3 : 2);

/** What breaks the policy now, one sentence each (kubectl: see kubectlNotes). */
export function skewProblems(nodes: readonly NodeVersions[]): string[] {
  const v = (n: NodeVersions, c: keyof NodeVersions) => mustParse(n[c] as string, `${n.name} ${c}`);
  const apis = nodes.filter((n) => n.apiserver).map((n) => ({ n, v: v(n, 'apiserver') }));
  const out: string[] = [];
  const apiLow = lowest(apis.map((a) => a.v));
  const apiHigh = highest(apis.map((a) => a.v));
  if (!apiLow || !apiHigh) {
    const stray = nodes.filter((n) => n.controllerManager || n.scheduler).map((n) => n.name);
    if (stray.length) out.push(`${stray.join(', ')} run controller-manager or scheduler without a kube-apiserver`);
    return out;
  }
  if (apiHigh.minor - apiLow.minor > 1) out.push(`kube-apiserver instances are ${apiHigh.minor - apiLow.minor} minors apart (${apis.map((a) => `${a.n.name} ${formatVersion(a.v)}`).join(', ')})`);
  for (const n of nodes) {
    for (const c of ['controllerManager', 'scheduler'] as const) {
      if (!n[c]) continue;
      const x = v(n, c);
      // Against the newest apiserver: kubeadm's rolling control-plane upgrade runs a new
      // controller-manager beside an old apiserver on the next master for a while, and a resumed
      // run must be able to plan from that state.
      if (x.minor > apiHigh.minor) out.push(`${n.name} ${c} ${formatVersion(x)} is newer than every kube-apiserver (${formatVersion(apiHigh)})`);
      else if (apiHigh.minor - x.minor > 1) out.push(`${n.name} ${c} ${formatVersion(x)} is more than one minor older than kube-apiserver ${formatVersion(apiHigh)}`);
    }
    if (n.kubelet) {
      const k = v(n, 'kubelet');
      if (k.minor > apiLow.minor) out.push(`${n.name} kubelet ${formatVersion(k)} is newer than kube-apiserver ${formatVersion(apiLow)}`);
      else if (apiHigh.minor - k.minor > kubeletMaxLag(apiHigh)) out.push(`${n.name} kubelet ${formatVersion(k)} is ${apiHigh.minor - k.minor} minors older than kube-apiserver ${formatVersion(apiHigh)} (at most ${kubeletMaxLag(apiHigh)})`);
    }
  }
  return out;
}

/**
 * kubectl outside its skew: a note, not a refusal. It is a client (a node's kubectl does not
 * affect the cluster), and every hop installs the hop's kubectl on each node anyway.
 */
export function kubectlNotes(nodes: readonly NodeVersions[]): string[] {
  const apis = nodes.flatMap((n) => (n.apiserver ? [mustParse(n.apiserver, `${n.name} apiserver`)] : []));
  const low = lowest(apis);
  const high = highest(apis);
  if (!low || !high) return [];
  return nodes.flatMap((n) => {
    if (!n.kubectl) return [];
    const k = mustParse(n.kubectl, `${n.name} kubectl`);
    return Math.abs(k.minor - low.minor) > 1 || Math.abs(k.minor - high.minor) > 1
      ? [`${n.name}: kubectl ${formatVersion(k)} is more than one minor from kube-apiserver; each hop installs the hop's kubectl`] : [];
  });
}
