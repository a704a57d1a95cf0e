// Crash sample for provision: the worker process is SIGKILLed while Nova is creating a server (the
// fake holds the create for 3 s, then makes the server whether or not anyone waits for the
// answer: "a crash between a create and its record"). A new worker process finishes the run; the
// project has exactly one server per host, every one tagged, and no stray port. Real Temporal, the
// SIMULATED OpenStack fake on 127.85.0.1, seed 002, the TEST DOUBLE host phase.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { startSeedCloud, type SeedCloud } from '../helpers/openstack-seeds.js';
import { scratchDir } from '../helpers/scratch.js';

describe('crash: kill -9 the worker during a server create (real Temporal, SIMULATED OpenStack)', () => {
  let t: TestTemporal;
  let cloud: SeedCloud;
  const workers: WorkerProcess[] = [];
  const dir = scratchDir('mooring-crash-provision-');

  before(async () => {
    cloud = await startSeedCloud('127.85.0.1');
    Object.assign(process.env, cloud.env); // the worker processes inherit the cloud's OS_* variables
    t = await startTestTemporal();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await cloud?.fake.close();
  });

  it('ends with one server per host, all tagged, no duplicate and no orphan', async () => {
    const taskQueue = uniqueTaskQueue('crash-provision');
    const spawn = async () => {
      const w = startWorkerProcess(t.address, taskQueue, join(dir, `worker-${workers.length + 1}.log`), [join(PROJECT_ROOT, 'dist', 'test', 'helpers', 'provision-worker.js')]);
      workers.push(w);
      await w.ready;
      return w;
    };
    const first = await spawn();
    const h = await startRunbook(t.client, findRunbook('provision'), cloud.seed2, { taskQueue, approvalTimeoutMs: 300_000 });
    await eventually('the approval gate', async () => (await h.query(progressQuery)).pendingApproval, 120_000, 200);
    const slow = cloud.fake.faults.inject({ method: 'POST', pathPattern: '/compute/v2\\.1/servers$', delayMs: 3000 });
    await decide(t.client, h.workflowId, { approved: true, by: 'tester', comment: 'crash sample' });
    // The rule is spent the moment the fake takes the request: a create is in flight.
    await eventually('a server create in flight', async () => !cloud.fake.faults.list().some((f) => f.id === slow), 120_000, 20);
    assert.equal(await first.kill9(), 'SIGKILL');
    await spawn();
    const r = await h.result() as ProvisionResult;
    assert.equal(r.hosts!.length, 7);
    const servers = [...cloud.fake.state.servers.values()];
    assert.deepEqual(servers.map((s) => s.name).sort(), cloud.seed2.gateways.concat(cloud.seed2.masters, cloud.seed2.workers).map((n) => `managed-k8s-${n.name}`).sort(), 'one server per host');
    assert.ok(servers.every((s) => s.tags.includes('mooring-cluster=managed-k8s') && s.status === 'ACTIVE'));
    const named = [...cloud.fake.state.ports.values()].filter((p) => p.name.startsWith('managed-k8s-'));
    assert.equal(named.length, 8, 'a port per host and the VIP port, none twice');
    assert.equal(new Set(named.map((p) => p.name)).size, named.length);
    assert.ok(named.every((p) => p.tags.includes('mooring-cluster=managed-k8s')));
  });
});
