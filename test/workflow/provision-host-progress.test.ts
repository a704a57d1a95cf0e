// The host phase reports each host's step to its parent: `provision` (the production workflows on
// the real Temporal dev server, its cloud phase against the SIMULATED OpenStack fake on 127.0.0.1,
// kernel-chosen port) runs the real provisionHosts workflow on SIMULATED host activities
// (test/helpers/simulated-host-phase.ts), and the parent's progress query (what `mooring provision`,
// `mooring status` and the Web UI show) has one step per host that follows it: held in its
// `kubeadm join`, shown there; at the end every host done, each with its last step.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { startSeedCloud, type SeedCloud } from '../helpers/openstack-seeds.js';
import { simulatedHostPhase } from '../helpers/simulated-host-phase.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('provision: per-host progress from the host phase (real Temporal, SIMULATED OpenStack and host activities)', () => {
  let t: TestTemporal;
  let cloud: SeedCloud;
  let worker: TestWorker;
  const sim = simulatedHostPhase();
  const taskQueue = uniqueTaskQueue('provision-host-progress');

  before(async () => {
    cloud = await startSeedCloud('127.0.0.1');
    t = await startTestTemporal();
    worker = await startTestWorker(t.address, taskQueue, { ...cloud.activities, ...sim.activities });
  });
  after(async () => {
    await worker?.stop();
    await t?.stop();
    await cloud?.fake.close();
  });

  it('the parent shows each host\'s step while it runs, and every host done at the end', async () => {
    const inv = cloud.seed2;
    const release = sim.holdJoin('master2');
    const h = await startRunbook(t.client, findRunbook('provision'), inv, { taskQueue, approvalTimeoutMs: 120_000 });
    await eventually('the approval gate', async () => (await h.query(progressQuery)).pendingApproval, 60_000, 100);
    await decide(t.client, h.workflowId, { approved: true, by: 'tester' });
    const held = await eventually('master2 shown in its kubeadm join', async () => {
      const steps = (await h.query(progressQuery)).steps;
      return steps.find((s) => s.id === 'host:master2' && s.status === 'running' && s.detail === 'kubeadm join (control plane)…') ? steps : undefined;
    }, 60_000, 100);
    const byId = (id: string) => held.find((s) => s.id === id);
    assert.equal(byId('host:master1')?.detail, 'kubeadm init: 1 change(s)', 'master1 finished its init before master2 joined');
    assert.equal(byId('host:master3')?.detail, 'prerequisites (swap, modules, sysctl, runtime, packages): 1 change(s)', 'master3 waits for master2: its last step so far is the prerequisites');
    assert.equal(byId('host:gw-1')?.status, 'done');
    assert.match(byId('host:gw-1')!.detail!, /^HAProxy \+ keepalived; VIP 172\.30\.0\.100 held by gw-1$/);
    // The host steps come right after the host phase's own step, in the inventory's order.
    const ids = held.map((s) => s.id);
    const hosts = [...inv.gateways, ...inv.masters, ...inv.workers].map((n) => `host:${n.name}`);
    assert.deepEqual(ids.slice(ids.indexOf('hosts') + 1, ids.indexOf('hosts') + 1 + hosts.length), hosts);
    release();

    const r = await h.result() as ProvisionResult;
    assert.equal(r.kubeconfigPath, '/SIMULATED/managed-k8s/admin.conf');
    const steps = (await h.query(progressQuery)).steps;
    for (const id of hosts) {
      const s = steps.find((x) => x.id === id);
      assert.equal(s?.status, 'done', `${id}: ${JSON.stringify(s)}`);
    }
    assert.equal(steps.find((s) => s.id === 'host:worker2')?.detail, `Ready (kubelet v${inv.kubernetes.version})`);
    assert.ok(sim.calls.includes('joinNode master2'));
  });
});
