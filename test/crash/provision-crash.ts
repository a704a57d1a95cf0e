// Crash matrix for provision's OpenStack cloud phase and for deprovision, on the SIMULATED
// OpenStack fake (a fresh one per case, 127.0.0.1, kernel-chosen port; seed 002's shape) and the
// real Temporal dev server. For each boundary N the first worker PROCESS freezes right after the
// N-th activity of the runbook's cloud work completed (provision: of its provisionCloud child;
// deprovision: of the run itself) and is SIGKILLed there; a new worker process finishes the run.
//
// Activities the dead worker had in flight (parallel creates, a server wait) would be retried by
// the server only when their start-to-close (2 minutes) or heartbeat (30 s) timeout expires; the
// harness fails each such attempt by its activity ID instead, which is what that timeout does
// (a retryable attempt failure), minutes sooner. Whatever the dead attempt sent the fake stays
// done (the fake finishes a create whether or not anyone waits for the answer): "a crash between
// a create and its record".
//
// After the run: provision leaves exactly one resource of each kind per host (servers, ports, the
// VIP port, floating IPs) and one network, subnet, router, security group and server group per
// role, all tagged, nothing else of the cluster's and no untagged leftover, and the fake's request
// log shows each create POSTed once (a retry that made a second would show). Deprovision leaves
// the project as it was before the cluster was made.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../../client/tools.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { startTestTemporal, uniqueTaskQueue, within, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { projectState, startSeedCloud } from '../helpers/openstack-seeds.js';
import { scratchDir } from '../helpers/scratch.js';
import { BoundaryMissed, killedAt, nextStep, snapshotOf, type RunSnapshot } from './boundary.js';
import { approveGate, endOpen, eventsOf, failInFlight } from './provision-run.js';
import { checkProvisioned } from './cloud-state.js';

export type ProvisionCrashRunbook = 'provision' | 'deprovision';

// Activities each completes on seed 002's happy path; boundary N kills right after the N-th.
// provision's cloud phase: boot refs(1) key pair(2) network(3) subnet(4) router, security groups,
// server groups in parallel(5-7) VIP port(8) 7 host ports in parallel(9-15) 2 floating IPs(16-17)
// then per host a server and its wait for ACTIVE, the 7 hosts side by side(18-31).
// deprovision: find(1) [gate] delete 7 servers(2-8) 2 floating IPs(9-10) 8 ports(11-18) router(19)
// subnet(20) network(21) 3 security groups(22-24) 3 server groups(25-27) key pair(28) verify(29).
export const PROVISION_BOUNDARIES: Record<ProvisionCrashRunbook, number> = { provision: 31, deprovision: 29 };

export interface ProvisionCrashEnv { t: TestTemporal; workers: WorkerProcess[]; dir: string; bundle: string }

const WORKER = fileURLToPath(new URL('../helpers/provision-worker.js', import.meta.url));

export async function setUpProvisionCrash(): Promise<ProvisionCrashEnv> {
  const dir = scratchDir('mooring-crash-provision-');
  // One bundle for every worker process of the matrix (bundling takes seconds each time).
  const { code } = await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error(m) { process.stderr.write(`bundler: ${m}\n`); } } });
  const bundle = join(dir, 'workflows.js');
  writeFileSync(bundle, code);
  return { t: await startTestTemporal(), workers: [], dir, bundle };
}

export async function tearDownProvisionCrash(e: ProvisionCrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
}

async function spawn(e: ProvisionCrashEnv, taskQueue: string, tag: string, freeze?: { after: number; workflow: string }): Promise<WorkerProcess> {
  const args = [WORKER, '--bundle', e.bundle, ...(freeze ? ['--freeze-after', String(freeze.after), '--freeze-workflow', freeze.workflow] : [])];
  const w = startWorkerProcess(e.t.address, taskQueue, join(e.dir, `worker-${tag}-${e.workers.length}.log`), args);
  e.workers.push(w);
  await w.ready;
  return w;
}

export interface ProvisionCrashOutcome { total: number; killedAfter: number; inFlightFailed: number }

/**
 * Kills the worker at `boundary` of `runbook` and checks the outcome. Fails (BoundaryMissed)
 * unless the worker was killed at the boundary while the run was still open.
 */
export async function crashProvisionAt(e: ProvisionCrashEnv, runbook: ProvisionCrashRunbook, boundary: number): Promise<ProvisionCrashOutcome> {
  const tag = `${runbook}-${boundary}`;
  const cloud = await startSeedCloud('127.0.0.1');
  Object.assign(process.env, cloud.env); // the worker processes reach this case's fake
  const { t } = e;
  const inv = cloud.seed2;
  let h: WorkflowHandle | undefined;
  const mine = e.workers.length;
  try {
    const empty = projectState(cloud.fake);
    if (runbook === 'deprovision') {
      // The cluster to remove, made by a worker that is not killed.
      const q0 = uniqueTaskQueue(`crash-${tag}-setup`);
      const w0 = await spawn(e, q0, `${tag}-setup`);
      const p = await startRunbook(t.client, findRunbook('provision'), inv, { taskQueue: q0, approvalTimeoutMs: 300_000 });
      await approveGate(t.client, p);
      await within('the provision before the deprovision', p.result(), 180_000);
      await w0.stop();
    }
    const mark = cloud.fake.requests.length;
    const taskQueue = uniqueTaskQueue(`crash-${tag}`);
    const w = await spawn(e, taskQueue, tag, { after: boundary, workflow: runbook === 'provision' ? 'provisionCloud' : 'deprovision' });
    const started = await startRunbook(t.client, findRunbook(runbook), inv, { taskQueue, approvalTimeoutMs: 300_000 });
    h = started;
    // Whose activities the boundaries count: provision's cloud-phase child, or deprovision itself.
    const counted = runbook === 'provision' ? `ops/${inv.cluster.name}/cloud-${started.firstExecutionRunId}` : h.workflowId;
    let approved = false;
    if (runbook === 'provision') { await approveGate(t.client, h); approved = true; }
    const run = async (): Promise<RunSnapshot> => snapshotOf(await eventsOf(t.client, counted));
    // Not `eventually`: a missed boundary must fail the case at once, not be retried.
    for (const deadline = Date.now() + 180_000; ;) {
      const step = nextStep(boundary, await run(), approved);
      if (step === 'kill') break;
      if (step === 'approve') { await decide(t.client, h.workflowId, { approved: true, by: 'crash-matrix' }); approved = true; }
      if (Date.now() > deadline) throw new BoundaryMissed(`boundary ${boundary} was not reached within 180 s: the run had completed ${(await run()).completed} activities`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await w.kill9(), 'SIGKILL');
    const killedAfter = killedAt(boundary, await run());
    const inFlightFailed = (await failInFlight(t.client, counted, await eventsOf(t.client, counted))).length;
    const w2 = await spawn(e, taskQueue, `${tag}-after`);
    if (!approved) { await approveGate(t.client, h); approved = true; }
    await within(`the ${runbook} run to end`, h.result(), 240_000);
    const total = (await run()).completed;
    await w2.stop();
    if (runbook === 'provision') checkProvisioned(cloud.fake, inv, mark, `crash at provision boundary ${boundary}`);
    else assert.deepEqual(projectState(cloud.fake), empty, `deprovision left the project as it was (crash at boundary ${boundary})`);
    return { total, killedAfter, inFlightFailed };
  } finally {
    await endOpen(h, `crash test at ${tag} failed`);
    // A case that failed leaves no worker behind (a frozen one cannot answer SIGTERM).
    await Promise.all(e.workers.slice(mine).map((w) => w.kill9()));
    await cloud.fake.close();
  }
}
