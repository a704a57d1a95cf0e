// The production worker (same workflow bundle, activities and settings as `mooring worker`) with
// one addition for the crash harness: it freezes right after its N-th activity completed (freeze.ts).
//   node crash-worker.js --address HOST:PORT --task-queue Q --freeze-after N
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { SshPool } from '../../activities/ssh/pool.js';
import { workflowBundle } from '../../workers/worker.js';
import { installRuntime } from '../../workers/runtime.js';
import { flag, freezeAfter } from './freeze.js';

const address = flag('crash-worker', 'address')!;
const taskQueue = flag('crash-worker', 'task-queue')!;
const freezeAt = Number(flag('crash-worker', 'freeze-after'));
const countCompletions = freezeAfter(freezeAt);

installRuntime({ logLevel: 'WARN' });
const connection = await NativeConnection.connect({ address });
const sshPool = new SshPool();
try {
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ sshPool }),
    interceptors: { activity: [countCompletions] },
    shutdownGraceTime: '10s',
  });
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, pid: process.pid, freezeAfter: freezeAt })}\n`);
  await worker.run();
} finally {
  sshPool.close();
  await connection.close();
}
