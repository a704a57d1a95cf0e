// An approval can come long after the plan was shown. These runs change the (FAKE) cluster between
// the assessment and the approval and check that the recoveries look again and act only on what is
// still true; plus the gate's own rules (one decision per gate, refused signals visible) and the
// one-master-at-a-time control-plane restart. Real dev server; the etcd and control-plane
// activities are FAKES over an in-memory cluster model, named as such.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import type { MemberView } from '../../workflows/etcd-recovery/assessment.js';
import type { MooringActivities } from '../../activities/index.js';
import type { SnapshotCheck } from '../../activities/etcd-recovery/snapshots.js';
import { decideSignal, progressQuery, type RunbookProgress } from '../../workflows/runbook/definitions.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { failureOf } from '../../client/watch.js';
import { workflowBundle } from '../../workers/worker.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { externalEtcdInventory } from '../helpers/inventory.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const ip = (name: string) => `10.0.0.${name.slice(1)}`;

/** FAKE etcd cluster whose health and leader the test changes while the gate waits. */
function fakeMembers(healthy: Record<string, boolean>, leader: string) {
  const calls: string[] = [];
  const state = { healthy, leader, term: 2 };
  const list = new Map(Object.keys(healthy).map((n, i) => [n, { id: `id${i + 1}`, name: n, learner: false }]));
  const view = (name: string): MemberView => ({
    name, ip: ip(name), reachable: true, healthy: state.healthy[name] ?? false, isLeader: name === state.leader && state.healthy[name] === true,
    clusterId: 'c1', memberId: list.get(name)?.id ?? '', raftTerm: state.term,
  });
  const acts: Partial<MooringActivities> = {
    observeEtcd: async ({ members }) => { calls.push('observe'); return members.map((m) => view(m.name)); },
    probeEtcdWrite: async () => ({ ok: true }),
    etcdMembers: async () => ({ clusterId: 'c1', members: [...list.values()].map((m) => ({ id: m.id, name: m.name, peerURLs: [`https://${ip(m.name)}:2380`], clientURLs: [], isLearner: m.learner })) }),
    removeEtcdMember: async ({ who, via }) => { calls.push(`remove ${who.name} via ${via.name}`); const m = list.get(who.name); list.delete(who.name); return m ? { removedId: m.id } : {}; },
    stopEtcdOn: async ({ host }) => { calls.push(`stop ${host.name}`); return { wasActive: false }; },
    moveEtcdDataAside: async ({ host, tag }) => { calls.push(`move-aside ${host.name}`); return { movedTo: `/var/lib/etcd.${tag}`, alreadyMoved: false }; },
    etcdCertsPresent: async () => ({ present: true }),
    writeEtcdConfigOn: async ({ host }) => { calls.push(`config ${host.name}`); return { path: '/etc/etcd/etcd.conf.yaml' }; },
    addEtcdLearner: async ({ who }) => { calls.push(`add-learner ${who.name}`); list.set(who.name, { id: 'id9', name: who.name, learner: true }); return { id: 'id9', alreadyPresent: false, isLearner: true }; },
    startEtcdOn: async ({ host }) => { calls.push(`start ${host.name}`); state.healthy[host.name] = true; return { wasActive: false }; },
    promoteEtcdLearner: async ({ id }) => { for (const m of list.values()) if (m.id === id) m.learner = false; return { promoted: true }; },
    expectEtcdHealthy: async () => ({ healthy: true as const }),
  };
  return { calls, acts, state, destructive: () => calls.filter((c) => c !== 'observe') };
}

describe('recoveries act only on what is still true after the approval (real dev server, FAKE activities)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t?.stop(); });

  const gate = async (h: WorkflowHandle, step = 'approve') => eventually(`gate ${step}`, async () => {
    const p = await h.query(progressQuery);
    return p.pendingApproval?.step === step ? p.pendingApproval : undefined;
  }, 30_000);
  const outcomeOf = (h: WorkflowHandle) => h.result().then((r: unknown) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, f: failureOf(err) }));
  /** The run's own history replays on today's code (the new shape is deterministic too). */
  const replays = async (h: WorkflowHandle) => Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, await h.fetchHistory(), h.workflowId);

  async function withWorker<T>(acts: Partial<MooringActivities>, fn: (taskQueue: string, w: TestWorker) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('reassess');
    const w = await startTestWorker(t.address, taskQueue, acts);
    try { return await fn(taskQueue, w); } finally { await w.stop(); }
  }

  it('follower: the failed member is healthy again by the time of the approval: stops, touches nothing', async () => {
    const fake = fakeMembers({ e1: true, e2: false, e3: true }, 'e1');
    await withWorker(fake.acts, async (taskQueue) => {
      const h = await startRunbook(t.client, findRunbook('recover-etcd-follower'), externalEtcdInventory('ra1'), { taskQueue });
      await gate(h);
      fake.state.healthy.e2 = true; // it came back on its own while nobody looked
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const o = await outcomeOf(h);
      assert.ok(!o.ok && o.f.type === 'PreconditionFailed', JSON.stringify(o));
      assert.match(o.ok ? '' : o.f.message, /e2 is healthy again/);
      assert.deepEqual(fake.destructive(), [], 'nothing was changed after the approval');
      const p = await h.query(progressQuery);
      assert.equal(p.steps.find((s) => s.id === 'reassess')?.status, 'failed');
      assert.match(p.report ?? '', /Stopped, nothing changed/);
      await replays(h);
    });
  });

  it('follower: quorum lost after the assessment (another member failed): stops before removing anything', async () => {
    const fake = fakeMembers({ e1: true, e2: false, e3: true }, 'e1');
    await withWorker(fake.acts, async (taskQueue) => {
      const h = await startRunbook(t.client, findRunbook('recover-etcd-follower'), externalEtcdInventory('ra2'), { taskQueue });
      await gate(h);
      fake.state.healthy.e3 = false;
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const o = await outcomeOf(h);
      assert.ok(!o.ok && o.f.type === 'PreconditionFailed', JSON.stringify(o));
      assert.match(o.ok ? '' : o.f.message, /e3 failed since the assessment.*quorum is lost/);
      assert.deepEqual(fake.destructive(), []);
    });
  });

  it('follower: the leader moved while the gate waited: asks again with the new plan, then works through the new leader', async () => {
    const fake = fakeMembers({ e1: true, e2: false, e3: true }, 'e1');
    await withWorker(fake.acts, async (taskQueue) => {
      const h = await startRunbook(t.client, findRunbook('recover-etcd-follower'), externalEtcdInventory('ra3'), { taskQueue });
      const first = await gate(h);
      assert.match(first.plan, /run on e1/);
      fake.state.leader = 'e3';
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const second = await gate(h, 'approve-2');
      assert.match(second.plan, /the leader changed from e1 to e3/);
      assert.match(second.plan, /run on e3/);
      assert.deepEqual(fake.destructive(), [], 'nothing done between the two gates');
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall', comment: 'new plan checked' });
      const o = await outcomeOf(h);
      assert.ok(o.ok, JSON.stringify(o));
      assert.equal(fake.destructive()[0], 'remove e2 via e3');
      const p = await h.query(progressQuery);
      assert.deepEqual(p.decisions.map((d) => d.step), ['approve', 'approve-2']);
      assert.deepEqual(p.steps.slice(0, 5).map((s) => `${s.id}:${s.status}`), ['assess:done', 'approve:done', 'reassess:done', 'approve-2:done', 'reassess-2:done']);
      await replays(h);
    });
  });

  it('leader: the old leader is healthy again after the approval: stops before removing it', async () => {
    const fake = fakeMembers({ e1: false, e2: true, e3: true }, 'e2');
    await withWorker(fake.acts, async (taskQueue) => {
      const h = await startRunbook(t.client, findRunbook('recover-etcd-leader'), externalEtcdInventory('ra4'), { taskQueue });
      await gate(h);
      fake.state.healthy.e1 = true;
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const o = await outcomeOf(h);
      assert.ok(!o.ok && o.f.type === 'PreconditionFailed', JSON.stringify(o));
      assert.match(o.ok ? '' : o.f.message, /e1 is healthy again/);
      assert.deepEqual(fake.destructive(), []);
    });
  });

  it('a plan that still holds goes ahead after one re-assessment', async () => {
    const fake = fakeMembers({ e1: false, e2: true, e3: true }, 'e2');
    await withWorker(fake.acts, async (taskQueue) => {
      const h = await startRunbook(t.client, findRunbook('recover-etcd-leader'), externalEtcdInventory('ra5'), { taskQueue });
      await gate(h);
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const o = await outcomeOf(h);
      assert.ok(o.ok, JSON.stringify(o));
      assert.equal(fake.destructive()[0], 'remove e1 via e2');
      assert.match((await h.query(progressQuery)).steps.find((s) => s.id === 'reassess')?.detail ?? '', /unchanged/);
      await replays(h);
    });
  });
});

/** FAKE majority loss: only e1 answers etcd; snapshots per host; restore and growth in memory. */
function fakeMajority(masters: string[]) {
  const calls: string[] = [];
  const events: string[] = [];
  const snap = (path: string, mtime: number, revision: number): SnapshotCheck => ({ path, mtime, size: 1000, ok: true, revision, hash: revision * 7, totalKeys: 10 });
  const state = {
    quorum: false,
    restored: false,
    started: new Set<string>(),
    snapshots: { e1: [snap('/var/backups/etcd/b.db', 2000, 60), snap('/var/backups/etcd/a.db', 1000, 50)], e2: [] as SnapshotCheck[], e3: [] as SnapshotCheck[] } as Record<string, SnapshotCheck[]>,
  };
  const containers = new Map(masters.map((m) => [m, `${m}-c1`]));
  const acts: Partial<MooringActivities> = {
    observeEtcd: async ({ members }) => {
      calls.push('observe');
      return members.map((m): MemberView => {
        const healthy = state.restored ? state.started.has(m.name) : state.quorum || m.name === 'e1';
        return { name: m.name, ip: m.ip, reachable: true, healthy, isLeader: healthy && (state.restored || state.quorum) && m.name === 'e1', clusterId: state.restored ? 'new' : 'old', revision: state.restored ? 100 : 60 };
      });
    },
    findEtcdSnapshots: async ({ hosts }) => { calls.push('find-snapshots'); return hosts.map((h) => ({ host: h.name, checks: state.snapshots[h.name] ?? [] })); },
    stopEtcdOn: async ({ host }) => { calls.push(`stop ${host.name}`); return { wasActive: false }; },
    moveEtcdDataAside: async ({ host, tag }) => { calls.push(`move-aside ${host.name}`); return { movedTo: `/var/lib/etcd.${tag}`, alreadyMoved: false }; },
    restoreEtcdSnapshot: async ({ host, spec }) => { calls.push(`restore ${host.name} ${spec.snapshot}`); state.restored = true; return { tool: 'etcdctl', note: 'FAKE restore' } as Awaited<ReturnType<MooringActivities['restoreEtcdSnapshot']>>; },
    writeEtcdConfigOn: async ({ host }) => { calls.push(`config ${host.name}`); return { path: '/etc/etcd/etcd.conf.yaml' }; },
    startEtcdOn: async ({ host }) => { calls.push(`start ${host.name}`); state.started.add(host.name); return { wasActive: false }; },
    expectEtcdHealthy: async () => ({ healthy: true as const }),
    addEtcdLearner: async ({ who }) => { calls.push(`add-learner ${who.name}`); return { id: `id-${who.name}`, alreadyPresent: false, isLearner: true }; },
    promoteEtcdLearner: async () => ({ promoted: true }),
    controlPlaneContainers: async ({ host }) => ({ host: host.name, containers: [{ name: 'kube-apiserver', id: containers.get(host.name)! }] }),
    restartControlPlane: async ({ host, before }) => {
      events.push(`begin ${host.name}`);
      await new Promise((r) => setTimeout(r, 300));
      const stopped = (before ?? []).map((c) => `${c.name} ${c.id}`);
      containers.set(host.name, `${host.name}-c2`);
      events.push(`end ${host.name}`);
      return { host: host.name, stopped };
    },
  };
  return { calls, events, acts, state, destructive: () => calls.filter((c) => c !== 'observe' && c !== 'find-snapshots') };
}

describe('majority recovery: re-assessment after the approval and the rolling control-plane restart (real dev server, FAKE activities)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t?.stop(); });
  const masters = ['m1', 'm2', 'm3'];
  const inventory = (c: string) => externalEtcdInventory(c, { masters: masters.map((m, i) => ({ name: m, ip: `10.0.0.${11 + i}` })) });
  const gate = async (h: WorkflowHandle, step = 'approve') => eventually(`gate ${step}`, async () => {
    const p = await h.query(progressQuery);
    return p.pendingApproval?.step === step ? p.pendingApproval : undefined;
  }, 60_000);

  async function start(cluster: string, fake: ReturnType<typeof fakeMajority>) {
    const taskQueue = uniqueTaskQueue('majority');
    const w = await startTestWorker(t.address, taskQueue, fake.acts);
    const h = await t.client.workflow.start('recoverEtcdMajority', {
      workflowId: `ops/${cluster}`, taskQueue, args: [{ inventory: inventory(cluster), confirmRounds: 2, confirmIntervalMs: 10 }],
    });
    return { h, w };
  }

  it('the chosen snapshot is gone at approval time: asks again with the next verified one, restores that one', async () => {
    const fake = fakeMajority(masters);
    const { h, w } = await start('rm1', fake);
    try {
      assert.match((await gate(h)).plan, /b\.db on e1, revision 60/);
      fake.state.snapshots.e1 = fake.state.snapshots.e1!.filter((s) => !s.path.endsWith('b.db'));
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const second = await gate(h, 'approve-2');
      assert.match(second.plan, /the chosen snapshot \/var\/backups\/etcd\/b\.db on e1 is gone/);
      assert.match(second.plan, /a\.db on e1, revision 50/);
      assert.deepEqual(fake.destructive(), []);
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      await h.result();
      assert.ok(fake.destructive().includes('restore e1 /var/backups/etcd/a.db'), fake.destructive().join('\n'));
      // One master at a time: each restart ends before the next begins.
      assert.deepEqual(fake.events, ['begin m1', 'end m1', 'begin m2', 'end m2', 'begin m3', 'end m3']);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, await h.fetchHistory(), h.workflowId);
    } finally { await w.stop(); }
  });

  it('quorum came back before the approval: stops, nothing fenced or restored', async () => {
    const fake = fakeMajority(masters);
    const { h, w } = await start('rm2', fake);
    try {
      await gate(h);
      fake.state.quorum = true;
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const f = await h.result().then(() => undefined, (err: unknown) => failureOf(err));
      assert.equal(f?.type, 'PreconditionFailed');
      assert.match(f?.message ?? '', /quorum came back.*would throw away newer data/);
      assert.deepEqual(fake.destructive(), []);
    } finally { await w.stop(); }
  });

  it('no snapshot passes any more: stops with the reason', async () => {
    const fake = fakeMajority(masters);
    const { h, w } = await start('rm3', fake);
    try {
      await gate(h);
      for (const s of fake.state.snapshots.e1!) { s.ok = false; s.error = 'snapshot status: FAKE corruption'; }
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      const f = await h.result().then(() => undefined, (err: unknown) => failureOf(err));
      assert.equal(f?.type, 'PreconditionFailed');
      assert.match(f?.message ?? '', /no longer passes its check.*no snapshot on any member passes/);
      assert.deepEqual(fake.destructive(), []);
    } finally { await w.stop(); }
  });

  it('majority-parallel-reads: the snapshot search runs beside the second confirmation probe, the re-assessment reads both at once', async () => {
    const fake = fakeMajority(masters);
    // Each read takes a while and records when it ran: reads side by side have overlapping spans.
    const spans: { what: string; from: number; to: number }[] = [];
    const slow = <I, O>(what: string, fn: (i: I) => Promise<O>) => async (i: I): Promise<O> => {
      const from = Date.now();
      await new Promise((r) => setTimeout(r, 300));
      const out = await fn(i);
      spans.push({ what, from, to: Date.now() });
      return out;
    };
    fake.acts.findEtcdSnapshots = slow('find', fake.acts.findEtcdSnapshots!);
    fake.acts.observeEtcd = slow('observe', fake.acts.observeEtcd!);
    const overlap = (a: { from: number; to: number }, b: { from: number; to: number }) => a.from < b.to && b.from < a.to;
    const taskQueue = uniqueTaskQueue('majority');
    const w = await startTestWorker(t.address, taskQueue, fake.acts);
    try {
      // The gap is longer than a read, so the search (started after the first probe) ends before the second probe.
      const h = await t.client.workflow.start('recoverEtcdMajority', {
        workflowId: 'ops/rm-par', taskQueue, args: [{ inventory: inventory('rm-par'), confirmRounds: 2, confirmIntervalMs: 1500 }],
      });
      await gate(h);
      assert.deepEqual(fake.calls, ['observe', 'find-snapshots', 'observe'], 'searched after the first probe, before the second');
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      await h.result();
      const [observe, find] = [spans[3]!, spans[4]!].sort((a, b) => a.what.localeCompare(b.what)).reverse();
      assert.deepEqual([observe?.what, find?.what], ['observe', 'find'], JSON.stringify(spans));
      assert.ok(overlap(observe!, find!), `the re-assessment's probe and snapshot search ran side by side: ${JSON.stringify(spans)}`);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, await h.fetchHistory(), h.workflowId);
    } finally { await w.stop(); }
  });
  it('majority-confirm-by-status: only the confirmation probes take "no leader" at once; a majority merely between leaders at the first probe is not taken for lost', async () => {
    const fake = fakeMajority(masters);
    // FAKE: at the first probe e1 and e2 are up but between leaders (each answers status with
    // leader 0: unhealthy, noLeader), e3 is down; by the second probe they have elected e1.
    const asked: boolean[] = [];
    fake.acts.observeEtcd = async ({ members, leaderlessAtOnce }) => {
      asked.push(leaderlessAtOnce === true);
      const elected = asked.length > 1;
      return members.map((m): MemberView => {
        const up = m.name !== 'e3';
        return up && !elected
          ? { name: m.name, ip: m.ip, reachable: true, healthy: false, isLeader: false, noLeader: true, raftTerm: 7, clusterId: 'old' }
          : { name: m.name, ip: m.ip, reachable: true, healthy: up, isLeader: up && m.name === 'e1', raftTerm: 8, clusterId: 'old', revision: 60 };
      });
    };
    const { h, w } = await start('rm-status', fake);
    try {
      const f = await h.result().then(() => undefined, (err: unknown) => failureOf(err));
      assert.equal(f?.type, 'PreconditionFailed');
      assert.match(f?.message ?? '', /quorum came back during the checks|quorum is intact/);
      assert.deepEqual(asked, [true, true], 'both confirmation probes asked for the no-leader answer');
      assert.deepEqual(fake.destructive(), []);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, await h.fetchHistory(), h.workflowId);
    } finally { await w.stop(); }
  });

  it('majority-confirm-by-status: the re-assessment after the approval waits for health as before (one probe, no gap to cover it)', async () => {
    const fake = fakeMajority(masters);
    const asked: boolean[] = [];
    const whole: boolean[] = [];
    const observe = fake.acts.observeEtcd!;
    fake.acts.observeEtcd = async (i) => { asked.push(i.leaderlessAtOnce === true); whole.push(i.wholeCluster === true); return observe(i); };
    const { h, w } = await start('rm-status2', fake);
    try {
      await gate(h);
      await decide(t.client, h.workflowId, { approved: true, by: 'oncall' });
      await h.result();
      // Confirmation (2 probes), re-assessment, growth agreement and verify probes.
      assert.deepEqual(asked.slice(0, 3), [true, true, false], JSON.stringify(asked));
      assert.ok(asked.slice(2).every((x) => !x), 'nothing after the confirmation takes "no leader" at once');
      // majority-reassess-below-quorum: the re-assessment names the whole voting membership (so
      // the activity may skip health below a quorum of listening members); the growing cluster's
      // probes never do (its learners do not count for quorum).
      assert.equal(whole[2], true, JSON.stringify(whole));
      assert.ok(whole.slice(3).every((x) => !x), `only the re-assessment passes wholeCluster: ${JSON.stringify(whole)}`);
    } finally { await w.stop(); }
  });
});

describe('the approval gate: one decision per gate, refused signals visible (real dev server)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t?.stop(); });

  /** FAKE probe: the inventory-check runbook's only activity. */
  const probed: string[] = [];
  const acts = { probeHost: async (i: { host: { name: string } }) => { probed.push(i.host.name); return { host: i.host.name, reachable: false, error: 'FAKE probe' } as never; } };
  const startCheck = async (cluster: string, taskQueue: string) => {
    const h = await startRunbook(t.client, findRunbook('inventory-check'), externalEtcdInventory(cluster), { taskQueue });
    await eventually('the gate', async () => (await h.query(progressQuery)).pendingApproval);
    return h;
  };

  it('an invalid decision signal is logged and shown in the progress, not dropped', async () => {
    const taskQueue = uniqueTaskQueue('gate');
    const w = await startTestWorker(t.address, taskQueue, acts);
    try {
      const h = await startCheck('g1', taskQueue);
      await h.signal(decideSignal, { step: 'not-this-one', approved: true, by: 'mallory', identity: 'ui@somewhere' });
      await h.signal(decideSignal, { step: 'approve', approved: true, by: '  ' });
      const p = await eventually('the refused signals in the progress', async () => {
        const q = await h.query(progressQuery);
        return (q.refusedSignals?.length ?? 0) >= 2 ? q : undefined;
      });
      assert.equal(p.decisions.length, 0);
      assert.equal(p.pendingApproval?.step, 'approve', 'still waiting');
      const [wrongStep, noName] = p.refusedSignals!;
      assert.equal(wrongStep!.by, 'mallory');
      assert.equal(wrongStep!.identity, 'ui@somewhere');
      assert.match(wrongStep!.reason, /the pending approval is "approve", not "not-this-one"/);
      assert.match(noName!.reason, /needs the approver's name/);
      const d = await h.describe();
      assert.equal(d.status.name, 'RUNNING');
      await h.terminate('test done');
    } finally { await w.stop(); }
  });

  it('two decision signals in one activation: the first counts, the second is refused and shown', async () => {
    const taskQueue = uniqueTaskQueue('gate');
    let w = await startTestWorker(t.address, taskQueue, acts);
    const h = await startCheck('g2', taskQueue);
    // With no worker polling, both signals wait in history and reach the workflow in one activation.
    await w.stop();
    await h.signal(decideSignal, { step: 'approve', approved: false, by: 'alice', comment: 'not now' });
    await h.signal(decideSignal, { step: 'approve', approved: true, by: 'bob' });
    w = await startTestWorker(t.address, taskQueue, acts);
    try {
      const f = await h.result().then(() => undefined, (err: unknown) => failureOf(err));
      assert.equal(f?.type, 'ApprovalRejected', 'the first decision (alice rejects) stands');
      const p: RunbookProgress = await h.query(progressQuery);
      assert.deepEqual(p.decisions.map((d) => `${d.by}:${d.approved}`), ['alice:false']);
      assert.equal(p.refusedSignals?.length, 1);
      assert.match(p.refusedSignals![0]!.reason, /already rejected by alice: this second decision is refused/);
    } finally { await w.stop(); }
  });

  it('two decision updates in one activation: the second is refused by the validator', async () => {
    const taskQueue = uniqueTaskQueue('gate');
    let w = await startTestWorker(t.address, taskQueue, acts);
    const h = await startCheck('g3', taskQueue);
    await w.stop();
    // Sent while no worker polls: the server hands both to the workflow in its next task.
    const first = decide(t.client, h.workflowId, { approved: true, by: 'alice', step: 'approve' });
    const second = decide(t.client, h.workflowId, { approved: false, by: 'bob', step: 'approve' });
    await new Promise((r) => setTimeout(r, 1000));
    w = await startTestWorker(t.address, taskQueue, acts);
    try {
      const results = await Promise.allSettled([first, second]);
      const accepted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(accepted.length, 1, JSON.stringify(results.map((r) => r.status)));
      assert.equal(refused.length, 1);
      const why = refused[0]!.reason as Error & { cause?: Error };
      assert.match(`${why.message} ${why.cause?.message ?? ''}`, /already (approved|rejected) by (alice|bob): this second decision is refused/);
      const p = await h.query(progressQuery);
      assert.equal(p.decisions.length, 1);
      await h.result().catch(() => undefined);
    } finally { await w.stop(); }
  });
});
