// Records the histories of provision, its OpenStack cloud phase (provisionCloud) and deprovision
// for the replay test, against the SIMULATED OpenStack fake on 127.85.0.1 (no lab, no root). The
// host phase is the TEST DOUBLE of test/workflow/provision-test-doubles.ts: replaying `provision`
// does not run its children, only their recorded results. Two more, on today's code:
//   provision-approved-creates  a floating IP deleted right after the check ("nothing to create"):
//                               the cloud phase refuses it, the runbook checks again and asks
//                               ('provision-approved-creates')
//   provision-hosts-progress    the real provisionHosts as provision's child, on the SIMULATED host
//                               activities of test/helpers/simulated-host-phase.ts, reporting each
//                               host's step to its parent ('provision-hosts-progress')
//   provision-hosts-external-etcd-progress  the same for seed 001: external etcd formed by the host
//                               phase, its hosts' steps reported too (both patches on)
//   provision-addons, provision-hosts-addons  the provision-hosts-progress run's parent and child
//                               recorded again with the addons ('provision-hosts-addons'; the
//                               names already on disk are kept, so only these two are new)
//   npm run build && node dist/test/replay/record-provision-histories.js [--force]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { provisionTestActivities, startSeedCloud } from '../helpers/openstack-seeds.js';
import { startTestWorker } from '../helpers/worker.js';
import { simulatedHostPhase } from '../helpers/simulated-host-phase.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const OUT = join(PROJECT_ROOT, 'test', 'histories');
const force = process.argv.includes('--force');
const cloud = await startSeedCloud('127.85.0.1');
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('record-provision');
const connection = await NativeConnection.connect({ address: t.address });
const { hooks, activities } = provisionTestActivities(cloud.activities);
const worker = await Worker.create({
  connection, taskQueue, workflowsPath: join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js'), activities,
});
const running = worker.run();
try {
  const save = (name: string, workflowId: string, runId?: string) => {
    if (!force && existsSync(join(OUT, `${name}.json`))) { process.stdout.write(`kept ${name}\n`); return; }
    const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json']);
    writeFileSync(join(OUT, `${name}.json`), json);
    process.stdout.write(`recorded ${name}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
  };
  const approve = async (h: WorkflowHandle) => {
    await eventually('the gate', async () => (await h.query(progressQuery)).pendingApproval, 60_000, 100);
    await decide(t.client, h.workflowId, { approved: true, by: 'recorder', comment: 'recorded for the replay test' });
  };
  const opts = { taskQueue, approvalTimeoutMs: 120_000 };
  // Seed 002, one server failing once (the delete-and-boot-again branch of the cloud phase).
  cloud.fake.state.failNextBuild('No valid host was found. There are not enough hosts available.', { name: 'managed-k8s-master1' });
  const p = await startRunbook(t.client, findRunbook('provision'), cloud.seed2, opts);
  await approve(p);
  await p.result();
  save('provision', p.workflowId, p.firstExecutionRunId);
  save('provision-cloud', `ops/managed-k8s/cloud-${p.firstExecutionRunId}`);
  const again = await startRunbook(t.client, findRunbook('provision'), cloud.seed2, opts);
  await again.result();
  save('provision-unchanged', again.workflowId, again.firstExecutionRunId);
  hooks.afterCheck = () => {
    const fip = [...cloud.fake.state.floatingIps.values()][0];
    if (!fip) throw new Error('seed 002 has no floating IP to delete');
    cloud.fake.state.floatingIps.delete(fip.id);
  };
  const missing = await startRunbook(t.client, findRunbook('provision'), cloud.seed2, opts);
  await approve(missing);
  await missing.result();
  save('provision-approved-creates', missing.workflowId, missing.firstExecutionRunId);
  const d = await startRunbook(t.client, findRunbook('deprovision'), cloud.seed2, opts);
  await approve(d);
  await d.result();
  save('deprovision', d.workflowId, d.firstExecutionRunId);
  // The production workflows (the real host phase) on SIMULATED host activities.
  const prodQueue = uniqueTaskQueue('record-provision-hosts');
  const prod = await startTestWorker(t.address, prodQueue, { ...cloud.activities, ...simulatedHostPhase().activities });
  try {
    const full = await startRunbook(t.client, findRunbook('provision'), cloud.seed2, { ...opts, taskQueue: prodQueue });
    await approve(full);
    await full.result();
    save('provision-hosts-progress', `ops/managed-k8s/hosts-${full.firstExecutionRunId}`);
    // The same run on today's code with the addons step (patch 'provision-hosts-addons'): the parent
    // (the CNI check at the plan) and its host phase (CNI, local-path storage, their rollout).
    save('provision-addons', full.workflowId, full.firstExecutionRunId);
    save('provision-hosts-addons', `ops/managed-k8s/hosts-${full.firstExecutionRunId}`);
    // Seed 001: external etcd and per-host progress together (the etcd steps reported too).
    const external = await startRunbook(t.client, findRunbook('provision'), cloud.seed1, { ...opts, taskQueue: prodQueue });
    await approve(external);
    await external.result();
    save('provision-hosts-external-etcd-progress', `ops/${cloud.seed1.cluster.name}/hosts-${external.firstExecutionRunId}`);
  } finally {
    await prod.stop();
  }
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await t.stop();
  await cloud.fake.close();
}
