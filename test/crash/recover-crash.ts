// Crash matrix for the follower recovery: for each boundary N, fail a member, start the runbook,
// approve, SIGKILL the worker process right after its N-th activity completed, start a new worker,
// and check the run ends with a healthy three-member cluster and that no destructive command
// (member remove, member add, moving the data dir) ran twice on the hosts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

export interface CrashEnv { lab: Lab; t: TestTemporal; workers: WorkerProcess[] }

export async function setUpCrashEnv(subnet: string): Promise<CrashEnv> {
  const lab = new Lab({ dir: mkdtempSync(join(tmpdir(), 'mooring-crashmx-')), subnet });
  await lab.up();
  return { lab, t: await startTestTemporal(), workers: [] };
}

export async function tearDownCrashEnv(e: CrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
  await e.lab.down();
}

/** Destructive commands each node received, by kind. */
function destructive(lab: Lab): Record<string, number> {
  const counts: Record<string, number> = { 'member remove': 0, 'member add': 0, 'mv data dir': 0 };
  for (const n of ['etcd-1', 'etcd-2', 'etcd-3']) {
    // Commands arrive wrapped (tiedToChannel), their quotes escaped once more: undo that first.
    for (const c of lab.commandsReceived(n).map((x) => x.replace(/'\\''/g, "'"))) {
      if (/'member' 'remove'/.test(c)) counts['member remove']! += 1;
      if (/'member' 'add'/.test(c)) counts['member add']! += 1;
      if (/mv '\/var\/lib\/etcd' /.test(c)) counts['mv data dir']! += 1;
    }
  }
  return counts;
}

export async function crashFollowerRecoveryAt(e: CrashEnv, boundary: number): Promise<void> {
  const { lab, t } = e;
  const taskQueue = uniqueTaskQueue(`crash-${boundary}`);
  const spawnWorker = async () => {
    const w = startWorkerProcess(t.address, taskQueue, join(lab.dir, `worker-${boundary}-${e.workers.length}.log`));
    e.workers.push(w);
    await w.ready;
    return w;
  };
  const inv = await loadInventory(lab.inventoryFile);
  const members = lab.etcdMembers();
  const ctl = (args: string[]) => hostEtcdctl(lab.etcdSettings, members[0]!, members.map((m) => clientEndpoint(lab.etcdSettings, m)), args, 5);
  await ctl(['put', `canary-${boundary}`, 'before']);
  const before = destructive(lab);
  lab.killEtcd('etcd-2');

  const w = await spawnWorker();
  const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, { taskQueue, canary: { key: `canary-${boundary}`, value: 'before' } });
  await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval, 60_000);
  await decide(t.client, handle.workflowId, { approved: true, by: 'crash-matrix' });
  const completed = async () => (await handle.fetchHistory()).events?.filter((ev) => ev.activityTaskCompletedEventAttributes).length ?? 0;
  const reached = await eventually(`activity boundary ${boundary}`, async () => {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return 'ended';
    return (await completed()) >= boundary ? 'reached' : undefined;
  }, 120_000, 50);
  if (reached === 'reached') assert.equal(await w.kill9(), 'SIGKILL');
  await spawnWorker();
  await handle.result();

  for (const m of members) assert.ok(await memberHealthy(lab.etcdSettings, m), `${m.name} healthy after crash at boundary ${boundary}`);
  assert.equal((await ctl(['member', 'list'])).trim().split('\n').length, 3);
  const after = destructive(lab);
  for (const k of Object.keys(after)) assert.equal(after[k]! - before[k]!, 1, `${k} ran exactly once (crash at boundary ${boundary})`);
}
