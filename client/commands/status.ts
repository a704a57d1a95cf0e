import type { Command } from 'commander';
import { connectionFlags, fail, outputOption, printJson, withConnectionOptions } from '../cli-shared.js';
import { renderProgress } from '../render.js';

export function registerStatus(program: Command): void {
  withConnectionOptions(program.command('status'))
    .description('Show a run\'s steps, durations, pending approval and report (from its progress query)')
    .argument('<workflow-id>', 'e.g. inventory-check/lab or ops/paas-challenge')
    .option('-f, --follow', 'keep printing until the run ends; exit status says how it ended')
    .option('--run-id <id>', 'a specific run (default: the latest)')
    .addOption(outputOption())
    .action(async (id: string, o: Record<string, string | boolean>) => {
      const [{ connectClient, runUrl }, { follow, snapshot }] = await Promise.all([import('../connect.js'), import('../watch.js')]);
      const mc = await connectClient(connectionFlags(o));
      try {
        const runId = typeof o.runId === 'string' ? o.runId : undefined;
        const outcome = o.follow
          ? await follow(mc.client, id, { ...(runId ? { runId } : {}), ...(o.output === 'json' ? { print: () => {} } : {}) })
          : await snapshot(mc.client, id, runId);
        if (o.output === 'json') printJson({ ...outcome, url: runUrl(mc.namespace, id, outcome.runId) });
        else {
          if (!o.follow) process.stdout.write(`${outcome.progress ? renderProgress(outcome.progress, id, outcome.status) : `${id}: ${outcome.status} (no worker answered the progress query)`}\n`);
          if (outcome.failure) process.stdout.write(`\n${outcome.status}: ${outcome.failure.type ? `[${outcome.failure.type}] ` : ''}${outcome.failure.message}\n`);
          process.stdout.write(`\nWeb UI: ${runUrl(mc.namespace, id, outcome.runId)}\n`);
        }
        if (o.follow && outcome.status !== 'COMPLETED') fail(`${id} ended ${outcome.status}`);
      } finally {
        await mc.close();
      }
    });
}
