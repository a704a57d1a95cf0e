// Runbook `etcd-status` (read-only): every member's health, role, term, index and DB size, and the
// member list as the cluster sees it, shown as a table. Completes with findings for dead members;
// fails only when no member answers.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../activities/index.js';
import type { Inventory } from '../config/schema.js';
import { Runbook } from './runbook/runbook.js';
import { READ_ONLY_SSH } from './runbook/activity-options.js';
import { assess, type MemberView } from './etcd-recovery/assessment.js';
import { etcdTargetOf, memberRefsOf } from './etcd-recovery/target.js';

export interface EtcdStatusResult {
  cluster: string;
  members: MemberView[];
  leader?: string;
  quorum: boolean;
  findings: string[];
  report: string;
}

const acts = proxyActivities<MooringActivities>(READ_ONLY_SSH);

export async function etcdStatus(input: { inventory: Inventory }): Promise<EtcdStatusResult> {
  const inv = input.inventory;
  const target = etcdTargetOf(inv);
  const members = memberRefsOf(inv);
  const rb = new Runbook('etcd-status', inv.cluster.name, [
    { id: 'observe', title: `Ask each of ${members.length} members (endpoint health/status)` },
    { id: 'members', title: 'Member list from a healthy member' },
    { id: 'report', title: 'Report' },
  ]);
  const views = await rb.step('observe', () => acts.observeEtcd({ target, members }), (v) => `${v.filter((x) => x.healthy).length}/${v.length} healthy`);
  const a = assess(views);
  if (a.healthy.length === 0) {
    rb.skip('members', 'no healthy member');
    throw ApplicationFailure.create({ type: 'ClusterUnreachable', nonRetryable: true, message: `no etcd member answers (${views.map((v) => `${v.name}: ${v.reachable ? 'etcd down' : 'no SSH'}`).join(', ')})` });
  }
  const healthy = members.filter((m) => a.healthy.includes(m.name));
  const list = await rb.step('members', () => acts.etcdMembers({ target, via: healthy[0]!, endpoints: healthy.map((m) => `https://${m.ip}:${inv.etcd.clientPort}`) }),
    (l) => `${l.members.length} members, ${l.members.filter((m) => m.isLearner).length} learner(s)`);

  return rb.step('report', async () => {
    const findings = [
      ...views.filter((v) => !v.healthy).map((v) => `${v.name}: ${v.reachable ? 'etcd not healthy' : 'host unreachable over SSH'}`),
      ...(!a.quorum ? [`no quorum: ${a.healthy.length} of ${a.size} healthy, ${a.quorumSize} needed`] : []),
      ...(a.clusterIds.length > 1 ? [`members disagree on the cluster ID: ${a.clusterIds.join(', ')}`] : []),
      ...list.members.filter((m) => m.isLearner).map((m) => `${m.name || m.id} is a learner (not voting)`),
      ...list.members.filter((m) => !m.name).map((m) => `member ${m.id} was added but never started`),
    ];
    const rows = views.map((v) => {
      const listed = list.members.find((m) => m.name === v.name);
      return `| ${v.name} | ${v.ip} | ${v.healthy ? 'healthy' : v.reachable ? '**unhealthy**' : '**unreachable**'} | ${v.isLeader ? 'leader' : v.healthy ? 'follower' : ''} | ${v.raftTerm ?? ''} | ${v.revision ?? ''} | ${listed ? listed.id : '**not in member list**'} |`;
    });
    const report = ['| member | address | health | role | raft term | revision | member ID |', '|---|---|---|---|---|---|---|', ...rows, '',
      findings.length ? `Findings:\n${findings.map((f) => `- ${f}`).join('\n')}` : `All ${views.length} members healthy; leader ${a.leader}.`].join('\n');
    rb.setReport(report);
    rb.finish(findings.length ? 'completed-with-findings' : 'completed');
    return { cluster: inv.cluster.name, members: views, quorum: a.quorum, findings, report, ...(a.leader ? { leader: a.leader } : {}) };
  }, (r) => `${r.findings.length} finding(s)`);
}
