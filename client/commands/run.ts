import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { connectionFlags, fail, inventoryOrExit, outputOption, parseDuration, printData, withConnectionOptions } from '../cli-shared.js';
import { findRunbook, RUNBOOKS } from '../runbooks.js';
import { ExitCode } from '../exit-codes.js';

export function registerRun(program: Command): void {
  withConnectionOptions(program.command('run'))
    .description('Start a runbook on the cluster an inventory describes')
    .argument('<runbook>', `one of: ${RUNBOOKS.map((r) => r.name).join(', ')}`)
    .requiredOption('-c, --config <file>', 'inventory file (YAML)')
    .option('--approval-timeout <duration>', 'stop safely if no decision comes within this time (e.g. 30m)')
    .option('-w, --wait', 'follow the run until it ends (like `mooring status --follow`)')
    .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addOption(outputOption())
    .addHelpText('after', `\nRunbooks:\n${RUNBOOKS.map((r) => `  ${r.name.padEnd(18)} ${r.summary}${r.mutating ? ' (mutating: one per cluster at a time)' : ''}`).join('\n')}\n\nExample:\n  mooring run inventory-check -c .lab/inventory.yaml --wait`)
    .action(async (name: string, o: Record<string, string | boolean>) => {
      const [{ connectClient, runUrl }, { ClusterBusyError, startRunbook }, { endOf, follow }] = await Promise.all([import('../connect.js'), import('../start.js'), import('../watch.js')]);
      const rb = findRunbook(name);
      const inv = await inventoryOrExit(String(o.config));
      const approvalTimeoutMs = typeof o.approvalTimeout === 'string' ? parseDuration(o.approvalTimeout) : undefined;
      const mc = await connectClient(connectionFlags(o));
      try {
        const handle = await startRunbook(mc.client, rb, inv, { taskQueue: String(o.taskQueue), ...(approvalTimeoutMs ? { approvalTimeoutMs } : {}) });
        const url = runUrl(mc.namespace, handle.workflowId, handle.firstExecutionRunId);
        if (!o.wait && await printData(o, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url })) return;
        process.stderr.write(`started ${rb.name} on ${inv.cluster.name}: ${handle.workflowId}\n  Web UI: ${url}\n  follow: mooring status ${handle.workflowId} --follow\n`);
        if (o.wait) {
          const outcome = await follow(mc.client, handle.workflowId, { runId: handle.firstExecutionRunId, ...(o.output !== 'table' ? { print: () => {} } : {}) });
          await printData(o, outcome);
          const end = endOf(outcome);
          if (end.code !== ExitCode.ok) fail(end.message, end.code);
        }
      } catch (err) {
        if (err instanceof ClusterBusyError) fail(err.message, ExitCode.busy);
        throw err;
      } finally {
        await mc.close();
      }
    });
}
