// Orchestration of the follower recovery on the real dev server. The etcd activities are FAKES
// over an in-memory cluster model (this file tests the runbook's decisions and order of steps);
// the lab tests run the real activities against real etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { MemberView } from '../../workflows/etcd-recovery/assessment.js';
import type { MooringActivities } from '../../activities/index.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { failureOf } from '../../client/watch.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker } from '../helpers/worker.js';
import { externalEtcdInventory } from '../helpers/inventory.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const inventory = (cluster: string) => externalEtcdInventory(cluster);

/** FAKE cluster: members with health, a member list, learners; records every call in order. */
function fakeCluster(healthy: Record<string, boolean>) {
  const calls: string[] = [];
  const list = new Map(Object.keys(healthy).map((n, i) => [n, { id: `id${i + 1}`, name: n, learner: false }]));
  const view = (name: string): MemberView => ({
    name, ip: `10.0.0.${name.slice(1)}`, reachable: true, healthy: healthy[name] ?? false, isLeader: name === 'e1' && healthy.e1 === true,
    clusterId: 'c1', memberId: list.get(name)?.id ?? '', raftTerm: 2,
  });
  const acts: Partial<MooringActivities> = {
    observeEtcd: async () => { calls.push('observe'); return Object.keys(healthy).map(view); },
    etcdMembers: async () => ({ clusterId: 'c1', members: [...list.values()].map((m) => ({ id: m.id, name: m.name, peerURLs: [`https://10.0.0.${m.name.slice(1)}:2380`], clientURLs: [], isLearner: m.learner })) }),
    removeEtcdMember: async ({ who }) => { calls.push(`remove ${who.name}`); const m = list.get(who.name); list.delete(who.name); return m ? { removedId: m.id } : {}; },
    stopEtcdOn: async ({ host }) => { calls.push(`stop ${host.name}`); return { wasActive: false }; },
    moveEtcdDataAside: async ({ host, tag }) => { calls.push(`move-aside ${host.name}`); return { movedTo: `/var/lib/etcd.${tag}`, alreadyMoved: false }; },
    etcdCertsPresent: async () => ({ present: true }),
    writeEtcdConfigOn: async ({ host, config }) => { calls.push(`config ${host.name} ${config.state} ${config.initialCluster.map((m) => m.name).join(',')}`); return { path: '/etc/etcd/etcd.conf.yaml' }; },
    addEtcdLearner: async ({ who }) => { calls.push(`add-learner ${who.name}`); list.set(who.name, { id: 'id9', name: who.name, learner: true }); return { id: 'id9', alreadyPresent: false, isLearner: true }; },
    startEtcdOn: async ({ host }) => { calls.push(`start ${host.name}`); healthy[host.name] = true; return { wasActive: false }; },
    promoteEtcdLearner: async ({ id }) => { calls.push(`promote ${id}`); for (const m of list.values()) if (m.id === id) m.learner = false; return { promoted: true }; },
    expectEtcdHealthy: async () => ({ healthy: true as const }),
    etcdCanary: async ({ op }) => { calls.push(`canary ${op}`); return { value: 'before-failure' }; },
  };
  return { calls, acts };
}

describe('recover-etcd-follower (real dev server, FAKE etcd activities)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t?.stop(); });

  async function run(cluster: string, healthy: Record<string, boolean>, opts: { planOnly?: boolean; member?: string; approve?: boolean } = {}) {
    const fake = fakeCluster(healthy);
    const taskQueue = uniqueTaskQueue('recover');
    const w = await startTestWorker(t.address, taskQueue, fake.acts);
    try {
      const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inventory(cluster), {
        taskQueue, canary: { key: 'canary', value: 'before-failure' }, ...(opts.planOnly ? { planOnly: true } : {}), ...(opts.member ? { member: opts.member } : {}),
      });
      if (opts.approve) {
        await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval);
        await decide(t.client, handle.workflowId, { approved: true, by: 'oncall' });
      }
      const outcome = await handle.result().then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, f: failureOf(err) }));
      return { handle, outcome, calls: fake.calls, progress: await handle.query(progressQuery) };
    } finally {
      await w.stop();
    }
  }

  it('replaces the failed member in the documented order, under ops/<cluster>', async () => {
    const { handle, outcome, calls } = await run('f1', { e1: true, e2: false, e3: true }, { approve: true });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(handle.workflowId, 'ops/f1');
    assert.deepEqual(calls.filter((c) => c !== 'observe'), [
      'remove e2', 'stop e2', 'move-aside e2', 'config e2 existing e1,e3,e2', 'add-learner e2', 'start e2', 'promote id9', 'canary get',
    ]);
  });

  it('plan mode shows the plan and changes nothing, without taking the cluster lock', async () => {
    const { handle, outcome, calls, progress } = await run('f2', { e1: true, e2: false, e3: true }, { planOnly: true });
    assert.ok(outcome.ok);
    assert.equal(handle.workflowId, 'plan/recover-etcd-follower/f2');
    assert.deepEqual(calls, ['observe']);
    assert.match(progress.report ?? '', /etcdctl member remove e2/);
    assert.ok(progress.steps.filter((s) => s.id !== 'assess').every((s) => s.status === 'skipped'));
  });

  it('refuses on a healthy cluster, on lost quorum, and for a healthy member', async () => {
    const healthy = await run('f3', { e1: true, e2: true, e3: true });
    assert.ok(!healthy.outcome.ok && /every member is healthy: there is nothing to recover/.test(healthy.outcome.f.message));
    const lost = await run('f4', { e1: true, e2: false, e3: false });
    assert.ok(!lost.outcome.ok && lost.outcome.f.type === 'PreconditionFailed');
    assert.match(lost.outcome.ok ? '' : lost.outcome.f.message, /name one with --member|quorum is lost/);
    const named = await run('f5', { e1: true, e2: false, e3: true }, { member: 'e3' });
    assert.ok(!named.outcome.ok && /e3 is healthy/.test(named.outcome.f.message));
    for (const r of [healthy, lost, named]) assert.deepEqual(r.calls, ['observe'], 'nothing touched');
  });
});
