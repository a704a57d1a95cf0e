// Runbook `etcd-status` (read-only, so no approval gate): one probe per member, over SSH on the
// member's own host (etcdctl endpoint health, endpoint status and member list with TLS), then a
// table with findings. A dead member is a finding; the run fails only when no member answers.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../activities/index.js';
import type { EtcdMemberStatus } from '../activities/etcd/status.js';
import type { Inventory } from '../config/schema.js';
import { Runbook, messageOf, rootCause } from './runbook/runbook.js';
import { NON_RETRYABLE, READ_ONLY_SSH } from './runbook/activity-options.js';
import { assess } from './etcd-recovery/assessment.js';
import { etcdTargetOf, memberRefsOf } from './etcd-recovery/target.js';
import { etcdStatusFindings, renderEtcdStatusTable } from './etcd-status-report.js';

export interface EtcdStatusResult {
  cluster: string;
  members: EtcdMemberStatus[];
  leader?: string;
  quorum: boolean;
  findings: string[];
  report: string;
}

const { probeEtcdMember } = proxyActivities<MooringActivities>(READ_ONLY_SSH);

export async function etcdStatus(input: { inventory: Inventory }): Promise<EtcdStatusResult> {
  const inv = input.inventory;
  const target = etcdTargetOf(inv);
  const members = memberRefsOf(inv);
  const rb = new Runbook('etcd-status', inv.cluster.name, [
    ...members.map((m) => ({ id: `probe:${m.name}`, title: `Probe ${m.name} (${m.ip}): endpoint health, endpoint status, member list` })),
    { id: 'report', title: 'Report' },
  ]);

  const settled = await Promise.allSettled(members.map((m) => rb.step(`probe:${m.name}`,
    () => probeEtcdMember.executeWithOptions({ summary: `etcdctl on ${m.name} (${m.ip})` }, [{ target, member: m }]),
    describe)));
  // A wrong host key or refused login is the inventory's problem, not the cluster's: stop.
  const misconfigured = settled.flatMap((r) => (r.status === 'rejected' && NON_RETRYABLE.includes(failureType(r.reason)) ? [messageOf(rootCause(r.reason))] : []));
  if (misconfigured.length) {
    rb.skip('report', 'SSH to the members is misconfigured');
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: misconfigured.join('\n') });
  }
  // Any other failure survived every retry (e.g. sessions cut mid-command): report it for that member.
  const probes: EtcdMemberStatus[] = settled.map((r, i) => (r.status === 'fulfilled' ? r.value : {
    name: members[i]!.name, ip: members[i]!.ip, endpoint: `https://${members[i]!.ip}:${inv.etcd.clientPort}`,
    reachable: false, healthy: false, isLeader: false, answered: false, errors: [], problem: messageOf(rootCause(r.reason)),
  }));

  if (!probes.some((p) => p.answered)) {
    rb.skip('report', 'no member answered');
    rb.setReport(renderEtcdStatusTable(probes));
    throw ApplicationFailure.create({
      type: 'ClusterUnreachable', nonRetryable: true,
      message: `no etcd member answers: ${probes.map((p) => `${p.name}: ${p.problem ?? 'no answer'}`).join('; ')}`,
    });
  }

  return rb.step('report', () => {
    const a = assess(probes);
    const findings = etcdStatusFindings(probes, a);
    const report = [renderEtcdStatusTable(probes), '',
      findings.length ? `Findings:\n${findings.map((f) => `- ${f}`).join('\n')}` : `All ${probes.length} members healthy; leader ${a.leader}.`].join('\n');
    rb.setReport(report);
    rb.finish(findings.length ? 'completed-with-findings' : 'completed');
    return Promise.resolve({ cluster: inv.cluster.name, members: probes, quorum: a.quorum, findings, report, ...(a.leader ? { leader: a.leader } : {}) });
  }, (r) => `${r.findings.length} finding(s)`);
}

function describe(p: EtcdMemberStatus): string {
  if (!p.reachable) return `unreachable: ${p.problem ?? ''}`;
  if (!p.answered) return `etcd not answering: ${p.problem ?? ''}`;
  return `${p.healthy ? 'healthy' : 'unhealthy'}, ${p.isLeader ? 'leader' : 'follower'}, term ${p.raftTerm}, index ${p.raftIndex}`;
}

function failureType(err: unknown): string {
  const cause = rootCause(err) as { type?: unknown };
  return typeof cause.type === 'string' ? cause.type : '';
}
