// Comparing what a recovery plan was built on with what a re-assessment after its approval sees.
// Pure: the workflows call it with what the observe activities returned.
import { followerRecoveryVerdict, majorityRecoveryVerdict, type ClusterAssessment } from './assessment.js';
import { chooseSnapshot, type SnapshotChoice } from './snapshot-choice.js';
import type { SnapshotCheck } from '../../activities/etcd-recovery/snapshots.js';
import type { PlanCheck } from './approval.js';

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/** Member health, quorum, leader and cluster-ID changes between two assessments, in words. */
export function clusterChanges(before: ClusterAssessment, now: ClusterAssessment): string[] {
  const out: string[] = [];
  if (before.quorum && !now.quorum) out.push(`quorum was lost (${now.healthy.length} of ${now.size} healthy)`);
  if (!before.quorum && now.quorum) out.push(`quorum came back (${now.healthy.length} of ${now.size} healthy, leader ${now.leader ?? 'unknown'})`);
  for (const n of now.failed) if (before.healthy.includes(n)) out.push(`${n} failed since the assessment`);
  for (const n of now.healthy) if (before.failed.includes(n)) out.push(`${n} is healthy again`);
  if (before.leader !== now.leader) {
    out.push(now.leader ? `the leader changed from ${before.leader ?? 'none'} to ${now.leader}` : `there is no leader now (it was ${before.leader})`);
  }
  if (!sameList(before.clusterIds, now.clusterIds)) out.push(`healthy members now report cluster ID(s) ${now.clusterIds.join(', ') || 'none'} (was ${before.clusterIds.join(', ') || 'none'})`);
  return out;
}

/** Follower and leader recovery of `failed`: state as the plan saw it. */
export interface MemberPicture {
  a: ClusterAssessment;
  /** The failed member's host answers SSH (its etcd is re-added over it). */
  failedReachable: boolean;
}

export function checkMemberPlan(runbook: 'follower' | 'leader', failed: string, approved: MemberPicture, now: MemberPicture): PlanCheck {
  const changes = clusterChanges(approved.a, now.a);
  const verdict = followerRecoveryVerdict(now.a, failed);
  if (!verdict.ok) return { changes, refusal: `${runbook} recovery refused now: ${verdict.reason}` };
  if (approved.failedReachable && !now.failedReachable) {
    changes.push(`${failed} no longer answers SSH`);
    return { changes, refusal: `${failed} does not answer SSH: bring the host back or replace it (same name and address), then run the recovery again` };
  }
  return { changes };
}

/** Majority recovery: quorum, which members answer SSH (they are fenced), and the chosen snapshot. */
export interface MajorityPicture {
  a: ClusterAssessment;
  found: { host: string; checks: SnapshotCheck[]; error?: string }[];
  choice: SnapshotChoice;
}

export const reachableOf = (found: MajorityPicture['found']) => found.filter((f) => !f.error).map((f) => f.host);

/**
 * Compares and, where the runbook can go on with another snapshot, returns it as `choice`. A
 * snapshot fetched from the bucket lies in the same directory, so it is judged like a local one.
 */
export function checkMajorityPlan(approved: MajorityPicture, now: Omit<MajorityPicture, 'choice'>): PlanCheck & { choice?: SnapshotChoice } {
  const changes: string[] = [];
  const verdict = majorityRecoveryVerdict(now.a);
  if (!verdict.ok) return { changes: [`quorum came back (${now.a.healthy.length} of ${now.a.size} healthy, leader ${now.a.leader ?? 'unknown'})`], refusal: `majority recovery refused now: ${verdict.reason}` };
  const before = reachableOf(approved.found), after = reachableOf(now.found);
  for (const h of after) if (!before.includes(h)) changes.push(`${h} answers SSH again (it would be fenced and re-added)`);
  for (const h of before) if (!after.includes(h)) changes.push(`${h} no longer answers SSH`);

  const c = approved.choice;
  const file = now.found.find((f) => f.host === c.host)?.checks.find((x) => x.path === c.path);
  let choice: SnapshotChoice | undefined = c;
  if (!file) {
    changes.push(`the chosen snapshot ${c.path} on ${c.host} is gone${after.includes(c.host) ? '' : ' (its host does not answer)'}`);
    choice = undefined;
  } else if (!file.ok) {
    changes.push(`the chosen snapshot ${c.path} on ${c.host} no longer passes its check: ${file.error ?? 'failed'}`);
    choice = undefined;
  } else if (file.revision !== c.revision || file.hash !== c.hash) {
    changes.push(`the chosen snapshot ${c.path} on ${c.host} changed (revision ${c.revision} → ${file.revision ?? '?'}, hash ${c.hash} → ${file.hash ?? '?'})`);
    choice = undefined;
  }
  const best = chooseSnapshot(now.found);
  const seenBefore = (b: SnapshotChoice) => (b.host === c.host && b.path === c.path) || approved.found.some((f) => f.host === b.host && f.checks.some((x) => x.path === b.path));
  if (choice && best && !seenBefore(best) && best.revision > c.revision) {
    changes.push(`a newer verified snapshot appeared: ${best.path} on ${best.host} (revision ${best.revision})`);
    choice = best;
  }
  if (!choice) {
    if (!best) return { changes, refusal: 'no snapshot on any member passes `etcdctl snapshot status` now: copy a verified snapshot into the snapshot directory and run again' };
    changes.push(`the plan now uses ${best.path} on ${best.host} (revision ${best.revision})`);
    choice = best;
  }
  // With quorum still lost, members' etcd health does not change what is done (every member that
  // answers SSH is fenced and restored from the snapshot): noted, not asked about again.
  const notes = clusterChanges(approved.a, now.a);
  return { changes, choice, ...(notes.length ? { notes } : {}) };
}
