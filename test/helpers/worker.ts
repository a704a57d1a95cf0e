// A worker for tests: production bundle and options, activities supplied by the test
// (real ones, or fakes that are named as such in the test); or, for a workflow test of one
// workflow file or of a file of test doubles, a worker on that file (startWorkflowFileWorker).
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { codecWorkerOptions } from '../../workers/worker.js';
import type { AesGcmPayloadCodec } from '../../workers/codec/aes-gcm.js';
import { createActivities, type MooringActivities } from '../../activities/index.js';
import { SshPool } from '../../activities/ssh/pool.js';

export interface TestWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * `codec`: the payload codec, wired as production wires it (data converter and bundle). Without
 * `activities`, the real ones with an SSH connection pool, as `mooring worker` runs them.
 */
export async function startTestWorker(address: string, taskQueue: string, activities?: Partial<MooringActivities>, opts: { codec?: AesGcmPayloadCodec } = {}): Promise<TestWorker> {
  const sshPool = new SshPool();
  activities ??= createActivities({ sshPool });
  // A FAKE that observes etcd answers the recoveries' agreement wait from the same observations
  // (the workflow then judges them as before), instead of leaving that activity unregistered.
  if (activities.observeEtcd && !activities.expectEtcdAgreement) {
    const observe = activities.observeEtcd;
    activities = { ...activities, expectEtcdAgreement: (i) => observe(i) };
  }
  const r = await run(address, { taskQueue, ...(await codecWorkerOptions(opts.codec)), activities });
  return { worker: r.worker, async stop() { await r.stop(); sshPool.close(); } };
}

/**
 * A worker in this process on the workflows of `workflowsPath` (bundled by Worker.create) and the
 * given activities, on its own connection: what each provisioning workflow test set up by hand.
 */
export async function startWorkflowFileWorker(address: string, taskQueue: string, workflowsPath: string, activities: object): Promise<TestWorker> {
  return run(address, { taskQueue, workflowsPath, activities });
}

async function run(address: string, options: Omit<WorkerOptions, 'connection' | 'shutdownGraceTime'>): Promise<TestWorker> {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection, ...options, shutdownGraceTime: '2s' });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

