// `mooring lab up --kubernetes`: a real control plane on the netns lab. Real kubeadm (init on
// master-1, join --control-plane on master-2/3, join on the worker, run through the bastion), real
// etcd/kube-apiserver/controller-manager/scheduler run by the SIMULATED kubelet as processes of
// each node; real kubectl from this machine's namespace reaches the API only through the loopback
// forward to the VIP, lists every node Ready, and keeps working when the gateway holding the VIP
// is powered off and keepalived moves it to the other one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { KubernetesLab } from '../../lab/kubernetes-lab.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { waitFor } from '../../lab/processes.js';
import { scratchDir } from '../helpers/scratch.js';

const LAYOUT = { tag: 'kt', lan: 2, loopback: '127.62.0' };
// The oldest pinned release: the one set-up builds first.
const RELEASE = pinnedKubernetes()[0]!;

describe(`netns lab with Kubernetes ${RELEASE}: kubeadm control plane behind the VIP`, { timeout: 900_000 }, () => {
  let lab: KubernetesLab;

  before(async () => {
    lab = new KubernetesLab({ dir: scratchDir('mooring-k8s-'), layout: LAYOUT, kubernetes: RELEASE });
    await lab.up();
  });
  after(async () => {
    await lab?.down();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`mnet-${LAYOUT.tag}-`));
    assert.deepEqual(left, [], 'every namespace the lab made is deleted');
    assert.deepEqual(await lab.net.leftovers(), []);
  });

  it('lists every node Ready at the release kubeadm installed, through the VIP from this machine', async () => {
    const kubeconfig = parse(readFileSync(lab.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    assert.equal(kubeconfig.clusters[0]?.cluster.server, `https://${LAYOUT.loopback}.100:6443`, 'the server is this machine\'s loopback entry to the VIP');
    const { stdout } = await lab.kubectl(['get', 'nodes', '-o', 'json']);
    const nodes = (JSON.parse(stdout) as { items: { metadata: { name: string; labels: Record<string, string> }; status: { nodeInfo: { kubeletVersion: string }; addresses: { type: string; address: string }[] } }[] }).items;
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['master-1', 'master-2', 'master-3', 'worker-1']);
    assert.deepEqual((await lab.readyNodes()).sort(), ['master-1', 'master-2', 'master-3', 'worker-1']);
    for (const n of nodes) {
      assert.equal(n.status.nodeInfo.kubeletVersion, `v${RELEASE}`);
      assert.match(n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '', /^10\.77\.2\.\d+$/);
    }
    // kubeadm marked the masters (init and join --control-plane), not the worker.
    const cp = nodes.filter((n) => 'node-role.kubernetes.io/control-plane' in n.metadata.labels).map((n) => n.metadata.name).sort();
    assert.deepEqual(cp, ['master-1', 'master-2', 'master-3']);
    // Stacked etcd: three members, one per master, each the real etcd run from kubeadm's manifest.
    const pods = JSON.parse((await lab.kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'component=etcd', '-o', 'json'])).stdout) as { items: { spec: { nodeName: string }; status: { phase: string } }[] };
    assert.deepEqual(pods.items.map((p) => p.spec.nodeName).sort(), ['master-1', 'master-2', 'master-3']);
    assert.ok(pods.items.every((p) => p.status.phase === 'Running'));
  });

  it('keeps serving kubectl after the gateway holding the VIP is powered off', async () => {
    await lab.kubectl(['create', 'configmap', 'canary', '--from-literal=written=before-failover']);
    const holder = await lab.net.vipHolder();
    assert.ok(holder, 'a gateway holds the VIP');
    const other = holder === 'gw-1' ? 'gw-2' : 'gw-1';
    await lab.net.powerOff(holder);
    await waitFor(`the VIP to move to ${other}`, async () => (await lab.net.vipHolder()) === other, 20_000, 200);
    let ready: string[] = [];
    await waitFor('kubectl through the VIP on the other gateway', async () => {
      ready = await lab.readyNodes().catch((): string[] => []);
      return ready.length === 4;
    }, 30_000, 500);
    assert.deepEqual(ready.sort(), ['master-1', 'master-2', 'master-3', 'worker-1']);
    const { stdout } = await lab.kubectl(['get', 'configmap', 'canary', '-o', 'jsonpath={.data.written}']);
    assert.equal(stdout, 'before-failover');
  });
});
