// The provisioning host phase with external etcd (seed 001's shape) on the bare netns lab: two
// gateways (gw-1 the bastion), three dedicated etcd hosts, three masters, one worker; the real
// Temporal dev server and worker. The workflow installs etcd 3.6 from the staged release on the
// etcd hosts, issues their certificates from Mooring's PKI, writes the unit (run by the SIMULATED
// systemctl) and the member configs of a new cluster, starts the REAL etcd members, checks that
// they form one cluster, then runs the real kubeadm init (etcd.external) and joins through the
// VIP. The test checks the result from inside the lab with etcdctl and kubectl, not from what the
// workflow says. A second run changes nothing. Outside `npm test` (about 10 minutes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createAddonActivities } from '../../activities/addons/index.js';
import type { NetnsLab } from '../../lab/netns/netns-lab.js';
import { SEED_001_NODES } from '../../lab/netns/topology.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import type { HostPhaseResult } from '../../activities/host/context.js';
import { parseEndpointStatus, parseMemberList } from '../../activities/etcd-recovery/etcdctl.js';
import type { TestTemporal } from '../helpers/temporal.js';
import { startHostPhaseLab, type HostPhaseLab } from '../helpers/host-phase-lab.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const LAYOUT = { tag: 'e10', lan: 13, loopback: '127.83.0' };
const RELEASE = pinnedKubernetes()[0]!;
const ETCD = ['etcd-1', 'etcd-2', 'etcd-3'];

describe(`provisionHosts with external etcd on the bare netns lab (seed 001's shape, Kubernetes ${RELEASE})`, { timeout: 1_200_000 }, () => {
  let lab: NetnsLab;
  let temporal: TestTemporal;
  let stateDir: string;
  let phase: HostPhaseLab;

  before(async () => {
    phase = await startHostPhaseLab({ prefix: 'mooring-hosts-etcd-', layout: LAYOUT, kubernetesVersion: RELEASE, nodes: SEED_001_NODES });
    ({ lab, temporal, stateDir } = phase);
  });
  after(async () => {
    // Not a test: with MOORING_RECORD_HISTORY the first run's history is written for test/replay.
    await phase?.stop(first ? { workflowId: firstId, file: 'provision-hosts-external-etcd.json' } : undefined);
    if (lab) assert.deepEqual(await lab.leftovers(), []);
  });

  const run = (id: string) => phase.run(id);
  /** etcdctl on an etcd host with its client certificate (the one the host phase laid down). */
  const etcdctl = (node: string, args: string[]) => lab.execIn(node, ['/usr/local/sbin/etcdctl', `--endpoints=${ETCD.map((n) => `https://${lab.address(n)}:2379`).join(',')}`,
    '--cacert=/etc/etcd/ssl/ca.crt', '--cert=/etc/etcd/ssl/client.crt', '--key=/etc/etcd/ssl/client.key', ...args]);

  let first: HostPhaseResult;
  const firstId = `provision-hosts-etcd-${randomUUID()}`;

  it('provisions the external etcd, then the control plane on it, and passes the smoke test', async () => {
    first = await run(firstId);
    for (const n of ETCD) {
      assert.ok(first.changed.includes(`${n}: etcd 3.6.16 installed in /usr/local/sbin`), first.changed.join('\n'));
      assert.ok(first.changed.includes(`${n}: etcd server, peer and client certificates issued`));
      assert.ok(first.changed.includes(`${n}: /etc/etcd/etcd.conf.yaml written (new cluster of 3)`));
    }
    assert.ok(first.changed.includes(`master-1: kubeadm init (control-plane endpoint ${lab.vip}:6443)`));
    assert.ok(first.changed.includes('master-3: kubeadm join --control-plane'));
    assert.ok(first.changed.includes('worker-1: kubeadm join'));
    assert.deepEqual(first.nodes.map((n) => n.name).sort(), ['master-1', 'master-2', 'master-3', 'worker-1']);
    assert.ok(first.nodes.every((n) => n.ready), JSON.stringify(first.nodes));
    assert.match(first.smoke.join('\n'), /external etcd: 3 members healthy, one cluster ID [0-9a-f]+/);
    assert.equal(statSync(join(stateDir, 'clusters', 'lab-e10', 'etcd-ca.key')).mode & 0o777, 0o600);
  });

  it('the etcd members are healthy, in one cluster of exactly the three hosts, running the installed release', async () => {
    const health = JSON.parse(await etcdctl('etcd-2', ['endpoint', 'health', '-w', 'json'])) as { health: boolean }[];
    assert.equal(health.filter((h) => h.health).length, 3);
    const status = parseEndpointStatus(await etcdctl('etcd-2', ['endpoint', 'status', '-w', 'json']));
    assert.equal(status.length, 3);
    assert.equal(new Set(status.map((s) => s.clusterId)).size, 1, JSON.stringify(status));
    assert.ok(status.every((s) => s.version === '3.6.16'));
    const list = parseMemberList(await etcdctl('etcd-3', ['member', 'list', '-w', 'json']));
    assert.deepEqual(list.members.map((m) => `${m.name} ${m.peerURLs.join(',')}`).sort(), ETCD.map((n) => `${n} https://${lab.address(n)}:2380`));
    // The unit the host phase wrote is what runs etcd there.
    assert.match(readFileSync(join(lab.nodeDir('etcd-1'), 'root', 'etc', 'systemd', 'system', 'etcd.service'), 'utf8'), /^ExecStart=\/usr\/local\/sbin\/etcd --config-file \/etc\/etcd\/etcd\.conf\.yaml$/m);
  });

  it('the control plane stores its state in the external etcd and answers /readyz through the VIP', async () => {
    assert.ok(!existsSync(join(lab.nodeDir('master-1'), 'root', 'etc', 'kubernetes', 'manifests', 'etcd.yaml')), 'no stacked etcd on the masters');
    const apiserver = readFileSync(join(lab.nodeDir('master-2'), 'root', 'etc', 'kubernetes', 'manifests', 'kube-apiserver.yaml'), 'utf8');
    assert.match(apiserver, new RegExp(`--etcd-servers=${ETCD.map((n) => `https://${lab.address(n).replace(/\./g, '\\.')}:2379`).join(',')}`));
    assert.match(apiserver, /--etcd-certfile=\/etc\/kubernetes\/pki\/apiserver-etcd-client\.crt/);
    const keys = await etcdctl('etcd-1', ['get', '/registry/minions/', '--prefix', '--keys-only']);
    for (const n of ['master-1', 'master-2', 'master-3', 'worker-1']) assert.match(keys, new RegExp(`/registry/minions/${n}\\b`));
    assert.equal((await lab.execIn('master-3', ['/usr/local/sbin/kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', 'get', '--raw=/readyz'])).trim(), 'ok');
  });

  it('the addons are in the cluster as Mooring rendered them: flannel (net-conf Network = podSubnet) and local-path storage, applied server-side by mooring', async () => {
    const kubectl = (args: string[]) => lab.execIn('master-2', ['/usr/local/sbin/kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', ...args]);
    assert.ok(first.changed.some((c) => c.startsWith('master-1: CNI flannel v0.28.10 applied (')), first.changed.join('\n'));
    assert.ok(first.changed.some((c) => c.startsWith('master-1: local-path storage v0.0.30 applied (')), first.changed.join('\n'));
    const netConf = JSON.parse(await kubectl(['get', 'configmap', '-n', 'kube-flannel', 'kube-flannel-cfg', '-o', 'jsonpath={.data.net-conf\\.json}'])) as { Network: string };
    assert.equal(netConf.Network, lab.parsedInventory().kubernetes.podSubnet);
    const ds = JSON.parse(await kubectl(['get', 'daemonset', '-n', 'kube-flannel', 'kube-flannel-ds', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string; operation: string }[] }; spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.ok(ds.metadata.managedFields.some((f) => f.manager === 'mooring' && f.operation === 'Apply'), JSON.stringify(ds.metadata.managedFields));
    assert.equal(ds.spec.template.spec.containers[0]!.image, 'ghcr.io/flannel-io/flannel:v0.28.10');
    assert.equal((await kubectl(['get', 'deployment', '-n', 'local-path-storage', 'local-path-provisioner', '-o', 'name'])).trim(), 'deployment.apps/local-path-provisioner');
    assert.equal((await kubectl(['get', 'storageclass', 'local-path', '-o', 'jsonpath={.provisioner}'])).trim(), 'rancher.io/local-path');
    const smoke = first.smoke.join('\n');
    if (process.env.MOORING_LAB_ADDON_PODS !== '0') {
      assert.match(smoke, /CNI flannel v0\.28\.10: DaemonSet kube-flannel-ds ready on 4\/4 nodes/);
      assert.match(smoke, /local-path storage v0\.0\.30: provisioner available \(Deployment local-path-provisioner available \(1\/1\)\), StorageClass local-path/);
      // The real local-path-provisioner (run by the SIMULATED kubelet's runtime) bound the smoke PVC on the worker.
      assert.match(smoke, /PVC bound on local-path: mooring-smoke-pvc → pvc-[0-9a-f-]+ on worker-1/);
      assert.match(smoke, /Helm v4\.3\.2 on master-1, master-2, master-3; helm list through the VIP/);
    } else {
      // MOORING_LAB_ADDON_PODS=0: the rollout is not waited for, and the result says so.
      assert.match(smoke, /CNI flannel v0\.28\.10: applied; rollout not checked \(kubernetes\.addonRollout: none-simulated/);
    }
  });

  // With the addons' pods running (the default) the smoke test above waited for them for real;
  // with MOORING_LAB_ADDON_PODS=0 they never run, and the wait must name what is not ready.
  it('the rollout wait reads the real cluster: with addonRollout: wait it times out naming what is not ready (MOORING_LAB_ADDON_PODS=0)', { skip: process.env.MOORING_LAB_ADDON_PODS !== '0' && 'the addons\' pods run in this lab (MOORING_LAB_ADDON_PODS is not 0): the smoke test waited for their rollout' }, async () => {
    const inv = lab.parsedInventory();
    const waiting = { ...inv, kubernetes: { ...inv.kubernetes, addonRollout: 'wait' as const } };
    const err = await new MockActivityEnvironment().run(createAddonActivities().waitAddonsRollout,
      { inventory: waiting, hosts: lab.provisionedHosts(), host: 'master-1', names: ['master-1', 'master-2', 'master-3', 'worker-1'], timeoutSeconds: 5 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'AddonNotReady');
    assert.match(err.message, /^addons not rolled out in 5 s: CNI flannel v0\.28\.10: DaemonSet kube-flannel-ds ready on 0\/4 nodes/);
    assert.match(err.message, /local-path storage v0\.0\.30: Deployment local-path-provisioner not available \(0\/1/);
    assert.match(err.message, /pods not ready: .*local-path-provisioner-[a-z0-9-]+( on [a-z0-9-]+)?: Pending/);
  });

  it('keeps every private key out of the history', async () => {
    const history = JSON.stringify(await temporal.client.workflow.getHandle(firstId).fetchHistory());
    assert.doesNotMatch(history, /BEGIN [A-Z ]*PRIVATE KEY|client-key-data/);
  });

  // kubectl diff against the real kube-apiserver finds both addons as applied: nothing is applied again.
  it('a second run on the finished cluster changes nothing', async () => {
    const before = parseEndpointStatus(await etcdctl('etcd-1', ['endpoint', 'status', '-w', 'json']));
    const again = await run(`provision-hosts-etcd-${randomUUID()}`);
    assert.deepEqual(again.changed, []);
    const after = parseEndpointStatus(await etcdctl('etcd-1', ['endpoint', 'status', '-w', 'json']));
    assert.deepEqual(after.map((s) => s.memberId).sort(), before.map((s) => s.memberId).sort(), 'the same members, not a new cluster');
    assert.equal(after[0]!.clusterId, before[0]!.clusterId);
  });
});
