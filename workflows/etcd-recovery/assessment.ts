// Deciding what state an etcd cluster is in, and whether a recovery may run. Pure: the workflows
// call it on observations the activities made, and the plan mode calls it without touching hosts.

/** What one probe of one member saw. */
export type { MemberView } from '../../activities/etcd-recovery/context.js';
import type { MemberView } from '../../activities/etcd-recovery/context.js';

export interface ClusterAssessment {
  size: number;
  quorumSize: number;
  healthy: string[];
  failed: string[];
  quorum: boolean;
  leader?: string;
  /** Distinct cluster IDs among healthy members: more than one means a split cluster. */
  clusterIds: string[];
}

export function quorumOf(size: number): number {
  return Math.floor(size / 2) + 1;
}

export function assess(views: readonly MemberView[]): ClusterAssessment {
  const healthy = views.filter((v) => v.healthy).map((v) => v.name);
  const failed = views.filter((v) => !v.healthy).map((v) => v.name);
  const leaders = views.filter((v) => v.healthy && v.isLeader);
  const clusterIds = [...new Set(views.filter((v) => v.healthy && v.clusterId).map((v) => v.clusterId!))];
  const a: ClusterAssessment = {
    size: views.length, quorumSize: quorumOf(views.length), healthy, failed,
    quorum: healthy.length >= quorumOf(views.length) && leaders.length === 1, clusterIds,
  };
  if (leaders.length === 1) a.leader = leaders[0]!.name;
  return a;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** A follower recovery replaces one failed member while the others keep quorum. */
export function followerRecoveryVerdict(a: ClusterAssessment, target: string): Verdict {
  if (!a.failed.includes(target) && !a.healthy.includes(target)) return { ok: false, reason: `${target} is not an etcd member of this inventory` };
  if (a.healthy.includes(target)) return { ok: false, reason: `${target} is healthy: recovering it would take a working member out of service` };
  if (!a.quorum) return { ok: false, reason: `quorum is lost (${a.healthy.length} of ${a.size} healthy, ${a.quorumSize} needed): use \`mooring recover etcd majority\`` };
  if (a.clusterIds.length > 1) return { ok: false, reason: `healthy members disagree on the cluster ID (${a.clusterIds.join(', ')}): resolve the split before any membership change` };
  // Removing the failed member leaves size-1 members, all others healthy; that must still be a quorum.
  if (a.healthy.length < quorumOf(a.size - 1)) return { ok: false, reason: `removing ${target} would leave ${a.healthy.length} healthy of ${a.size - 1}: not a quorum` };
  return { ok: true };
}

/** A majority recovery restores from a snapshot: only when quorum is really gone. */
export function majorityRecoveryVerdict(a: ClusterAssessment): Verdict {
  if (a.quorum) return { ok: false, reason: `quorum is intact (${a.healthy.length} of ${a.size} healthy, leader ${a.leader}): restoring from a snapshot would throw away newer data. Use \`mooring recover etcd follower\` for the failed members` };
  return { ok: true };
}

/** Quorum is confirmed lost only if every one of several probes, spaced apart, says so. */
export function quorumLostConfirmed(rounds: readonly ClusterAssessment[], required: number): boolean {
  return rounds.length >= required && rounds.every((r) => !r.quorum);
}

/** etcd's --initial-cluster value: name=https://ip:peerPort,… in the given order. */
export function initialCluster(members: readonly { name: string; ip: string }[], peerPort: number): string {
  return members.map((m) => `${m.name}=https://${m.ip}:${peerPort}`).join(',');
}
