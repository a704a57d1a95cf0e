import type { Command } from 'commander';
import { CliExit, ExitCode } from '../exit-codes.js';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { connectionFlags, fail, inventoryOrExit, outputOption, printData, withConnectionOptions, withExamples } from '../cli-shared.js';
import { table } from '../render.js';
import { registerBackupSnapshots } from './backup-snapshots.js';

const CLUSTER = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function registerBackup(program: Command): void {
  const backup = withExamples(program.command('backup').description('etcd backups: snapshots verified, encrypted and shipped off-site, on a schedule'),
    'mooring backup run -c cluster.yaml', 'mooring backup list -c cluster.yaml', 'mooring backup schedule create -c cluster.yaml --every 6h');
  registerBackupSnapshots(backup);
  withExamples(withConnectionOptions(backup.command('status')), 'mooring backup status prod', 'mooring backup status prod --limit 3 -o yaml')
    .description('Recent etcd-backup runs of a cluster (scheduled and from the CLI) and how each ended: ok, SKIPPED (cluster busy), DEGRADED (no off-site copy), FAILED')
    .argument('<cluster>', 'cluster name')
    .option('--limit <n>', 'at most this many runs', '10')
    .addOption(outputOption())
    .action(async (cluster: string, o: Record<string, string>) => {
      if (!CLUSTER.test(cluster)) fail(`cluster "${cluster}" is not a valid name`, ExitCode.invalidInput);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) fail(`--limit "${o.limit}" must be a positive whole number`, ExitCode.invalidInput);
      const [{ connectClient, runUrl }, { listBackupSchedules, resultText }, { CLUSTER: CLUSTER_KEY, PHASE, RUNBOOK }] = await Promise.all([
        import('../connect.js'), import('../schedules.js'), import('../../workflows/runbook/search-attributes.js'),
      ]);
      const mc = await connectClient(connectionFlags(o));
      try {
        const schedules = await listBackupSchedules(mc.client, cluster);
        const runs = [];
        for await (const w of mc.client.workflow.list({ query: `${CLUSTER_KEY.name} = "${cluster}" AND ${RUNBOOK.name} = "etcd-backup"`, pageSize: limit })) {
          const phase = w.typedSearchAttributes.get(PHASE);
          runs.push({ workflowId: w.workflowId, type: w.type, status: w.status.name, phase, result: resultText(w.status.name, phase),
            started: w.startTime.toISOString(), url: runUrl(mc.namespace, w.workflowId, w.runId) });
          if (runs.length >= limit) break;
        }
        if (await printData(o, { schedule: schedules[0], runs })) return;
        const s = schedules[0];
        process.stdout.write(s ? `schedule ${s.scheduleId}: ${s.spec}, ${s.paused ? 'paused' : 'active'}, next ${s.nextRuns[0] ?? 'none'}, last result ${s.lastResult ?? 'none yet'}\n`
          : `no backup schedule for ${cluster} (create one with \`mooring backup schedule create -c FILE\`)\n`);
        process.stdout.write(runs.length ? `${table(['workflow id', 'type', 'started', 'result'], runs.map((r) => [r.workflowId, r.type, r.started, r.result]))}\n` : 'no backup runs found\n');
      } finally {
        await mc.close();
      }
    });

  const schedule = withExamples(backup.command('schedule').description('Temporal Schedules that run etcd-backup (overlap: skip; catch-up window; jitter)'),
    'mooring backup schedule create -c cluster.yaml --every 6h', 'mooring backup schedule list', 'mooring backup schedule pause prod --note "maintenance CHG-9"');

  withConnectionOptions(schedule.command('create'))
    .description('Create the backup schedule of the cluster an inventory describes (backup/<cluster>)')
    .requiredOption('-c, --config <file>', 'inventory file; its backup.schedule is the default')
    .option('--every <interval>', 'run every 30m, 6h, 1d … (overrides the inventory)')
    .option('--cron <expr>', 'or a five-field cron expression, e.g. "0 */6 * * *" (UTC)')
    .option('--jitter <duration>', 'random delay added to each run, so clusters do not all snapshot at once', '2m')
    .option('--catchup-window <duration>', 'runs missed while Temporal was down are made up within this window', '1h')
    .option('--paused', 'create it paused')
    .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addHelpText('after', '\nExample:\n  mooring backup schedule create -c cluster.yaml --every 6h\n  mooring backup schedule list')
    .action(async (o: Record<string, string | boolean>) => {
      const [{ ScheduleAlreadyRunning }, { connectClient }, { createBackupSchedule, scheduleIdFor }] = await Promise.all([import('@temporalio/client'), import('../connect.js'), import('../schedules.js')]);
      const inv = await inventoryOrExit(String(o.config));
      const mc = await connectClient(connectionFlags(o));
      try {
        const id = await createBackupSchedule(mc.client, inv, {
          ...(typeof o.every === 'string' ? { every: o.every } : {}), ...(typeof o.cron === 'string' ? { cron: o.cron } : {}),
          jitter: String(o.jitter), catchupWindow: String(o.catchupWindow), paused: o.paused === true, taskQueue: String(o.taskQueue),
        });
        process.stdout.write(`created schedule ${id}${o.paused ? ' (paused)' : ''}; see it with \`mooring backup schedule list\` or in the Web UI under Schedules\n`);
      } catch (err) {
        if (err instanceof CliExit) throw err;
        if ((err as Error).name === 'ScheduleAlreadyRunning' || err instanceof ScheduleAlreadyRunning) {
          fail(`a backup schedule for ${inv.cluster.name} exists already (${scheduleIdFor(inv.cluster.name)}): to give it this inventory, run \`mooring backup schedule update -c ${String(o.config)}\`; to change its timing, delete it and create it again`, ExitCode.busy);
        }
        fail((err as Error).message);
      } finally {
        await mc.close();
      }
    });

  withConnectionOptions(schedule.command('update'))
    .description('Give the cluster\'s backup schedule this inventory (a schedule keeps the copy it was created with: update it after a member is replaced or a host key changes)')
    .requiredOption('-c, --config <file>', 'the current inventory of the cluster')
    .addOption(new Option('--task-queue <name>', 'move the schedule\'s runs to this task queue too').env('MOORING_TASK_QUEUE'))
    .addHelpText('after', '\nSpec, jitter, catch-up window and paused state are kept.\n\nExample:\n  mooring backup schedule update -c cluster.yaml')
    .action(async (o: Record<string, string>) => {
      const [{ connectClient }, { updateBackupSchedule }] = await Promise.all([import('../connect.js'), import('../schedules.js')]);
      const inv = await inventoryOrExit(String(o.config));
      const mc = await connectClient(connectionFlags(o));
      try {
        const id = await updateBackupSchedule(mc.client, inv, o.taskQueue ? { taskQueue: o.taskQueue } : {});
        process.stdout.write(`updated schedule ${id}: its next runs use the inventory from ${o.config}\n`);
      } catch (err) {
        if (err instanceof CliExit) throw err;
        fail((err as Error).message);
      } finally {
        await mc.close();
      }
    });

  withExamples(withConnectionOptions(schedule.command('list')), 'mooring backup schedule list', 'mooring backup schedule list --cluster prod -o json')
    .description('List backup schedules: spec, paused or not, next and recent runs')
    .option('--cluster <name>', 'only this cluster')
    .addOption(outputOption())
    .action(async (o: Record<string, string>) => {
      const [{ connectClient }, { listBackupSchedules }] = await Promise.all([import('../connect.js'), import('../schedules.js')]);
      if (o.cluster && !CLUSTER.test(o.cluster)) fail(`--cluster "${o.cluster}" is not a valid name`, 2);
      const mc = await connectClient(connectionFlags(o));
      try {
        const rows = await listBackupSchedules(mc.client, o.cluster);
        if (await printData(o, rows)) return;
        if (rows.length === 0) return void process.stdout.write('no backup schedules\n');
        process.stdout.write(`${table(['schedule', 'spec', 'state', 'next run', 'last run', 'last result'], rows.map((r) => [
          r.scheduleId, r.spec, r.paused ? `paused${r.note ? `: ${r.note}` : ''}` : 'active', r.nextRuns[0] ?? '', r.recentRuns.at(-1)?.scheduledAt ?? '', r.lastResult ?? '',
        ]))}\n`);
      } finally {
        await mc.close();
      }
    });

  for (const verb of ['pause', 'resume', 'delete', 'trigger'] as const) {
    const cmd = withConnectionOptions(schedule.command(verb)).argument('<cluster>', 'cluster name');
    const describe = {
      pause: 'Pause the cluster\'s backup schedule (e.g. during maintenance); --note says why',
      resume: 'Resume a paused backup schedule',
      delete: 'Delete the cluster\'s backup schedule (snapshots already taken are kept)',
      trigger: 'Run a backup now through the schedule (skipped if one is already running)',
    }[verb];
    cmd.description(describe);
    withExamples(cmd, `mooring backup schedule ${verb} prod${verb === 'pause' ? ' --note "maintenance CHG-9"' : ''}`, 'mooring backup schedule list');
    if (verb === 'pause' || verb === 'resume') cmd.option('--note <text>', 'why (shown by list and in the Web UI)');
    cmd.action(async (cluster: string, o: Record<string, string>) => {
      const [{ ScheduleOverlapPolicy }, { connectClient }, { onSchedule }] = await Promise.all([import('@temporalio/client'), import('../connect.js'), import('../schedules.js')]);
      if (!CLUSTER.test(cluster)) fail(`cluster "${cluster}" is not a valid name`, 2);
      const mc = await connectClient(connectionFlags(o));
      try {
        await onSchedule(mc.client, cluster, async (h) => {
          if (verb === 'pause') await h.pause(o.note ?? 'paused with mooring backup schedule pause');
          if (verb === 'resume') await h.unpause(o.note ?? 'resumed with mooring backup schedule resume');
          if (verb === 'delete') await h.delete();
          if (verb === 'trigger') await h.trigger(ScheduleOverlapPolicy.SKIP);
        });
        process.stdout.write(`${{ pause: 'paused', resume: 'resumed', delete: 'deleted', trigger: 'triggered' }[verb]} backup/${cluster}\n`);
      } catch (err) {
        if (err instanceof CliExit) throw err;
        fail((err as Error).message);
      } finally {
        await mc.close();
      }
    });
  }
}
