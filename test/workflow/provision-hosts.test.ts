// The host phase workflow `provisionHosts` (the real workflow code on the real Temporal dev server)
// with the SIMULATED host-phase activities (test/helpers/simulated-host-phase.ts): each records its
// call and answers as a host would, keeping what it "did" so a second run finds it done. What is proven here is the order and the input of
// the steps (external etcd formed before kubeadm init, the apiserver's etcd client certificate on
// every master first), bad input refused before any step, a refused etcd member stopping the run;
// the addons (CNI, then local-path storage, on the first master after the joins and the admin
// kubeconfig, rolled out before "every node Ready"; a re-run applies nothing; a CNI that does not
// ship refused unless kubernetes.cniManifest is given; a run recorded before them keeps its shape);
// the steps themselves run against real etcd, sshd and kubeadm in
// test/e2e/provision-external-etcd.provision.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { loadInventory } from '../../config/load.js';
import { hostsOf } from '../../config/hosts.js';
import type { Inventory } from '../../config/schema.js';
import type { HostPhaseResult, ProvisionedHost } from '../../activities/host/context.js';
import { workflowBundle } from '../../workers/worker.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkflowFileWorker, type TestWorker } from '../helpers/worker.js';
import { simulatedHostPhase } from '../helpers/simulated-host-phase.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const hostsFor = (inv: Inventory): ProvisionedHost[] => hostsOf(inv).map((h) => ({ name: h.name, roles: h.roles, address: h.ip, hostKey: 'ssh-ed25519 AAAASIMULATED', machineId: `vm-${h.name}` }));

describe('provisionHosts (real workflow, SIMULATED host activities)', () => {
  let temporal: TestTemporal;
  let worker: TestWorker;
  let seed1: Inventory;
  let seed2: Inventory;
  const sim = simulatedHostPhase();
  const { log: calls, done, refuse } = sim;
  const taskQueue = uniqueTaskQueue('provision-hosts');

  before(async () => {
    seed1 = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'));
    seed2 = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-002-openstack-stacked-etcd.yaml'));
    temporal = await startTestTemporal();
    worker = await startWorkflowFileWorker(temporal.address, taskQueue, join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'hosts.js'), sim.activities);
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
  });

  const run = (inv: Inventory) => {
    calls.length = 0;
    sim.calls.length = 0;
    return temporal.client.workflow.execute('provisionHosts', { workflowId: `hosts-${randomUUID()}`, taskQueue, args: [{ inventory: inv, hosts: hostsFor(inv) }] }) as Promise<HostPhaseResult>;
  };
  const index = (step: string, host = '') => calls.findIndex((c) => c.step === step && (!host || c.host === host));
  const lastIndex = (step: string) => calls.map((c) => c.step).lastIndexOf(step);

  it('external etcd (seed 001): CA, every etcd host, every member started, cluster formed, client certificates, then kubeadm init', async () => {
    done.clear();
    const r = await run(seed1);
    const members = seed1.etcd.members.map((m) => m.name);
    assert.deepEqual(calls.filter((c) => c.step === 'prepareEtcdMember').map((c) => c.host).sort(), members);
    assert.deepEqual(calls.filter((c) => c.step === 'startEtcdMember').map((c) => c.host).sort(), members);
    assert.ok(index('ensureEtcdCa') < index('prepareEtcdMember'), 'the CA is made once, before the members use it');
    assert.ok(lastIndex('prepareEtcdMember') < index('startEtcdMember'), 'every host prepared before any member starts');
    assert.ok(lastIndex('startEtcdMember') < index('waitEtcdCluster'), 'every member started before the cluster is judged');
    assert.ok(index('waitEtcdCluster') < index('placeApiserverEtcdClient'));
    assert.deepEqual(calls.filter((c) => c.step === 'placeApiserverEtcdClient').map((c) => c.host).sort(), seed1.masters.map((m) => m.name));
    assert.ok(lastIndex('placeApiserverEtcdClient') < index('initControlPlane'));
    assert.ok(index('waitForVip') < index('ensureEtcdCa'), 'the load balancers first, as for stacked etcd');
    // The member steps get the inventory's etcd paths and ports (the recoveries' EtcdSettings).
    const settings = calls.find((c) => c.step === 'startEtcdMember')!.input.etcd as Record<string, unknown>;
    assert.equal(settings.configPath, '/etc/etcd/etcd.conf.yaml');
    assert.equal(settings.peerPort, 2380);
    assert.ok(r.changed.includes('etcd-2: SIMULATED: etcd started'), r.changed.join('\n'));
    assert.ok(r.changed.includes('state directory: etcd CA made'));
    assert.ok(r.smoke.includes('external etcd: 3 members healthy, one cluster ID SIMULATED, leader etcd-1'), r.smoke.join('\n'));
    assert.equal(calls.filter((c) => c.step === 'waitEtcdCluster').length, 2, 'formed before init, checked again in the smoke test');
  });

  it('a second run of the same cluster reports no change', async () => {
    const r = await run(seed1);
    assert.deepEqual(r.changed, []);
  });

  it('stacked etcd (seed 002) runs no external etcd step', async () => {
    done.clear();
    const r = await run(seed2);
    assert.deepEqual(calls.filter((c) => /Etcd/.test(c.step)).map((c) => c.step), []);
    assert.ok(r.changed.includes(`${seed2.masters[0]!.name}: SIMULATED: kubeadm init`), r.changed.join('\n'));
    assert.ok(!r.smoke.some((l) => l.includes('external etcd')));
  });

  it('external etcd without etcd.binaries is refused, naming the field, before any step', async () => {
    const inv: Inventory = { ...seed1, etcd: { ...seed1.etcd } };
    delete inv.etcd.binaries;
    const err = await run(inv).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause as Error).message), /^etcd\.binaries\.source: /);
    assert.deepEqual(calls, []);
  });

  it('a member that belongs to another cluster stops the run before kubeadm init', async () => {
    done.clear();
    refuse.step = 'startEtcdMember';
    refuse.host = 'etcd-3';
    try {
      const err = await run(seed1).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      // The workflow's failure is the activity's, whose cause is the member's refusal.
      assert.match(String((err.cause?.cause as Error | undefined)?.message), /etcd-3 refused/);
      assert.equal(calls.filter((c) => c.step === 'startEtcdMember' && c.host === 'etcd-3').length, 1, 'PreconditionFailed is not retried');
      assert.equal(index('waitEtcdCluster'), -1);
      assert.equal(index('initControlPlane'), -1);
    } finally {
      delete refuse.step;
      delete refuse.host;
    }
  });

  // Addons (patch 'provision-hosts-addons'): the CNI, then local-path storage, their rollout.
  it('seed 002 (flannel): CNI, then local-path, on the first master after the joins and the kubeconfig; rolled out before every node Ready', async () => {
    done.clear();
    const r = await run(seed2);
    const s = calls.map((c) => c.step);
    const first = seed2.masters[0]!.name;
    const at = (step: string) => s.indexOf(step);
    assert.ok(s.lastIndexOf('joinNode') < at('fetchAdminKubeconfig'));
    assert.ok(at('fetchAdminKubeconfig') < at('applyAddon:cni'), s.join(', '));
    assert.ok(at('applyAddon:cni') < at('applyAddon:local-path'));
    assert.ok(at('applyAddon:local-path') < at('installHelm'));
    assert.deepEqual(calls.filter((c) => c.step === 'installHelm').map((c) => c.host).sort(), seed2.masters.map((m) => m.name).sort(), 'Helm on every master');
    assert.ok(s.lastIndexOf('installHelm') < at('waitAddonsRollout'));
    assert.ok(at('waitAddonsRollout') < at('waitNodesReady'));
    assert.deepEqual(calls.filter((c) => c.step.startsWith('applyAddon') || c.step === 'waitAddonsRollout').map((c) => c.host), [first, first, first]);
    // The rollout is asked about every master and worker.
    assert.deepEqual(calls.find((c) => c.step === 'waitAddonsRollout')!.input.names, [...seed2.masters, ...seed2.workers].map((n) => n.name));
    assert.ok(r.changed.includes(`${first}: SIMULATED: CNI flannel v0.28.10 applied`), r.changed.join('\n'));
    assert.ok(r.changed.includes(`${first}: SIMULATED: local-path storage v0.0.30 applied`));
    const nodes = seed2.masters.length + seed2.workers.length;
    assert.ok(r.smoke.includes(`SIMULATED: CNI flannel v0.28.10: DaemonSet ready on ${nodes}/${nodes} nodes`), r.smoke.join('\n'));
    // The smoke test ends with a PVC bound on local-path, then Helm answering through the VIP, from the first master.
    assert.deepEqual(s.slice(-2), ['checkPvcBinding', 'checkHelm'], s.join(', '));
    assert.deepEqual(calls.filter((c) => c.step === 'checkPvcBinding' || c.step === 'checkHelm').map((c) => c.host), [first, first]);
    assert.ok(r.smoke.some((l) => /PVC bound on local-path/.test(l)), r.smoke.join('\n'));
    assert.ok(r.smoke.some((l) => /Helm v4\.3\.2; helm list through the VIP/.test(l)), r.smoke.join('\n'));
    assert.ok(!r.smoke.some((l) => /not checked yet/.test(l)), r.smoke.join('\n'));
    assert.ok(!r.smoke.some((l) => /not installed by the host phase yet|local-path storage: not installed/.test(l)), r.smoke.join('\n'));
  });

  it('a second run applies nothing and says so', async () => {
    const r = await run(seed2);
    assert.deepEqual(r.changed, []);
    assert.equal(calls.map((c) => c.step).filter((c) => c.startsWith('applyAddon')).length, 2, 'each addon is diffed again');
  });

  it('calico without kubernetes.cniManifest is refused before any step, naming the field and both fixes', async () => {
    const err = await run({ ...seed2, kubernetes: { ...seed2.kubernetes, cni: 'calico' } }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause as Error).message), /^kubernetes\.cni: calico's manifest does not ship with Mooring .*set kubernetes\.cniManifest .*or set kubernetes\.cni: flannel$/);
    assert.deepEqual(sim.calls, []);
  });

  it('calico with kubernetes.cniManifest: the operator\'s manifest is the CNI applied', async () => {
    done.clear();
    const inv: Inventory = { ...seed2, kubernetes: { ...seed2.kubernetes, cni: 'calico', cniManifest: '/srv/mooring/calico.yaml' } };
    const r = await run(inv);
    assert.ok(r.changed.includes(`${seed2.masters[0]!.name}: SIMULATED: CNI calico (/srv/mooring/calico.yaml) applied`), r.changed.join('\n'));
  });

  it('a run recorded before the addons (patch off) replays on today\'s code with its old shape: no addon step, the old smoke lines', async () => {
    const file = join(PROJECT_ROOT, 'test', 'histories', 'provision-hosts-progress.json');
    const raw = readFileSync(file, 'utf8');
    assert.ok(!raw.includes('applyAddon') && !raw.includes('provision-hosts-addons'), 'recorded before the patch');
    const result = (JSON.parse(raw) as { events: { workflowExecutionCompletedEventAttributes?: { result?: { payloads?: { data?: string }[] } } }[] })
      .events.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
    assert.ok(result, 'the history completed');
    assert.match(Buffer.from(result, 'base64').toString('utf8'), /local-path storage: not installed yet/);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(raw)), 'provision-hosts-progress');
  });
});
