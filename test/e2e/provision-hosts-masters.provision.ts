// Seed 003's shape for the provisioning host phase (workflows/provision/hosts.ts) on the bare netns
// lab: no gateways, the VIP on the masters (loadBalancer.placement: masters), HAProxy on every
// master binding VIP:60443 (6443 is the master's own apiserver) with net.ipv4.ip_nonlocal_bind,
// keepalived moving the VIP between the masters, kubeadm's control-plane endpoint VIP:60443. Three
// stacked masters and one worker (seed 003 has five workers; one proves the worker join). gw-1 is
// only the SSH bastion, this machine's way into the lab network, not a host of the cluster.
// Nodes run sshd and the SIMULATED stand-ins only (apt-get, systemctl, the kubelet); HAProxy,
// keepalived, kubeadm, the control plane and kubectl are real. Not part of `npm test` (~10 min):
// bash scripts/with-node.sh --test dist/test/e2e/provision-hosts-masters.provision.js
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Runtime, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { NetnsLab } from '../../lab/netns/netns-lab.js';
import { NETNS_NODES } from '../../lab/netns/topology.js';
import { waitFor } from '../../lab/processes.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { createHostPhaseActivities } from '../../activities/host/index.js';
import type { HostPhaseResult } from '../../activities/host/context.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const LAYOUT = { tag: 'p11', lan: 14, loopback: '127.84.0' };
const RELEASE = pinnedKubernetes()[0]!;
/** gw-1 (the bastion only), three masters, one worker. */
const NODES = NETNS_NODES.filter((n) => n.name !== 'gw-2');
const MASTERS = ['master-1', 'master-2', 'master-3'];

describe(`provisionHosts with the VIP on the masters (seed 003's shape, Kubernetes ${RELEASE})`, { timeout: 1_200_000 }, () => {
  let lab: NetnsLab;
  let temporal: TestTemporal;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('provision-hosts-masters');

  before(async () => {
    const dir = scratchDir('mooring-hosts-masters-');
    lab = new NetnsLab({ dir: join(dir, 'lab'), layout: LAYOUT, bare: true, kubernetesVersion: RELEASE, nodes: NODES, placement: 'masters' });
    await lab.up();
    temporal = await startTestTemporal();
    connection = await NativeConnection.connect({ address: temporal.address });
    worker = await Worker.create({
      connection, taskQueue, workflowsPath: join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'hosts.js'),
      activities: createHostPhaseActivities({ stateDir: join(dir, 'state') }),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await temporal?.stop();
    await lab?.down();
    assert.deepEqual(await lab.leftovers(), []);
  });

  const run = (id: string) => temporal.client.workflow.execute('provisionHosts', {
    workflowId: id, taskQueue, args: [{ inventory: lab.parsedInventory(), hosts: lab.provisionedHosts() }],
  }) as Promise<HostPhaseResult>;

  it('the inventory is seed 003\'s shape: no gateways, placement masters, the endpoint VIP:60443', () => {
    const inv = lab.parsedInventory();
    assert.deepEqual(inv.gateways, []);
    assert.equal(inv.loadBalancer.placement, 'masters');
    assert.equal(inv.kubernetes.controlPlaneEndpoint, `${lab.vip}:60443`);
    assert.deepEqual(lab.provisionedHosts().map((h) => h.name), [...MASTERS, 'worker-1']);
  });

  let first: HostPhaseResult;
  it('provisions it: HAProxy and keepalived on the masters, kubeadm through VIP:60443, every node Ready, the VIP moves', async () => {
    assert.equal(await lab.vipHolder(), undefined, 'no VIP before the host phase');
    first = await run(`provision-hosts-masters-${randomUUID()}`);
    assert.equal(first.apiEndpoint, `https://${lab.vip}:60443`);
    assert.deepEqual(first.nodes.map((n) => n.name).sort(), [...MASTERS, 'worker-1']);
    assert.ok(first.nodes.every((n) => n.ready && n.kubeletVersion === `v${RELEASE}`), JSON.stringify(first.nodes));
    for (const m of MASTERS) {
      assert.ok(first.changed.includes(`${m}: /etc/haproxy/haproxy.cfg (checked by haproxy -c)`), first.changed.join('\n'));
      assert.ok(first.changed.includes(`${m}: net.ipv4.ip_nonlocal_bind = 1`), first.changed.join('\n'));
      const cfg = await lab.execIn(m, ['cat', '/etc/haproxy/haproxy.cfg']);
      assert.match(cfg, new RegExp(`bind ${lab.vip.replace(/\./g, '\\.')}:60443`));
    }
    assert.ok(!first.changed.some((c) => c.startsWith('gw-1:')), 'the bastion is not touched');
    assert.ok(first.changed.includes(`master-1: kubeadm init (control-plane endpoint ${lab.vip}:60443)`), first.changed.join('\n'));
    assert.ok(first.changed.includes('worker-1: kubeadm join'));
    assert.match(first.smoke.join('\n'), /VIP failover: keepalived stopped on master-\d, the VIP moved to master-\d/);
  });

  it('a second run changes nothing', async () => {
    const again = await run(`provision-hosts-masters-${randomUUID()}`);
    assert.deepEqual(again.changed, []);
  });

  it('the API keeps answering through VIP:60443 when the master holding the VIP loses power', async () => {
    const holder = await lab.vipHolder();
    assert.ok(holder && MASTERS.includes(holder), `VIP on ${holder}`);
    await lab.powerOff(holder);
    const others = MASTERS.filter((m) => m !== holder);
    await waitFor('the VIP on another master', async () => others.includes((await lab.vipHolder()) ?? ''), 30_000, 250);
    const from = others[0]!;
    await waitFor(`the API through the moved VIP, from ${from}`, async () => (await lab.execIn(from, ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', '--server', `https://${lab.vip}:60443`, 'get', '--raw=/readyz']).catch(() => '')).trim() === 'ok', 60_000, 500);
  });
});
