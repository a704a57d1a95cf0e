// A worker PROCESS for the provision crash tests, so it can be SIGKILLed for real: every registered
// workflow plus the TEST DOUBLES of provision-test-doubles.ts (host phase, Proxmox cloud phase),
// the production OpenStack activities (credentials from this process's OS_* variables, as a
// production worker reads them) and the host-phase double's activity. With --freeze-after N it is
// the crash matrix's first worker: it freezes right after the N-th activity of workflow type
// --freeze-workflow (or of any) completed (test/crash/freeze.ts).
// --bundle FILE: that workflow bundle (bundleWorkflowCode of provision-test-doubles.js), built once
// by the harness instead of by every process.
//   node provision-worker.js --address HOST:PORT --task-queue Q [--bundle FILE] [--freeze-after N [--freeze-workflow TYPE]]
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import { installRuntime } from '../../workers/runtime.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { flag, freezeAfter } from '../crash/freeze.js';

const PROVISION_TEST_WORKFLOWS = join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js');

const address = flag('provision-worker', 'address')!;
const taskQueue = flag('provision-worker', 'task-queue')!;
const freezeAt = flag('provision-worker', 'freeze-after', false);
const freezeWorkflow = flag('provision-worker', 'freeze-workflow', false);
const bundle = flag('provision-worker', 'bundle', false);
const interceptors = freezeAt ? { interceptors: { activity: [freezeAfter(Number(freezeAt), freezeWorkflow)] } } : {};
installRuntime({ logLevel: 'WARN' });
const connection = await NativeConnection.connect({ address });
try {
  const worker = await Worker.create({
    connection, namespace: 'default', taskQueue,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: PROVISION_TEST_WORKFLOWS }),
    activities: {
      ...createOpenStackActivities({ pollMs: 100 }),
      // TEST DOUBLE: a new process has configured nothing.
      async testDoubleHostPhase(i: { hosts: { name: string }[] }) { return i.hosts.map((h) => h.name); },
    },
    ...interceptors,
    shutdownGraceTime: '5s',
  });
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, pid: process.pid, ...(freezeAt ? { freezeAfter: Number(freezeAt), freezeWorkflow } : {}) })}\n`);
  await worker.run();
} finally {
  await connection.close();
}
