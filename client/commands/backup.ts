import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { connectionFlags, fail, inventoryOrExit, outputOption, printJson, withConnectionOptions } from '../cli-shared.js';
import { table } from '../render.js';
import { registerBackupSnapshots } from './backup-snapshots.js';

const CLUSTER = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('etcd backups: snapshots verified, encrypted and shipped off-site, on a schedule');
  registerBackupSnapshots(backup);
  const schedule = backup.command('schedule').description('Temporal Schedules that run etcd-backup (overlap: skip; catch-up window; jitter)');

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
      const [{ ScheduleAlreadyRunning }, { connectClient }, { createBackupSchedule }] = await Promise.all([import('@temporalio/client'), import('../connect.js'), import('../schedules.js')]);
      const inv = await inventoryOrExit(String(o.config));
      const mc = await connectClient(connectionFlags(o));
      try {
        const id = await createBackupSchedule(mc.client, inv, {
          ...(typeof o.every === 'string' ? { every: o.every } : {}), ...(typeof o.cron === 'string' ? { cron: o.cron } : {}),
          jitter: String(o.jitter), catchupWindow: String(o.catchupWindow), paused: o.paused === true, taskQueue: String(o.taskQueue),
        });
        process.stdout.write(`created schedule ${id}${o.paused ? ' (paused)' : ''}; see it with \`mooring backup schedule list\` or in the Web UI under Schedules\n`);
      } catch (err) {
        if ((err as Error).name === 'ScheduleAlreadyRunning' || err instanceof ScheduleAlreadyRunning) fail(`a backup schedule for ${inv.cluster.name} exists already: delete it first, or pause/resume it`, 3);
        fail((err as Error).message);
      } finally {
        await mc.close();
      }
    });

  withConnectionOptions(schedule.command('list'))
    .description('List backup schedules: spec, paused or not, next and recent runs')
    .option('--cluster <name>', 'only this cluster')
    .addOption(outputOption())
    .action(async (o: Record<string, string>) => {
      const [{ connectClient }, { listBackupSchedules }] = await Promise.all([import('../connect.js'), import('../schedules.js')]);
      if (o.cluster && !CLUSTER.test(o.cluster)) fail(`--cluster "${o.cluster}" is not a valid name`, 2);
      const mc = await connectClient(connectionFlags(o));
      try {
        const rows = await listBackupSchedules(mc.client, o.cluster);
        if (o.output === 'json') return printJson(rows);
        if (rows.length === 0) return void process.stdout.write('no backup schedules\n');
        process.stdout.write(`${table(['schedule', 'spec', 'state', 'next run', 'last run'], rows.map((r) => [
          r.scheduleId, r.spec, r.paused ? `paused${r.note ? `: ${r.note}` : ''}` : 'active', r.nextRuns[0] ?? '', r.recentRuns.at(-1)?.scheduledAt ?? '',
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
        fail((err as Error).message);
      } finally {
        await mc.close();
      }
    });
  }
}
