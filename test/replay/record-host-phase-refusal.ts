// Records the history of `provisionHosts` refusing external etcd (NotImplemented), the shape before
// the patch 'host-phase-external-etcd': the old-shape history test/replay holds that patch to.
// Build the commit before the patch in a worktree (node_modules and .tools symlinked), then run
//   node dist/test/replay/record-host-phase-refusal.js OLD_CHECKOUT OUT.json
// It needs no lab: the old workflow fails in its first task, before any activity.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { loadInventory } from '../../config/load.js';
import { hostsOf } from '../../config/hosts.js';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const [old, out] = process.argv.slice(2);
if (!old || !out) throw new Error('usage: record-host-phase-refusal.js OLD_CHECKOUT OUT.json');
const t = await startTestTemporal();
const connection = await NativeConnection.connect({ address: t.address });
const taskQueue = uniqueTaskQueue('record-refusal');
const worker = await Worker.create({ connection, taskQueue, workflowsPath: join(old, 'dist', 'workflows', 'provision', 'hosts.js'), activities: {} });
const running = worker.run();
try {
  const inventory = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'));
  const hosts = hostsOf(inventory).map((h) => ({ name: h.name, roles: h.roles, address: h.ip, hostKey: 'ssh-ed25519 AAAARECORDED', machineId: `vm-${h.name}` }));
  const workflowId = 'provision-hosts-external-refused';
  const err = await t.client.workflow.execute('provisionHosts', { workflowId, taskQueue, args: [{ inventory, hosts }] }).then(() => undefined, (e: Error) => e);
  const said = `${err?.message ?? 'success'} ${(err?.cause as Error | undefined)?.message ?? ''}`;
  if (!/external etcd is not provisioned by the host phase yet/.test(said)) throw new Error(`expected the old NotImplemented refusal, got ${said}`);
  const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, '--output', 'json']);
  writeFileSync(out, json);
  process.stdout.write(`recorded ${out}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await t.stop();
}
