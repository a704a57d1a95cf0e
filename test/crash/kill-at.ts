// The crash harness's kill: wait until the run has completed `boundary` activities (approving its
// gate on the way when the boundary lies beyond it), then SIGKILL the frozen crash worker, and
// check the kill landed on the boundary while the run was open (boundary.ts decides each step).
import assert from 'node:assert/strict';
import { BoundaryMissed, killedAt, nextStep, type RunSnapshot } from './boundary.js';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

export interface KillAt {
  boundary: number;
  /** The counted run as its history stands now. */
  run: () => Promise<RunSnapshot>;
  /** Approves the run's gate. */
  approve: () => Promise<void>;
  /** The crash worker, frozen right after the boundary's activity. */
  worker: WorkerProcess;
  /** How long the run may take to reach the boundary. */
  limitMs: number;
  pollMs: number;
}

/** Returns after how many activities the worker died, and whether the gate was approved before. */
export async function killAtBoundary(k: KillAt): Promise<{ killedAfter: number; approved: boolean }> {
  let approved = false;
  // Not `eventually`: a missed boundary must fail the case at once, not be retried.
  for (const deadline = Date.now() + k.limitMs; ;) {
    const step = nextStep(k.boundary, await k.run(), approved);
    if (step === 'kill') break;
    if (step === 'approve') { await k.approve(); approved = true; }
    if (Date.now() > deadline) throw new BoundaryMissed(`boundary ${k.boundary} was not reached within ${k.limitMs / 1000} s: the run had completed ${(await k.run()).completed} activities`);
    await new Promise((r) => setTimeout(r, k.pollMs));
  }
  assert.equal(await k.worker.kill9(), 'SIGKILL');
  return { killedAfter: killedAt(k.boundary, await k.run()), approved };
}

/**
 * A starter of worker processes on one task queue, each logging to `<logDir>/worker-<tag>-<n>.log`
 * (its stderr too: the SDK's log of failed activity attempts, what a failed case is read from) and
 * kept in `workers` so the suite's teardown stops every one it started.
 */
export function workerStarter(workers: WorkerProcess[], address: string, taskQueue: string, logDir: string, tag: string) {
  return async (command?: string[]): Promise<WorkerProcess> => {
    const log = join(logDir, `worker-${tag}-${workers.length}.log`);
    const w = startWorkerProcess(address, taskQueue, log, command);
    w.child.stderr?.on('data', (d: Buffer) => appendFileSync(log, d));
    workers.push(w);
    await w.ready;
    return w;
  };
}
