// Backup schedules on the real dev server through the CLI: created with overlap SKIP, a catch-up
// window and jitter; paused, resumed, triggered and deleted. A triggered run takes the cluster's
// mutating-runbook ID for its child, or is skipped when another runbook holds it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { ScheduleOverlapPolicy } from '@temporalio/client';
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
    assert.match(again.stderr, /exists already/);

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
      const result = await t.client.workflow.getHandle(run.workflowId, run.runId).result() as { outcome: string; reason: string };
      assert.equal(result.outcome, 'skipped');
      assert.match(result.reason, /cluster sched is busy: another mutating runbook runs as ops\/sched/);
    } finally {
      await holder.terminate('test done');
      await mooring(['backup', 'schedule', 'delete', 'sched'], env);
    }
  });
});
