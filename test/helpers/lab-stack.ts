// What most end-to-end tests stand on: the lab, the real Temporal dev server, a worker with the
// real activities on a task queue of its own, and the environment the CLI needs to reach them.
import { Lab, type LabOptions } from '../../lab/lab.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './temporal.js';
import { startTestWorker, type TestWorker } from './worker.js';
import { scratchDir } from './scratch.js';

export interface LabStack {
  lab: Lab;
  t: TestTemporal;
  w: TestWorker;
  taskQueue: string;
  /** TEMPORAL_ADDRESS and MOORING_TASK_QUEUE for `mooring` subprocesses. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startLabStack(name: string, subnet: string, opts: Pick<LabOptions, 'etcdVersion' | 'etcdVersions' | 'etcdQuotaBackendBytes' | 'kubernetes'> = {}): Promise<LabStack> {
  const lab = new Lab({ ...opts, dir: scratchDir(`mooring-${name}-`), subnet });
  let t: TestTemporal | undefined;
  let w: TestWorker;
  const taskQueue = uniqueTaskQueue(name);
  try {
    await lab.up();
    t = await startTestTemporal();
    w = await startTestWorker(t.address, taskQueue);
  } catch (err) {
    // The caller gets no stack to stop: leave nothing running behind the failure.
    await t?.stop().catch(() => undefined);
    await lab.down().catch(() => undefined);
    throw err;
  }
  return {
    lab, t, w, taskQueue, env: { TEMPORAL_ADDRESS: t.address, MOORING_TASK_QUEUE: taskQueue },
    async stop() {
      await w.stop();
      await t.stop();
      await lab.down();
    },
  };
}
