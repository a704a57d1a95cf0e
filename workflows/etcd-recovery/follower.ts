// Runbook `recover-etcd-follower` (seed 001, "minor failure"): one member is lost while the others
// keep quorum. Assess, refuse when the preconditions are false, show the plan, wait for approval,
// then replace the member. `planOnly` prints the plan and touches nothing.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { assess, followerRecoveryVerdict, type ClusterAssessment, type MemberView } from './assessment.js';
import { approvalTimeoutOf, approveStillTrue } from './approval.js';
import { checkMemberPlan, type MemberPicture } from './plan-check.js';
import { REPLACE_STEPS, replaceMember, type ReplaceContext } from './replace-member.js';
import { etcdTargetOf, memberRefsOf } from './target.js';
import { WAIT } from './options.js';

export interface RecoverFollowerInput {
  inventory: Inventory;
  /** The member to recover; found automatically when exactly one is failed. */
  member?: string;
  approvalTimeoutMs?: number;
  planOnly?: boolean;
  /** A key written before the failure that must read back after the recovery. */
  canary?: { key: string; value: string };
}

export interface RecoveryResult {
  cluster: string;
  recovered?: string;
  plan: string;
  memberId?: string;
  movedAside?: string;
  planOnly: boolean;
}

const observe = proxyActivities<MooringActivities>(WAIT);

export async function recoverEtcdFollower(input: RecoverFollowerInput): Promise<RecoveryResult> {
  const inv = input.inventory;
  const members = memberRefsOf(inv);
  const target = etcdTargetOf(inv);
  const rb = new Runbook('recover-etcd-follower', inv.cluster.name, [
    { id: 'assess', title: 'Assess the cluster from every member' },
    { id: 'approve', title: 'Approve the plan' },
  ]);

  const views = await rb.step('assess', () => observe.observeEtcd({ target, members }), (v) => `${v.filter((x) => x.healthy).length}/${v.length} healthy`);
  const a = assess(views);
  const failedName = chooseFailed(a, input.member);
  const failed = members.find((m) => m.name === failedName)!;
  const verdict = followerRecoveryVerdict(a, failedName);
  if (!verdict.ok) throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `follower recovery refused: ${verdict.reason}` });
  if (!views.find((v) => v.name === failedName)?.reachable) {
    throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `${failedName} (${failed.ip}) does not answer SSH: bring the host back or replace it (same name and address), then run the recovery again` });
  }

  const contextOf = (now: ClusterAssessment): ReplaceContext => {
    const healthy = members.filter((m) => now.healthy.includes(m.name));
    const via = healthy.find((m) => m.name === now.leader) ?? healthy[0]!;
    return { target, members, via, endpoints: healthy.map((m) => `https://${m.ip}:${inv.etcd.clientPort}`), ...(input.canary ? { canary: input.canary } : {}) };
  };
  const planOf = (p: MemberPicture) => followerPlan(inv, p.a, failedName, contextOf(p.a).via.name);
  const pictureOf = (v: MemberView[]): MemberPicture => ({ a: assess(v), failedReachable: v.find((x) => x.name === failedName)?.reachable ?? false });
  REPLACE_STEPS(failedName).forEach((s) => rb.addStep(s.id, s.title));

  if (input.planOnly) {
    const plan = planOf(pictureOf(views));
    rb.skip('approve', 'plan mode: nothing is changed');
    for (const s of REPLACE_STEPS(failedName)) rb.skip(s.id, 'plan mode');
    rb.setReport(plan);
    rb.finish('planned');
    return { cluster: inv.cluster.name, plan, planOnly: true };
  }

  // The approval may come hours later: act only on what is still true then.
  const approved = await approveStillTrue(rb, {
    runbook: 'follower recovery', state: pictureOf(views), plan: planOf, timeoutMs: approvalTimeoutOf(input, 'follower'),
    observe: async () => pictureOf(await observe.observeEtcd({ target, members })),
    compare: (then, now) => checkMemberPlan('follower', failedName, then, now),
  });
  const plan = approved.plan;
  const r = await replaceMember(rb, contextOf(approved.state.a), failed);
  rb.setReport(`${plan}\n\n**Done**: ${failedName} is back as member ${r.memberId}.${r.movedTo ? ` Its old data is kept at \`${r.movedTo}\`.` : ''}`);
  rb.finish();
  return { cluster: inv.cluster.name, recovered: failedName, plan, memberId: r.memberId, ...(r.movedTo ? { movedAside: r.movedTo } : {}), planOnly: false };
}

export function chooseFailed(a: ClusterAssessment, named?: string): string {
  if (named) return named;
  if (a.failed.length === 1) return a.failed[0]!;
  const why = a.failed.length === 0 ? 'every member is healthy: there is nothing to recover' : `${a.failed.length} members are failed (${a.failed.join(', ')}): name one with --member`;
  throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `follower recovery refused: ${why}` });
}

export function followerPlan(inv: Inventory, a: ClusterAssessment, failed: string, via: string): string {
  return [
    `Cluster ${inv.cluster.name}: ${a.healthy.length} of ${a.size} members healthy (${a.healthy.join(', ')}), leader ${a.leader ?? 'unknown'}; ${failed} has failed.`,
    `1. etcdctl member remove ${failed} (run on ${via}).`,
    `2. Stop etcd on ${failed}; move ${inv.etcd.dataDir} aside to a dated directory (kept, never deleted; config and certificates untouched).`,
    `3. Write ${inv.etcd.configPath} on ${failed} with initial-cluster-state: existing and the current members plus itself.`,
    `4. etcdctl member add ${failed} --learner; start etcd on ${failed}; member promote once it has caught up.`,
    '5. Verify: every member started and voting, all healthy, one cluster ID, the canary key readable.',
  ].join('\n');
}
