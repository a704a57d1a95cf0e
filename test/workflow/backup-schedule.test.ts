// Backup schedules on the real dev server through the CLI: created with overlap SKIP, a catch-up
// window and jitter; paused, resumed, triggered and deleted. A triggered run takes the cluster's
// mutating-runbook ID for its child, or is skipped when another runbook holds it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadInventory } from '../../config/load.js';
import { staleScheduleHint } from '../../client/schedules.js';
import { PHASE } from '../../workflows/runbook/search-attributes.js';
import { testInventory } from '../helpers/inventory.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { mooring } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('backup schedules (real Temporal, CLI)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  let env: NodeJS.ProcessEnv;
  let file: string;
  const taskQueue = uniqueTaskQueue('sched');

  before(async () => {
    t = await startTestTemporal();
    w = await startTestWorker(t.address, taskQueue, {});
    env = { TEMPORAL_ADDRESS: t.address, MOORING_TASK_QUEUE: taskQueue };
    const inv = {
      ...testInventory('sched'),
      backup: {
        schedule: { every: '6h' }, retention: { keepLast: 3, hourly: 24, daily: 7, weekly: 4, monthly: 6 }, localDir: '/var/backups/etcd',
        objectStore: { endpoint: 'http://127.0.0.1:9', bucket: 'snapshots', region: 'us-east-1', accessKey: { env: 'S3_ACCESS' }, secretKey: { env: 'S3_SECRET' } },
        encryptionKey: { env: 'BACKUP_KEY' },
      },
    };
    file = join(scratchDir('sched-'), 'inv.yaml');
    writeFileSync(file, stringify(inv));
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
  });

  it('create, list, pause, resume, delete through the CLI', async () => {
    const created = await mooring(['backup', 'schedule', 'create', '-c', file, '--jitter', '5m', '--catchup-window', '2h'], env);
    assert.equal(created.code, 0, created.stderr);
    const again = await mooring(['backup', 'schedule', 'create', '-c', file], env);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /exists already \(backup\/sched\): to give it this inventory, run `mooring backup schedule update -c .*inv\.yaml`/);

    const d = await t.client.schedule.getHandle('backup/sched').describe();
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(d.policies.catchupWindow, 2 * 3600_000);
    assert.equal(d.spec.jitter, 5 * 60_000);
    assert.equal(d.spec.intervals?.[0]?.every, 6 * 3600_000);
    assert.equal(d.action.type, 'startWorkflow');

    const list = JSON.parse((await mooring(['backup', 'schedule', 'list', '-o', 'json'], env)).stdout) as { scheduleId: string; spec: string; paused: boolean; cluster: string }[];
    assert.deepEqual(list.map((s) => [s.scheduleId, s.spec, s.paused, s.cluster]), [['backup/sched', 'every 6h (jitter 5m)', false, 'sched']]);

    assert.equal((await mooring(['backup', 'schedule', 'pause', 'sched', '--note', 'maintenance CHG-7'], env)).code, 0);
    let s = (await t.client.schedule.getHandle('backup/sched').describe()).state;
    assert.deepEqual([s.paused, s.note], [true, 'maintenance CHG-7']);
    assert.equal((await mooring(['backup', 'schedule', 'resume', 'sched'], env)).code, 0);
    s = (await t.client.schedule.getHandle('backup/sched').describe()).state;
    assert.equal(s.paused, false);

    assert.equal((await mooring(['backup', 'schedule', 'delete', 'sched'], env)).code, 0);
    const gone = await mooring(['backup', 'schedule', 'pause', 'sched'], env);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /no backup schedule for cluster sched: create one/);
  });

  it('a cron spec from the flags; both flags at once are refused', async () => {
    const both = await mooring(['backup', 'schedule', 'create', '-c', file, '--every', '1h', '--cron', '0 * * * *'], env);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--every or --cron, not both/);
    const bad = await mooring(['backup', 'schedule', 'create', '-c', file, '--cron', '0 *'], env);
    assert.match(bad.stderr, /five fields/);
    assert.equal((await mooring(['backup', 'schedule', 'create', '-c', file, '--cron', '15 */6 * * *', '--paused'], env)).code, 0);
    const list = JSON.parse((await mooring(['backup', 'schedule', 'list', '--cluster', 'sched', '-o', 'json'], env)).stdout) as { spec: string; paused: boolean }[];
    assert.match(list[0]!.spec, /^cron 15 \*\/6 \* \* \*/);
    assert.equal(list[0]!.paused, true);
    await mooring(['backup', 'schedule', 'delete', 'sched'], env);
  });

  it('a triggered run is skipped while another mutating runbook holds ops/<cluster>', async () => {
    // Something else holds the cluster: a run under ops/sched (its type does not matter here).
    await mooring(['backup', 'schedule', 'delete', 'sched'], env); // independent of the tests before
    const holder = await t.client.workflow.start('inventoryCheck', { workflowId: 'ops/sched', taskQueue, args: [{ inventory: testInventory('sched') }] });
    try {
      assert.equal((await mooring(['backup', 'schedule', 'create', '-c', file], env)).code, 0);
      assert.equal((await mooring(['backup', 'schedule', 'trigger', 'sched'], env)).code, 0);
      const run = await eventually('the triggered run', async () => {
        for await (const x of t.client.workflow.list({ query: 'WorkflowType = "scheduledEtcdBackup"' })) return x;
        return undefined;
      });
      // Not a success: the run fails with its own type, carrying the result, and says so in MooringPhase.
      const h = t.client.workflow.getHandle(run.workflowId, run.runId);
      const err = await h.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, 'the skipped run ends FAILED');
      const cause = err.cause as ApplicationFailure;
      assert.equal(cause.type, 'BackupSkippedBusy');
      assert.match(cause.message, /cluster sched is busy: another mutating runbook runs as ops\/sched/);
      assert.equal((cause.details?.[0] as { outcome?: string }).outcome, 'skipped');
      assert.equal((await h.describe()).typedSearchAttributes.get(PHASE), 'skipped-busy');
      const status = await eventually('backup status to show the skip', async () => {
        const r = await mooring(['backup', 'status', 'sched'], env);
        return /SKIPPED \(cluster busy\)/.test(r.stdout) ? r : undefined;
      });
      assert.match(status.stdout, /schedule backup\/sched: .*last result SKIPPED \(cluster busy\)/);
      const listed = await mooring(['backup', 'schedule', 'list'], env);
      assert.match(listed.stdout, /backup\/sched .*SKIPPED \(cluster busy\)/);
    } finally {
      await holder.terminate('test done');
      await mooring(['backup', 'schedule', 'delete', 'sched'], env);
    }
  });

  it('update gives the schedule the current inventory in place (spec and paused state kept); a recovery points to it', async () => {
    await mooring(['backup', 'schedule', 'delete', 'sched'], env);
    assert.equal((await mooring(['backup', 'schedule', 'create', '-c', file, '--paused', '--every', '2h'], env)).code, 0);
    // The cluster changed: a member was replaced (new address) after the schedule was made.
    const changed = parse(readFileSync(file, 'utf8')) as { masters: { name: string; ip: string }[] };
    changed.masters[2]!.ip = '10.0.0.33';
    const newFile = join(dirname(file), 'inv-replaced.yaml');
    writeFileSync(newFile, stringify(changed));
    const inv = await loadInventory(newFile);
    const hint = await staleScheduleHint(t.client, inv, newFile);
    assert.match(hint ?? '', /backup schedule backup\/sched still runs with an older copy of this inventory \(differs in: masters\).*mooring backup schedule update -c .*inv-replaced\.yaml/);

    const up = await mooring(['backup', 'schedule', 'update', '-c', newFile], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /updated schedule backup\/sched/);
    const d = await t.client.schedule.getHandle('backup/sched').describe();
    assert.equal(d.action.type, 'startWorkflow');
    const args = d.action.type === 'startWorkflow' ? d.action.args : [];
    assert.deepEqual((args?.[0] as { inventory: unknown }).inventory, inv);
    assert.equal(d.state.paused, true, 'paused state kept');
    assert.equal(d.spec.intervals?.[0]?.every, 2 * 3600_000, 'spec kept');
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(await staleScheduleHint(t.client, inv, newFile), undefined, 'nothing left to update');
    await mooring(['backup', 'schedule', 'delete', 'sched'], env);

    const missing = await mooring(['backup', 'schedule', 'update', '-c', newFile], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no backup schedule for cluster sched: create one/);
  });
});
