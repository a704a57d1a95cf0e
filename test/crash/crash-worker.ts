// The production worker (same workflow bundle, activities and settings as `mooring worker`) with
// one addition for the crash harness: right after its N-th activity completed, it freezes (the
// JavaScript thread blocks), so the completion reaches the server but the workflow cannot act on
// it until the harness SIGKILLs the process. That puts every kill exactly on its boundary, the
// last one of a runbook included, which a harness polling a running worker would usually miss.
//   node crash-worker.js --address HOST:PORT --task-queue Q --freeze-after N
//   node crash-worker.js --address HOST:PORT --task-queue Q --freeze-on ACTIVITY_TYPE
// --freeze-on freezes right after the first completion of that activity type in this process (a
// boundary named by what it follows, for runbooks whose activity count depends on the cluster).
import { NativeConnection, Worker, type ActivityInboundCallsInterceptor, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { SshPool } from '../../activities/ssh/pool.js';
import { workflowBundle } from '../../workers/worker.js';
import { installRuntime } from '../../workers/runtime.js';

/** Longest freeze; the harness kills within seconds, this only ends a worker it forgot. */
const FREEZE_MS = 120_000;

function optionalFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function flag(name: string): string {
  const v = optionalFlag(name);
  if (!v) throw new Error(`crash-worker: --${name} is required`);
  return v;
}

const address = flag('address');
const taskQueue = flag('task-queue');
const freezeOn = optionalFlag('freeze-on');
const freezeAfter = freezeOn ? 0 : Number(flag('freeze-after'));
if (!freezeOn && (!Number.isInteger(freezeAfter) || freezeAfter < 1)) throw new Error(`crash-worker: --freeze-after ${freezeAfter} is not a positive integer`);

let completed = 0;
function freeze(): void {
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'WARN', msg: 'crash-worker frozen', completed })}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FREEZE_MS);
}

let frozen = false;
const countCompletions: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const result: unknown = await next(input);
      if (freezeOn) {
        if (ctx.info.activityType === freezeOn && !frozen) { frozen = true; setImmediate(freeze); }
        return result;
      }
      // setImmediate: after the SDK handed the result to the native core (which sends it from its
      // own threads) and before the server's next workflow task can arrive on this thread. If it
      // ever froze too early, the completion would not reach the server and the harness would
      // fail the case for not reaching its boundary: never a silent pass.
      if (++completed === freezeAfter) setImmediate(freeze);
      return result;
    },
  } satisfies ActivityInboundCallsInterceptor,
});

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
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, pid: process.pid, ...(freezeOn ? { freezeOn } : { freezeAfter }) })}\n`);
  await worker.run();
} finally {
  sshPool.close();
  await connection.close();
}
