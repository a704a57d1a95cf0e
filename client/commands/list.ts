import type { Command } from 'commander';
import { connectionFlags, fail, outputOption, printData, withConnectionOptions, withExamples } from '../cli-shared.js';
import { table } from '../render.js';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function registerList(program: Command): void {
  withExamples(withConnectionOptions(program.command('list')), 'mooring list', 'mooring list --cluster prod --runbook etcd-backup --limit 5', 'mooring list -o json | jq -r \'.[].workflowId\'')
    .description('List runbook runs, newest first (from Mooring\'s search attributes)')
    .option('--cluster <name>', 'only this cluster')
    .option('--runbook <name>', 'only this runbook')
    .option('--limit <n>', 'at most this many', '20')
    .addOption(outputOption())
    .action(async (o: Record<string, string>) => {
      const [{ connectClient, runUrl }, { CLUSTER, PHASE, RUNBOOK }] = await Promise.all([import('../connect.js'), import('../../workflows/runbook/search-attributes.js')]);
      const filters = [`${RUNBOOK.name} IS NOT NULL`];
      for (const [flag, key] of [['cluster', CLUSTER], ['runbook', RUNBOOK]] as const) {
        const v = o[flag];
        if (v === undefined) continue;
        if (!NAME.test(v)) fail(`--${flag} "${v}" is not a valid name (lowercase letters, digits, '-')`, 2);
        filters.push(`${key.name} = "${v}"`);
      }
      const mc = await connectClient(connectionFlags(o));
      try {
        const rows = [];
        for await (const w of mc.client.workflow.list({ query: filters.join(' AND '), pageSize: Number(o.limit) })) {
          rows.push({
            workflowId: w.workflowId, runId: w.runId, runbook: w.typedSearchAttributes.get(RUNBOOK), cluster: w.typedSearchAttributes.get(CLUSTER),
            phase: w.typedSearchAttributes.get(PHASE), status: w.status.name, started: w.startTime.toISOString(), closed: w.closeTime?.toISOString(),
            url: runUrl(mc.namespace, w.workflowId, w.runId),
          });
          if (rows.length >= Number(o.limit)) break;
        }
        if (await printData(o, rows)) return;
        if (rows.length === 0) return void process.stdout.write('no runs found\n');
        process.stdout.write(`${table(['workflow id', 'runbook', 'cluster', 'status', 'phase', 'started'], rows.map((r) => [r.workflowId, r.runbook ?? '', r.cluster ?? '', r.status, r.phase ?? '', r.started]))}\n`);
      } finally {
        await mc.close();
      }
    });
}
