// What the end-to-end suites behind a fake cloud with lab nodes share (test/e2e/provision-*.provision.ts):
// the real Temporal dev server and a real `mooring worker` process (its environment, the cloud's
// credentials and the state directory, set by the suite beforehand), and the stop that proves the
// lab left nothing behind.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { MachineLab } from '../../lab/netns/machines.js';
import { startTestTemporal, type TestTemporal } from './temporal.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface CloudSuite { temporal: TestTemporal; worker: WorkerProcess }

export async function startCloudSuite(dir: string, taskQueue: string): Promise<CloudSuite> {
  const temporal = await startTestTemporal({ logFile: join(dir, 'temporal.log') });
  const worker = startWorkerProcess(temporal.address, taskQueue, join(dir, 'worker.log'));
  await worker.ready;
  return { temporal, worker };
}

/** The worker, the server, then the fake and its lab; no namespace or forwarder may be left. */
export async function stopCloudSuite(suite: Partial<CloudSuite> | undefined, cloud: { close(): Promise<void>; lab: MachineLab } | undefined): Promise<void> {
  await suite?.worker?.stop();
  await suite?.temporal?.stop();
  if (cloud) {
    await cloud.close();
    assert.deepEqual(await cloud.lab.leftovers(), []);
  }
}
