// Records the event histories the replay test holds every released workflow shape to.
// Run after a deliberate change of workflow shape: `npm run record:histories` (needs root for the lab).
// Real Temporal, real worker and activities, the lab's real sshd hosts.
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { startTestWorker } from '../helpers/worker.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const OUT = join(PROJECT_ROOT, 'test', 'histories');

const lab = new Lab({ dir: scratchDir('mooring-record-'), subnet: '127.23.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('record');
const w = await startTestWorker(t.address, taskQueue);
try {
  const inv = await loadInventory(lab.inventoryFile);
  mkdirSync(OUT, { recursive: true });
  // A history once recorded stands for released code: it is kept unless `-- --force` is given.
  const force = process.argv.includes('--force');
  const save = (name: string, workflowId: string, runId: string) => {
    // The Temporal CLI writes the standard JSON history format (the SDK's own serializer trips
    // over two copies of protobufjs in node_modules).
    const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']);
    writeFileSync(join(OUT, `${name}.json`), json);
    process.stdout.write(`recorded ${name}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
  };
  const wanted = (name: string) => force || !existsSync(join(OUT, `${name}.json`));
  for (const [name, approved] of [['inventory-check-approved', true], ['inventory-check-rejected', false]] as const) {
    if (!wanted(name)) continue;
    const handle = await startRunbook(t.client, findRunbook('inventory-check'), inv, { taskQueue });
    await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval);
    await decide(t.client, handle.workflowId, { approved, by: 'recorder', comment: 'recorded for the replay test' });
    await handle.result().catch(() => undefined);
    save(name, handle.workflowId, handle.firstExecutionRunId);
  }
  for (const [name, runbook] of [['etcd-status', 'etcd-status'], ['etcd-backup', 'etcd-backup']] as const) {
    if (!wanted(name)) continue;
    const handle = await startRunbook(t.client, findRunbook(runbook), inv, { taskQueue });
    await handle.result();
    save(name, handle.workflowId, handle.firstExecutionRunId);
  }
  if (wanted('recover-etcd-follower')) {
    lab.killEtcd('etcd-2');
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, { taskQueue });
    await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval, 60_000);
    await decide(t.client, handle.workflowId, { approved: true, by: 'recorder', comment: 'recorded for the replay test' });
    await handle.result();
    save('recover-etcd-follower', handle.workflowId, handle.firstExecutionRunId);
  }
} finally {
  await w.stop();
  await t.stop();
  await lab.down();
}
