// A worker for tests: production bundle and options, activities supplied by the test
// (real ones, or fakes that are named as such in the test).
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
  return runWorker(address, { taskQueue, ...(await codecWorkerOptions(opts.codec)), activities, shutdownGraceTime: '2s' }, () => sshPool.close());
}

/** A worker of one workflow module (`workflowsPath`, bundled by the SDK) with the given activities: for a phase tested alone. */
export function startModuleWorker(address: string, taskQueue: string, workflowsPath: string, activities: object): Promise<TestWorker> {
  return runWorker(address, { taskQueue, workflowsPath, activities });
}

async function runWorker(address: string, options: Omit<WorkerOptions, 'connection'>, release: () => void = () => {}): Promise<TestWorker> {
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection, ...options });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      release();
      await connection.close();
    },
  };
}

