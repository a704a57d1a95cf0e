// What the host phase's lab suites share: a bare netns lab (sshd and the SIMULATED stand-ins
// only), the real Temporal dev server and a worker running `provisionHosts` with the real
// activities, and the history of a chosen run written for test/replay when MOORING_RECORD_HISTORY
// names a directory (after a deliberate change of the workflow's shape).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { NetnsLab } from '../../lab/netns/netns-lab.js';
import type { NetnsLayout, NetnsNode } from '../../lab/netns/topology.js';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { createHostPhaseActivities } from '../../activities/host/index.js';
import type { HostPhaseResult } from '../../activities/host/context.js';
import type { Inventory } from '../../config/schema.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from './temporal.js';
import { scratchDir } from './scratch.js';

export interface HostPhaseLab {
  lab: NetnsLab;
  temporal: TestTemporal;
  /** The worker's state directory (admin kubeconfig, etcd CA). */
  stateDir: string;
  /** Runs provisionHosts on the lab's hosts under `workflowId`, with the lab's inventory or `inventory` (the lab's, amended). */
  run(workflowId: string, inventory?: Inventory): Promise<HostPhaseResult>;
  /** Writes `workflowId`'s history as `file` when MOORING_RECORD_HISTORY is set, then stops everything. */
  stop(record?: { workflowId: string; file: string }): Promise<void>;
}

export async function startHostPhaseLab(o: { prefix: string; layout: NetnsLayout; kubernetesVersion: string; nodes?: readonly NetnsNode[] }): Promise<HostPhaseLab> {
  const dir = scratchDir(o.prefix);
  const stateDir = join(dir, 'state');
  const lab = new NetnsLab({ dir: join(dir, 'lab'), layout: o.layout, bare: true, kubernetesVersion: o.kubernetesVersion, ...(o.nodes ? { nodes: o.nodes } : {}) });
  let temporal: TestTemporal | undefined;
  let connection: NativeConnection | undefined;
  let worker: Worker;
  const taskQueue = uniqueTaskQueue(o.prefix.replace(/-$/, ''));
  try {
    await lab.up();
    temporal = await startTestTemporal();
    connection = await NativeConnection.connect({ address: temporal.address });
    worker = await Worker.create({
      connection, taskQueue, workflowsPath: join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'hosts.js'),
      activities: createHostPhaseActivities({ stateDir }),
    });
  } catch (err) {
    // A half-made lab is taken down here: the suite's after() has nothing to stop yet.
    await connection?.close().catch(() => undefined);
    await temporal?.stop().catch(() => undefined);
    await lab.down().catch(() => undefined);
    throw err;
  }
  const running = worker.run();
  const t = temporal;
  const c = connection;
  return {
    lab, temporal: t, stateDir,
    run: (workflowId, inventory) => t.client.workflow.execute('provisionHosts', {
      workflowId, taskQueue, args: [{ inventory: inventory ?? lab.parsedInventory(), hosts: lab.provisionedHosts() }],
    }) as Promise<HostPhaseResult>,
    async stop(record) {
      if (process.env.MOORING_RECORD_HISTORY && record) {
        const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', record.workflowId, '--output', 'json']);
        writeFileSync(join(process.env.MOORING_RECORD_HISTORY, record.file), json);
      }
      worker.shutdown();
      await running;
      await c.close();
      await t.stop();
      await lab.down();
    },
  };
}
