// The host phase workflow `provisionHosts` (the real workflow code on the real Temporal dev server)
// with the SIMULATED host-phase activities (test/helpers/simulated-host-phase.ts): each records its
// call and answers as a host would, keeping what it "did" so a second run finds it done. What is proven here is the order and the input of
// the steps (external etcd formed before kubeadm init, the apiserver's etcd client certificate on
// every master first), bad input refused before any step, a refused etcd member stopping the run;
// the steps themselves run against real etcd, sshd and kubeadm in
// test/e2e/provision-external-etcd.provision.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../client/tools.js';
import { loadInventory } from '../../config/load.js';
import { hostsOf } from '../../config/hosts.js';
import type { Inventory } from '../../config/schema.js';
import type { HostPhaseResult, ProvisionedHost } from '../../activities/host/context.js';
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
});
