// The production worker (same workflow bundle, activities and settings as `mooring worker`) with
// one addition for the crash harness: it freezes right after its N-th activity completed (freeze.ts).
//   node crash-worker.js --address HOST:PORT --task-queue Q --freeze-after N [--freeze-workflow TYPE]
//   node crash-worker.js --address HOST:PORT --task-queue Q --freeze-on ACTIVITY_TYPE
// --freeze-on freezes right after the first completion of that activity type in this process (a
// boundary named by what it follows, for runbooks whose activity count depends on the cluster).
// --freeze-workflow counts only the activities of that workflow type (a child such as
// provisionHosts, whose parent and sibling children run before it unharmed).
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { SshPool } from '../../activities/ssh/pool.js';
import { workflowBundle } from '../../workers/worker.js';
import { installRuntime } from '../../workers/runtime.js';
import { flag, freezeAfter, freezeOn } from './freeze.js';

const address = flag('crash-worker', 'address')!;
const taskQueue = flag('crash-worker', 'task-queue')!;
const freezeOnType = flag('crash-worker', 'freeze-on', false);
const freezeAt = freezeOnType ? 0 : Number(flag('crash-worker', 'freeze-after'));
const freezeWorkflow = flag('crash-worker', 'freeze-workflow', false);
const countCompletions = freezeOnType ? freezeOn(freezeOnType) : freezeAfter(freezeAt, freezeWorkflow);

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
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, pid: process.pid, ...(freezeOnType ? { freezeOn: freezeOnType } : { freezeAfter: freezeAt, ...(freezeWorkflow ? { freezeWorkflow } : {}) }) })}\n`);
  await worker.run();
} finally {
  sshPool.close();
  await connection.close();
}
