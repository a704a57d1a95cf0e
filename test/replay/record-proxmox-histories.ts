// Records the histories of the Proxmox cloud phase for the replay test (test/histories/):
//   provision-proxmox.json     provisionProxmox of a one-master, one-worker cluster (clone, config,
//                              resize, start, guest agent) with a clone lock timeout retried
//   deprovision-proxmox.json   deprovisionProxmox of the same cluster
//   provision-proxmox-capacity.json   provisionProxmox with the capacity check (patch proxmox-capacity-check)
//   deprovision-on-proxmox.json       runbook deprovision of a Proxmox cluster (plan, approval, destroy, verify)
// Real Temporal dev server and worker, activities against the SIMULATED Proxmox VE fake (no lab, no
// root). Run after a deliberate change of these workflows' shape: node dist/test/replay/record-proxmox-histories.js
// (`-- --force` overwrites; without it an existing history, standing for released code, is kept).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { createProxmoxActivities } from '../../activities/cloud/proxmox/activities/index.js';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { scratchDir } from '../helpers/scratch.js';
import { seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const OUT = join(PROJECT_ROOT, 'test', 'histories');
const force = process.argv.includes('--force');
setPveEnv();
const dir = scratchDir('mooring-record-pve-');
const fake = await startSeed003Fake(dir);
const t = await startTestTemporal();
const connection = await NativeConnection.connect({ address: t.address });
const taskQueue = uniqueTaskQueue('record-pve');
const worker = await Worker.create({ connection, taskQueue, workflowsPath: join(PROJECT_ROOT, 'dist', 'workflows', 'index.js'), activities: createProxmoxActivities({ pollMs: 50 }) });
const running = worker.run();
try {
  const inv = smallCluster(await seed003Inventory(fake, dir), 'replay', 500);
  const save = (name: string, workflowId: string) => {
    const file = join(OUT, `${name}.json`);
    if (existsSync(file) && !force) { process.stdout.write(`kept ${name} (exists; -- --force to overwrite)\n`); return; }
    const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, '--output', 'json']);
    writeFileSync(file, json);
    process.stdout.write(`recorded ${name}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
  };
  fake.state.cloneLockTimeouts = 1;
  await t.client.workflow.execute('provisionProxmox', { workflowId: 'record-provision-proxmox', taskQueue, args: [{ inventory: inv }] });
  save('provision-proxmox', 'record-provision-proxmox');
  await t.client.workflow.execute('deprovisionProxmox', { workflowId: 'record-deprovision-proxmox', taskQueue, args: [{ inventory: inv }] });
  save('deprovision-proxmox', 'record-deprovision-proxmox');
  const capacity = smallCluster(await seed003Inventory(fake, dir), 'replay-capacity', 520);
  await t.client.workflow.execute('provisionProxmox', { workflowId: 'record-provision-proxmox-capacity', taskQueue, args: [{ inventory: capacity }] });
  save('provision-proxmox-capacity', 'record-provision-proxmox-capacity');
  const down = await startRunbook(t.client, findRunbook('deprovision'), capacity, { taskQueue, approvalTimeoutMs: 600_000 });
  while (!(await down.query(progressQuery)).pendingApproval) await new Promise((r) => setTimeout(r, 100));
  await decide(t.client, down.workflowId, { approved: true, by: 'recorder', comment: 'replay history' });
  await down.result();
  save('deprovision-on-proxmox', down.workflowId);
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await t.stop();
  await fake.close();
}
