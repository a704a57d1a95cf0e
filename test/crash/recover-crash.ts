// Crash matrix for the etcd recovery runbooks (follower, leader, majority): for each boundary N,
// cause the scenario's failure on the lab, start its runbook, SIGKILL the worker process right
// after the run's N-th activity completed (approving the gate on the way when the boundary lies
// after it, or after the restart when it lies before it), start a new worker, and check the run
// ends with a healthy three-member cluster holding the canary, and that every destructive command
// (member remove, member add, moving a data dir aside, the snapshot restore) ran exactly once
// for its member, and nothing destructive ran that the scenario does not call for.
//
// Commands are counted as the hosts received them. A command that had no effect is rightly sent
// again by the activity's retry: a move-aside the crash cut before it ran (the worker dies while
// parallel moves are in flight; the command dies with its SSH channel), a member add etcd refused.
// For those two the check is the effect: each data dir was moved to this run's directory once (a
// second `mv` would have nested a copy inside it), and the cluster ends with three started voting
// members (a second add would have left a fourth). Restore and remove must be received once.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, findLeader, hostEtcdctl, memberHealthy, type LabMember } from '../../lab/etcd-cluster.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { runTag } from '../../workflows/etcd-recovery/target.js';
import { eventually, startTestTemporal, uniqueTaskQueue, within, type TestTemporal } from '../helpers/temporal.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { snapshotOf } from './boundary.js';
import { killAtBoundary, workerStarter } from './kill-at.js';

export interface CrashEnv { lab: Lab; t: TestTemporal; workers: WorkerProcess[] }

export type CrashScenario = 'follower' | 'leader' | 'majority';

// Activities each runbook completes on the happy path, in order; boundary N kills the worker
// right after the N-th completed (boundaries before the approval gate are killed before approving).
// Every run checks it completed no more activities than this, so none goes without its boundary,
// and each boundary fails its case unless the worker was killed there while the run was open.
export const BOUNDARIES: Record<CrashScenario, number> = {
  // assess(1) [gate] reassess: observe(2) remove(3) fence(4) move-aside(5) certs and member list
  // side by side (6-7) config(8) add(9) start(10) promote(11) healthy(12) verify: list, observe and
  // canary side by side (13-15) (replace-member-parallel-reads: the same count, in either order)
  follower: 15,
  // election: observe(1) writes: probe(2) [gate] reassess: observe(3) remove(4) fence(5)
  // move-aside(6) certs and member list (7-8) config(9) add(10) start(11) promote(12) healthy(13)
  // verify: list, observe, canary (14-16). The test waits for the new leader before starting the
  // run, so the election and write-probe loops take one activity each.
  leader: 16,
  // confirm: observe(1), then the snapshot search beside the gap and the second probe (2-3; two
  // probes CONFIRM_GAP_MS apart; majority-parallel-reads) snapshot: (the search's result)
  // snapshot:remote: newest in the bucket(4, only when the inventory has an object store, as the
  // lab's does) [gate] reassess: observe and find side by side (5-6) fence: stop x3 in parallel (7-9) move-aside x3
  // in parallel (10-12) restore(13) start-first: config(14) start(15) healthy(16) grow etcd-2:
  // add(17) config(18) start(19) promote(20) healthy(21) observe(22) grow etcd-3: add(23)
  // config(24) start(25) promote(26) healthy(27) observe(28) verify: observe(29) canary(30)
  // control-plane, per master (the lab has one): its container IDs(31) restart(32). (No fetch:
  // the lab's bucket holds no newer snapshot.)
  majority: 32,
};

export async function setUpCrashEnv(subnet: string): Promise<CrashEnv> {
  const lab = new Lab({ dir: scratchDir('mooring-crashmx-'), subnet });
  await lab.up();
  return { lab, t: await startTestTemporal(), workers: [] };
}

export async function tearDownCrashEnv(e: CrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
  await e.lab.down();
}

/**
 * One lab for a suite's cases, handed out fresh after a case that failed: a failed case can leave
 * its lab mid-recovery (a run terminated after its member add, a data dir moved aside), and the
 * next case would then fail on that instead of on its own boundary. The failed lab's files stay
 * for a post-mortem (MOORING_KEEP_SCRATCH=1).
 */
export function crashSuite(subnet: string): { setUp(): Promise<void>; tearDown(): Promise<void>; crashAt(scenario: CrashScenario, boundary: number): Promise<CrashOutcome>; labDir(): string | undefined } {
  let e: CrashEnv | undefined;
  let clean = false;
  return {
    async setUp() { e = await setUpCrashEnv(subnet); clean = true; },
    async tearDown() { await tearDownCrashEnv(e); e = undefined; },
    labDir: () => e?.lab.dir,
    async crashAt(scenario, boundary) {
      if (!clean) {
        await tearDownCrashEnv(e);
        e = undefined;
        e = await setUpCrashEnv(subnet);
      }
      clean = false;
      const outcome = await crashRecoveryAt(e!, scenario, boundary);
      clean = true;
      return outcome;
    },
  };
}

/**
 * Destructive commands the nodes received, counted per kind and member: `member remove` (by
 * member ID on the wire, so counted without a name), `member add <name>`, `mv data dir on <node>`,
 * `snapshot restore on <node>`.
 */
function destructive(lab: Lab): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const n of ['etcd-1', 'etcd-2', 'etcd-3']) {
    // Commands arrive wrapped (tiedToChannel), their quotes escaped once more: undo that first.
    for (const c of lab.commandsReceived(n).map((x) => x.replace(/'\\''/g, "'"))) {
      if (/'member' 'remove'/.test(c)) count('member remove');
      const added = /'member' 'add' '([^']+)'/.exec(c);
      if (added) count(`member add ${added[1]}`);
      if (/mv '\/var\/lib\/etcd' /.test(c)) count(`mv data dir on ${n}`);
      // The restore itself, not the `snapshot restore --help` probe for --bump-revision.
      if (/snapshot restore '[^']+' --name /.test(c)) count(`snapshot restore on ${n}`);
    }
  }
  return counts;
}

function delta(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) !== 0) d[k] = v - (before.get(k) ?? 0);
  return d;
}

const RUNBOOK: Record<CrashScenario, string> = {
  follower: 'recover-etcd-follower',
  leader: 'recover-etcd-leader',
  majority: 'recover-etcd-majority',
};

/** Where the majority scenario keeps its snapshot: the runbook's default directory, on etcd-1. */
const SNAPSHOT_DIR = '/var/backups/etcd';

/**
 * Causes the scenario's failure and returns the destructive commands the recovery must run,
 * each exactly once.
 */
async function causeFailure(lab: Lab, scenario: CrashScenario, members: LabMember[], ctl: (args: string[]) => Promise<string>, tag: string): Promise<Record<string, number>> {
  const replaced = (name: string) => ({ 'member remove': 1, [`member add ${name}`]: 1, [`mv data dir on ${name}`]: 1 });
  if (scenario === 'follower') {
    // A follower, not whichever member happens to lead (that is the leader scenario).
    const leader = await findLeader(lab.etcdSettings, members);
    const victim = ['etcd-2', 'etcd-3', 'etcd-1'].find((n) => n !== leader?.name)!;
    lab.killEtcd(victim);
    return replaced(victim);
  }
  if (scenario === 'leader') {
    const old = await lab.killLeader();
    // Wait for the election here, so the runbook's election and write-probe loops take one
    // activity each and the boundaries mean the same activity on every run.
    const others = members.filter((m) => m.name !== old);
    await eventually('a new leader that accepts writes', async () => {
      if (!(await findLeader(lab.etcdSettings, others))) return false;
      await ctl(['put', `after-election-${tag}`, 'x']);
      return true;
    }, 60_000, 250);
    return replaced(old);
  }
  // Majority: a good snapshot holding the canary on etcd-1 (the only one, so it is the one
  // restored), taken the way the e2e test does, then every member but etcd-1 killed.
  const first = members[0]!;
  const snapDir = lab.viewPath(first.name, SNAPSHOT_DIR);
  for (const f of readdirSync(snapDir).filter((x) => /^crash-.*\.db$/.test(x))) rmSync(join(snapDir, f));
  await hostEtcdctl(lab.etcdSettings, first, [clientEndpoint(lab.etcdSettings, first)], ['snapshot', 'save', join(snapDir, `crash-${tag}.db`)], 10);
  const victims = lab.killMajority();
  assert.deepEqual(victims, members.slice(1).map((m) => m.name));
  return {
    [`snapshot restore on ${first.name}`]: 1,
    ...Object.fromEntries(members.map((m) => [`mv data dir on ${m.name}`, 1])),
    ...Object.fromEntries(victims.map((n) => [`member add ${n}`, 1])),
  };
}

/** The first worker of a case: the production worker that freezes right after the boundary's activity. */
const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

export interface CrashOutcome {
  /** Activities the run completed in all (its happy-path count). */
  total: number;
  /** Activities completed when the worker died: the boundary, or more when parallel ones finished together. */
  killedAfter: number;
}

/**
 * Runs one crash. Fails (BoundaryMissed) unless the worker was killed at the boundary while the
 * run was still open: a boundary past the runbook's last activity, or a run that ended first.
 */
export async function crashRecoveryAt(e: CrashEnv, scenario: CrashScenario, boundary: number): Promise<CrashOutcome> {
  const { lab, t } = e;
  const tag = `${scenario}-${boundary}`;
  const taskQueue = uniqueTaskQueue(`crash-${tag}`);
  const spawnWorker = workerStarter(e.workers, t.address, taskQueue, lab.dir, tag);
  const inv = await loadInventory(lab.inventoryFile);
  const members = lab.etcdMembers();
  const ctl = (args: string[]) => hostEtcdctl(lab.etcdSettings, members[0]!, members.map((m) => clientEndpoint(lab.etcdSettings, m)), args, 5);
  const canary = { key: `canary-${tag}`, value: 'before' };
  await ctl(['put', canary.key, canary.value]);
  const before = destructive(lab);
  const expected = await causeFailure(lab, scenario, members, ctl, tag);

  const w = await spawnWorker([CRASH_WORKER, '--freeze-after', String(boundary)]);
  const handle = await startRunbook(t.client, findRunbook(RUNBOOK[scenario]), inv, { taskQueue, canary });
  const run = async () => snapshotOf((await handle.fetchHistory()).events ?? []);
  let outcome: CrashOutcome;
  try {
    const approve = async () => { await decide(t.client, handle.workflowId, { approved: true, by: 'crash-matrix' }); };
    const { killedAfter, approved } = await killAtBoundary({ boundary, run, approve, worker: w, limitMs: 180_000, pollMs: 50 });
    const w2 = await spawnWorker();
    if (!approved) {
      await eventually('the gate, after the restart', async () => (await handle.query(progressQuery)).pendingApproval, 60_000);
      await approve();
    }
    await within(`the ${RUNBOOK[scenario]} run to end`, handle.result(), 300_000);
    outcome = { total: (await run()).completed, killedAfter };
    await w2.stop();
  } finally {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate(`crash test at boundary ${boundary} failed`);
  }

  for (const m of members) assert.ok(await memberHealthy(lab.etcdSettings, m), `${m.name} healthy after crash at ${scenario} boundary ${boundary}`);
  // Three started voting members: a member add that took effect twice would show here.
  const list = (await ctl(['member', 'list'])).trim().split('\n');
  assert.equal(list.length, 3, list.join('\n'));
  assert.ok(list.every((l) => /, started, /.test(l) && /, false$/.test(l)), list.join('\n'));
  assert.equal((await ctl(['get', canary.key, '--print-value-only'])).trim(), canary.value, 'the canary survived');
  const got = delta(destructive(lab), before);
  const dataDir = lab.etcdSettings.dataDir;
  const moved = `${dataDir}.${runTag(handle.workflowId, handle.firstExecutionRunId)}`;
  for (const k of Object.keys(expected).filter((x) => x.startsWith('mv data dir on '))) {
    const node = k.slice('mv data dir on '.length);
    const aside = lab.viewPath(node, moved);
    assert.ok(existsSync(join(aside, 'member')), `${node}: the old data is at ${moved} (crash at ${scenario} boundary ${boundary})`);
    assert.ok(!existsSync(join(aside, basename(dataDir))), `${node}: ${dataDir} was moved into ${moved} a second time (crash at ${scenario} boundary ${boundary})`);
    if ((got[k] ?? 0) > 1) got[k] = 1; // re-sent after a cut attempt; moved once, as checked just above
  }
  // Likewise a member add etcd refused ("unhealthy cluster" right after a promotion) is sent again
  // by the retry; the member list above shows each was added once.
  for (const k of Object.keys(expected).filter((x) => x.startsWith('member add '))) if ((got[k] ?? 0) > 1) got[k] = 1;
  assert.deepEqual(got, expected, `each destructive command ran exactly once (crash at ${scenario} boundary ${boundary})`);
  return outcome;
}
