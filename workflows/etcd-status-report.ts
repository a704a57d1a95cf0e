// What `etcd-status` concludes from its probes: findings and the markdown table. Pure, so the
// workflow stays deterministic and unit tests can feed it any cluster state.
import type { EtcdMemberStatus } from '../activities/etcd/status.js';
import { assess, type ClusterAssessment } from './etcd-recovery/assessment.js';

export function etcdStatusFindings(probes: readonly EtcdMemberStatus[], a: ClusterAssessment = assess(probes)): string[] {
  const inventory = new Set(probes.map((p) => p.name));
  // The leader's member list is the cluster's; without a leader, any member's that answered.
  const lister = probes.find((p) => p.isLeader && p.memberList) ?? probes.find((p) => p.memberList);
  const list = lister?.memberList ?? [];
  return [
    ...probes.filter((p) => !p.healthy).map((p) => `${p.name}: ${p.reachable ? 'etcd not healthy' : 'host unreachable over SSH'}${p.problem ? ` (${p.problem})` : ''}`),
    ...probes.filter((p) => p.errors.length).map((p) => `${p.name} reports: ${p.errors.join('; ')}`),
    ...(!a.quorum ? [`no quorum: ${a.healthy.length} of ${a.size} members healthy, ${a.quorumSize} needed${a.leader ? '' : ', no leader'}`] : []),
    ...(a.clusterIds.length > 1 ? [`members disagree on the cluster ID: ${a.clusterIds.join(', ')} (a split cluster)`] : []),
    ...list.filter((m) => m.isLearner).map((m) => `${m.name || m.id} is a learner (not voting)`),
    ...list.filter((m) => !m.name).map((m) => `member ${m.id} was added but never started`),
    ...list.filter((m) => m.name && !inventory.has(m.name)).map((m) => `${m.name} (${m.id}) is a member but not in the inventory`),
    ...(lister ? probes.filter((p) => !list.some((m) => m.name === p.name)).map((p) => `${p.name} is in the inventory but not in the member list`) : []),
  ];
}

export function renderEtcdStatusTable(probes: readonly EtcdMemberStatus[]): string {
  const rows = probes.map((p) => [
    p.name, p.endpoint,
    p.healthy ? 'healthy' : p.reachable ? '**unhealthy**' : '**unreachable**',
    p.isLeader ? 'leader' : p.answered ? 'follower' : '',
    p.raftTerm ?? '', p.raftIndex ?? '', p.revision ?? '', p.dbSize === undefined ? '' : bytes(p.dbSize), p.version ?? '', p.memberId ?? '',
  ].join(' | '));
  return [
    '| member | endpoint | health | role | raft term | raft index | revision | db size | version | member ID |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
