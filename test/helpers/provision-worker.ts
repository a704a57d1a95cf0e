// A worker PROCESS for the provision crash test, so it can be SIGKILLed for real: every registered
// workflow plus the TEST DOUBLES of provision-test-doubles.ts (host phase, Proxmox cloud phase),
// the production OpenStack activities (credentials from this process's OS_* variables, as a
// production worker reads them) and the host-phase double's activity.
//   node provision-worker.js --address HOST:PORT --task-queue Q
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import { installRuntime } from '../../workers/runtime.js';
import { PROJECT_ROOT } from '../../client/tools.js';

function flag(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`provision-worker: --${name} is required`);
  return v;
}

const address = flag('address');
const taskQueue = flag('task-queue');
installRuntime({ logLevel: 'WARN' });
const connection = await NativeConnection.connect({ address });
try {
  const worker = await Worker.create({
    connection, namespace: 'default', taskQueue,
    workflowsPath: join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js'),
    activities: {
      ...createOpenStackActivities({ pollMs: 100 }),
      // TEST DOUBLE: a new process has configured nothing.
      async testDoubleHostPhase(i: { hosts: { name: string }[] }) { return i.hosts.map((h) => h.name); },
    },
    shutdownGraceTime: '5s',
  });
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, pid: process.pid })}\n`);
  await worker.run();
} finally {
  await connection.close();
}
