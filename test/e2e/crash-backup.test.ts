// Crash tests for etcd-backup: the worker process is SIGKILLed (1) right after the snapshot was
// saved and checked, and (2) in the middle of the upload, while the node streams the file. A new
// worker finishes the run. The end state is checked for real: one `snapshot save` on the hosts, the
// checked file reused, exactly one committed object in the real S3 with the right sha256.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import type { EtcdBackupResult } from '../../workflows/etcd-backup/backup.js';
import { backupTargetOf } from '../../workflows/etcd-backup/target.js';
import { openObjectStore } from '../../activities/backup/object-store.js';
import { remotePrefix } from '../../activities/backup/index.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('etcd-backup survives its worker being killed (real worker process, etcd, sshd, S3)', () => {
  let lab: Lab;
  let t: TestTemporal | undefined;
  let inv: Inventory;
  const workers: WorkerProcess[] = [];
  before(async () => {
    lab = new Lab({ dir: scratchDir('mooring-crash-backup-'), subnet: '127.39.0' });
    await lab.up();
    t = await startTestTemporal();
    inv = await loadInventory(lab.inventoryFile);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await lab.down();
  });

  const saves = () => lab.etcdMembers().reduce((n, m) => n + lab.commandsReceived(m.name).filter((c) => c.replace(/['\\]/g, '').includes('snapshot save')).length, 0);
  const remote = async () => {
    const b = backupTargetOf(inv)!;
    const store = await openObjectStore(b.objectStore);
    try { return await store.listSnapshots(remotePrefix(b)); } finally { store.close(); }
  };

  async function crashAt(name: string, when: (activityType: string, completed: string[]) => boolean, prepare: () => void = () => {}) {
    const taskQueue = uniqueTaskQueue(`crash-backup-${name}`);
    const spawnWorker = async () => {
      const w = startWorkerProcess(t!.address, taskQueue, join(lab.dir, `worker-${name}-${workers.length}.log`));
      workers.push(w);
      await w.ready;
      return w;
    };
    const savesBefore = saves();
    const objectsBefore = (await remote()).length;
    prepare();
    const w = await spawnWorker();
    const handle = await startRunbook(t!.client, findRunbook('etcd-backup'), inv, { taskQueue });
    await eventually(`the crash point (${name})`, async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]));
      const completed = events.filter((e) => e.activityTaskCompletedEventAttributes).map((e) => scheduled.get(String(e.activityTaskCompletedEventAttributes!.scheduledEventId))!);
      // A running activity's start is in history only once it ends: ask for pending activities.
      const running = ((await handle.describe()).raw.pendingActivities ?? []).filter((p) => p.lastStartedTime).map((p) => p.activityType!.name!);
      return [...completed, ...running].some((a) => when(a, completed));
    }, 120_000, 20);
    assert.equal(await w.kill9(), 'SIGKILL');
    await spawnWorker();
    const r = (await handle.result()) as EtcdBackupResult;
    lab.clearFaults();
    assert.equal(r.outcome, 'completed', r.report);
    assert.equal(saves() - savesBefore, 1, 'snapshot save ran exactly once across both workers');
    const stored = await remote();
    assert.equal(stored.length - objectsBefore, 1, 'exactly one new object in the bucket');
    const mine = stored.find((s) => s.key === r.uploaded!.key)!;
    assert.equal(mine.complete, true);
    assert.equal(mine.sha256, r.snapshot!.sha256);
    return r;
  }

  it('killed right after the snapshot was saved and checked: the new worker uploads that same file', async () => {
    const r = await crashAt('after-snapshot', (_a, completed) => completed.includes('takeEtcdSnapshot'));
    assert.equal(r.snapshot!.reused, false);
  });

  it('killed mid-upload (the node still streaming): the retry streams again and commits one object', async () => {
    // Each SSH command on the members starts 3 s late: the upload's `cat` is in flight when the worker dies.
    const r = await crashAt('mid-upload', (a) => a === 'uploadEtcdSnapshot', () => { for (const m of lab.etcdMembers()) lab.slowSsh(m.name, 3); });
    assert.equal(r.uploaded!.alreadyUploaded, false);
  });
});
