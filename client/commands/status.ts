import type { Command } from 'commander';
import { connectionFlags, fail, outputOption, printData, withConnectionOptions } from '../cli-shared.js';
import { renderActivities, renderProgress } from '../render.js';
import { ExitCode } from '../exit-codes.js';

export function registerStatus(program: Command): void {
  withConnectionOptions(program.command('status'))
    .description('Show a run\'s steps, durations, pending approval and report (from its progress query), and the steps running now with bytes done, total and rate (from their heartbeats)')
    .argument('<workflow-id>', 'e.g. inventory-check/lab or ops/paas-challenge')
    .option('-f, --follow', 'keep printing until the run ends; exit status says how it ended')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .addOption(outputOption())
    .addHelpText('after', `
Long transfers (snapshot checks, uploads, fetches) report bytes as they go; the figures come from
the server's copy of each step's last heartbeat (refreshed every 8–12 s), e.g.
  upload of /var/backups/etcd/c-20261206T030000Z-e2.db: 512.0 MiB of 1.9 GiB (26%), 45.2 MiB/s, ~33 s left

Examples:
  mooring status ops/prod -f                    follow a backup or recovery to its end (exit code says how)
  mooring status inventory-check/lab -o json    the same as data: steps, running steps, result
  mooring list --cluster prod                   find the workflow id`)
    .action(async (id: string, o: Record<string, string | boolean>) => {
      const [{ connectClient, runUrl }, { endOf, follow, snapshot }] = await Promise.all([import('../connect.js'), import('../watch.js')]);
      const mc = await connectClient(connectionFlags(o));
      try {
        const runId = typeof o.runId === 'string' ? o.runId : undefined;
        const outcome = o.follow
          ? await follow(mc.client, id, { ...(runId ? { runId } : {}), ...(o.output !== 'table' ? { print: () => {} } : {}) })
          : await snapshot(mc.client, id, runId);
        if (!(await printData(o, { ...outcome, url: runUrl(mc.namespace, id, outcome.runId) }))) {
          if (!o.follow) {
            process.stdout.write(`${outcome.progress ? renderProgress(outcome.progress, id, outcome.status) : `${id}: ${outcome.status} (no worker answered the progress query)`}\n`);
            const running = renderActivities(outcome.activities ?? []);
            if (running) process.stdout.write(`\n${running}\n`);
          }
          if (outcome.failure) process.stdout.write(`\n${outcome.status}: ${outcome.failure.type ? `[${outcome.failure.type}] ` : ''}${outcome.failure.message}\n`);
          process.stdout.write(`\nWeb UI: ${runUrl(mc.namespace, id, outcome.runId)}\n`);
        }
        const end = endOf(outcome);
        if (o.follow && end.code !== ExitCode.ok) fail(end.message, end.code);
      } finally {
        await mc.close();
      }
    });
}
