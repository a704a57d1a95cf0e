// One crash of a Proxmox VE run for the crash files of this folder: the run is started on a task
// queue served only by the crash harness's freezing production worker (crash-worker.ts), which is
// SIGKILLed right after the run's N-th activity completed (approving the gate on the way when the
// boundary lies beyond it); a normal production worker then finishes the run. Fails
// (BoundaryMissed) unless the kill landed on the boundary while the run was open.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { BoundaryMissed, killedAt, nextStep, snapshotOf } from './boundary.js';
import { workerStarter } from './kill-at.js';

const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

// Activities each run completes on a one-master, one-worker cluster; boundary N kills right after the
// N-th. provisionProxmox: inspect(1) capacity(2), then per VM clone, configure, resize, start, guest
// agent (3-12); deprovision (the runbook): find(1) two destroys(2-3) verify(4).
export const PROXMOX_BOUNDARIES = { 'proxmox-provision': 12, 'proxmox-deprovision': 4 } as const;

export interface PveCrashEnv { t: TestTemporal; dir: string; workers: WorkerProcess[] }

/** `gate`: the run has an approval gate (a runbook); it is approved whenever reached. */
export async function crashRunAt<T>(e: PveCrashEnv, name: string, boundary: number, gate: boolean, start: (taskQueue: string) => Promise<WorkflowHandle>): Promise<T> {
  const taskQueue = uniqueTaskQueue(`crash-${name}-${boundary}`);
  const spawn = workerStarter(e.workers, e.t.address, taskQueue, e.dir, `${name}-${boundary}`);
  const w = await spawn([CRASH_WORKER, '--freeze-after', String(boundary)]);
  const handle = await start(taskQueue);
  const run = async () => snapshotOf((await handle.fetchHistory()).events ?? []);
  let approved = false;
  const approve = async () => { await decide(e.t.client, handle.workflowId, { approved: true, by: 'crash-matrix' }); approved = true; };
  try {
    // Not `eventually`: a missed boundary fails the case at once.
    for (const deadline = Date.now() + 180_000; ;) {
      const step = nextStep(boundary, await run(), approved);
      if (step === 'kill') break;
      if (step === 'approve') await approve();
      if (Date.now() > deadline) throw new BoundaryMissed(`boundary ${boundary} was not reached within 180 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await w.kill9(), 'SIGKILL');
    killedAt(boundary, await run());
    const w2 = await spawn();
    if (gate && !approved) {
      await eventually('the gate, after the restart', async () => (await handle.query(progressQuery)).pendingApproval, 60_000);
      await approve();
    }
    const result = await handle.result() as T;
    await w2.stop();
    return result;
  } finally {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate(`crash test at boundary ${boundary} failed`);
  }
}
