// The end of one Kubernetes hop on the netns Kubernetes lab, checked for real through the lab's
// apiserver with real kubectl, and the kubeadm steps each node received over SSH (the lab's command
// log). Shared by the crash sample, the crash matrix and bench:upgrade, so each judges a hop alike.
import assert from 'node:assert/strict';
import type { KubernetesLab } from '../../lab/kubernetes-lab.js';
import { CORDONED_BY } from '../../activities/kubernetes-upgrade/context.js';

export const HOP_NODES = ['master-1', 'master-2', 'master-3', 'worker-1'] as const;

interface NodeJson {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] };
}

/**
 * Every node Ready and schedulable with its kubelet on `version`, none carrying the upgrade's
 * cordon mark, and the nine control-plane mirror pods (three components on three masters) on
 * `version`. Throws (assert) naming what is off.
 */
export async function expectHopDone(lab: KubernetesLab, version: string, what: string): Promise<void> {
  const kubectl = async (...args: string[]) => (await lab.kubectl(args)).stdout;
  const nodes = (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as { items: NodeJson[] }).items;
  assert.deepEqual(nodes.map((n) => `${n.metadata.name}=${n.status.nodeInfo.kubeletVersion}`).sort(), HOP_NODES.map((n) => `${n}=v${version}`), `every kubelet on ${version} (${what})`);
  for (const n of nodes) {
    assert.ok(n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), `${n.metadata.name} Ready (${what})`);
    assert.ok(!n.spec?.unschedulable, `${n.metadata.name} left cordoned (${what})`);
    assert.equal(n.metadata.annotations?.[CORDONED_BY], undefined, `${n.metadata.name} still carries ${CORDONED_BY} (${what})`);
  }
  const pods = (JSON.parse(await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'tier=control-plane', '-o', 'json')) as { items: { metadata: { name: string }; spec: { containers: { image: string }[] } }[] }).items;
  const images = pods.filter((p) => !p.metadata.name.startsWith('etcd-')).map((p) => `${p.metadata.name} ${p.spec.containers[0]!.image}`);
  assert.ok(images.length === 9 && images.every((i) => i.endsWith(`:v${version}`)), `the control plane on ${version} (${what}): ${images.join(', ')}`);
}

export interface KubeadmRuns { apply: number; node: number; kubeletRestarts: number }

/** Per node, how often it received `kubeadm upgrade apply`, `kubeadm upgrade node` and a kubelet restart. */
export function kubeadmRuns(lab: KubernetesLab): Record<string, KubeadmRuns> {
  return Object.fromEntries(HOP_NODES.map((n) => {
    const cmds = lab.net.commandsReceived(n);
    const count = (re: RegExp) => cmds.filter((c) => re.test(c)).length;
    return [n, { apply: count(/kubeadm upgrade apply /), node: count(/kubeadm upgrade node\b/), kubeletRestarts: count(/systemctl restart kubelet/) }];
  }));
}

/** What one hop must have run on the lab: apply once on master-1, `upgrade node` once on every other node. */
export const ONE_HOP_KUBEADM = {
  'master-1': { apply: 1, node: 0 }, 'master-2': { apply: 0, node: 1 }, 'master-3': { apply: 0, node: 1 }, 'worker-1': { apply: 0, node: 1 },
};

/** `kubeadmRuns` after minus before, without the kubelet restarts (harmless when repeated). */
export function kubeadmDelta(after: Record<string, KubeadmRuns>, before: Record<string, KubeadmRuns>): Record<string, { apply: number; node: number }> {
  return Object.fromEntries(HOP_NODES.map((n) => [n, { apply: after[n]!.apply - (before[n]?.apply ?? 0), node: after[n]!.node - (before[n]?.node ?? 0) }]));
}
