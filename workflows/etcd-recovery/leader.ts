// Runbook `recover-etcd-leader` (seed 001, "leader failure"): the leader is lost. Wait for and
// confirm the election (a new leader at a higher term), record how long writes were refused as
// this run saw it, then run the follower procedure for the old leader.
import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { assess, followerRecoveryVerdict, type ClusterAssessment, type MemberView } from './assessment.js';
import { approvalTimeoutOf, approveStillTrue } from './approval.js';
import { checkMemberPlan } from './plan-check.js';
import { REPLACE_STEPS, replaceMember } from './replace-member.js';
import { chooseFailed, followerPlan, type RecoveryResult } from './follower.js';
import { etcdTargetOf, memberRefsOf } from './target.js';
import { CHANGE, WAIT } from './options.js';

export interface RecoverLeaderInput {
  inventory: Inventory;
  /** The failed (old) leader; found automatically when exactly one member is failed. */
  member?: string;
  approvalTimeoutMs?: number;
  planOnly?: boolean;
  canary?: { key: string; value: string };
  /** How long to wait for a new leader before giving up (default 2 minutes). */
  electionTimeoutMs?: number;
}

const change = proxyActivities<MooringActivities>(CHANGE);
const wait = proxyActivities<MooringActivities>(WAIT);

export async function recoverEtcdLeader(input: RecoverLeaderInput): Promise<RecoveryResult & { newLeader: string; term: number; writesRefusedMs: number }> {
  const inv = input.inventory;
  const members = memberRefsOf(inv);
  const target = etcdTargetOf(inv);
  const rb = new Runbook('recover-etcd-leader', inv.cluster.name, [
    { id: 'election', title: 'Wait for and confirm a new leader' },
    { id: 'writes', title: 'Measure until writes are accepted again' },
    { id: 'approve', title: 'Approve re-adding the old leader' },
  ]);

  const election = await rb.step('election', async () => {
    const started = Date.now();
    let a: ClusterAssessment;
    let terms: number[] = [];
    for (;;) {
      const views = await wait.observeEtcd({ target, members });
      a = assess(views);
      terms = views.flatMap((v) => (v.healthy && v.raftTerm !== undefined ? [v.raftTerm] : []));
      if (a.quorum && a.leader) break;
      if (Date.now() - started > (input.electionTimeoutMs ?? 120_000)) {
        throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `no leader elected within ${Math.round((input.electionTimeoutMs ?? 120_000) / 1000)}s (${a.healthy.length} of ${a.size} healthy): if quorum is lost, use \`mooring recover etcd majority\`` });
      }
      await sleep(1000);
    }
    return { a, term: Math.max(...terms), waitedMs: Date.now() - started };
  }, (e) => `${e.a.leader} leads at term ${e.term} (waited ${Math.round(e.waitedMs / 100) / 10}s)`);

  const a = election.a;
  const oldLeader = chooseFailed(a, input.member);
  const verdict = followerRecoveryVerdict(a, oldLeader);
  if (!verdict.ok) throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `leader recovery refused: ${verdict.reason}` });
  const healthy = members.filter((m) => a.healthy.includes(m.name));
  const via = members.find((m) => m.name === a.leader)!;
  const endpoints = healthy.map((m) => `https://${m.ip}:${inv.etcd.clientPort}`);

  const writes = await rb.step('writes', async () => {
    const started = Date.now();
    for (let i = 0; ; i++) {
      const r = await change.probeEtcdWrite({ target, via, endpoints, key: 'mooring/leader-recovery-probe', value: String(Date.now()) });
      if (r.ok) return { refusedMs: Date.now() - started, attempts: i + 1 };
      if (Date.now() - started > 120_000) throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: `the new leader ${a.leader} still refuses writes after 120s: ${r.error}` });
      await sleep(500);
    }
  }, (w) => (w.attempts === 1 ? 'writes accepted at the first probe' : `writes refused for ${w.refusedMs}ms after this run started (${w.attempts} probes)`));

  const planOf = (now: ClusterAssessment, term: number) => `Old leader ${oldLeader} failed; ${now.leader} leads at term ${term}.\n${followerPlan(inv, now, oldLeader, now.leader!)}`;
  const plan0 = planOf(a, election.term);
  REPLACE_STEPS(oldLeader).forEach((s) => rb.addStep(s.id, s.title));
  const base = { cluster: inv.cluster.name, newLeader: a.leader!, term: election.term, writesRefusedMs: writes.refusedMs };
  if (input.planOnly) {
    for (const s of rb.progress.steps) if (s.status === 'pending') rb.skip(s.id, 'plan mode');
    rb.setReport(plan0);
    rb.finish('planned');
    return { ...base, plan: plan0, planOnly: true };
  }
  // The approval may come hours later: act only on what is still true then (a further election
  // moves the member list to the new leader; the old leader back to health ends the runbook).
  const termOf = (v: MemberView[]) => Math.max(0, ...v.flatMap((x) => (x.healthy && x.raftTerm !== undefined ? [x.raftTerm] : [])));
  const approved = await approveStillTrue(rb, {
    runbook: 'leader recovery', state: { a, failedReachable: true, term: election.term }, timeoutMs: approvalTimeoutOf(input, 'leader'),
    plan: (p) => planOf(p.a, p.term),
    observe: async () => {
      const v = await wait.observeEtcd({ target, members });
      return { a: assess(v), failedReachable: true, term: termOf(v) };
    },
    compare: (then, now) => checkMemberPlan('leader', oldLeader, then, now),
  });
  const plan = approved.plan;
  const now = approved.state.a;
  const leaderNow = members.find((m) => m.name === now.leader)!;
  const healthyNow = members.filter((m) => now.healthy.includes(m.name)).map((m) => `https://${m.ip}:${inv.etcd.clientPort}`);
  const r = await replaceMember(rb, { target, members, via: leaderNow, endpoints: healthyNow, ...(input.canary ? { canary: input.canary } : {}) }, members.find((m) => m.name === oldLeader)!);
  rb.setReport(`${plan}\n\n**Done**: ${oldLeader} is back as a follower (member ${r.memberId}). Writes were refused for ${writes.refusedMs}ms as seen by this run.`);
  rb.finish();
  return { ...base, plan, newLeader: now.leader!, term: approved.state.term, planOnly: false, recovered: oldLeader, memberId: r.memberId, ...(r.movedTo ? { movedAside: r.movedTo } : {}) };
}
