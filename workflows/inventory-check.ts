// Runbook `inventory-check`: after approval, SSH to every host of the inventory and report OS,
// uptime, disk and whether the ports its roles need are free. Read-only on the hosts.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities, HostFacts, HostRef, SshAccess } from '../activities/index.js';
import type { Inventory } from '../config/schema.js';
import { expectedPorts, hostsOf } from '../config/hosts.js';
import { Runbook, messageOf, rootCause } from './runbook/runbook.js';
import { renderFactsTable } from './inventory-check-report.js';
import { READ_ONLY_SSH } from './runbook/activity-options.js';

export interface InventoryCheckInput {
  inventory: Inventory;
  /** Stop safely if nobody decides within this many ms (default: wait indefinitely). */
  approvalTimeoutMs?: number;
}

export interface InventoryCheckResult {
  cluster: string;
  hosts: HostFacts[];
  /** One line per finding that blocks provisioning (busy ports, full disks). */
  findings: string[];
  report: string;
}

const { probeHost } = proxyActivities<MooringActivities>(READ_ONLY_SSH);

export async function inventoryCheck(input: InventoryCheckInput): Promise<InventoryCheckResult> {
  const inv = input.inventory;
  const hosts = hostsOf(inv);
  const rb = new Runbook('inventory-check', inv.cluster.name, [
    { id: 'approve', title: `Approve SSH to ${hosts.length} hosts` },
    ...hosts.map((h) => ({ id: `probe:${h.name}`, title: `Probe ${h.name} (${h.ip})` })),
    { id: 'report', title: 'Report' },
  ]);

  await rb.approval('approve', {
    plan: `connect as ${inv.ssh.user} to ${hosts.map((h) => h.name).join(', ')}${inv.ssh.bastion ? ` through ${inv.ssh.bastion.host}` : ''} and run read-only commands (uname, df, ss)`,
    timeoutMs: input.approvalTimeoutMs,
  });

  const access: SshAccess = {
    user: inv.ssh.user, privateKeyPath: inv.ssh.privateKeyPath, connectTimeoutSeconds: inv.ssh.connectTimeoutSeconds,
    ...(inv.ssh.bastion ? { bastion: inv.ssh.bastion } : {}),
  };
  // Probe every host even if one fails, so the run reports all it could learn.
  const settled = await Promise.allSettled(hosts.map((h) => {
    const ref: HostRef = { name: h.name, ip: h.ip, sshPort: h.sshPort, where: whereOf(inv, h.name), ...(h.hostKey ? { hostKey: h.hostKey } : {}) };
    return rb.step(`probe:${h.name}`,
      () => probeHost.executeWithOptions({ summary: `probe ${h.name} (${h.ip})` }, [{ host: ref, ssh: access, expectedPorts: expectedPorts(inv, h.roles) }]),
      (f) => `${f.os}, ${f.busyPorts.length ? `busy ports ${f.busyPorts.join(', ')}` : 'expected ports free'}`);
  }));
  const facts = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = hosts.flatMap((h, i) => (settled[i]?.status === 'rejected' ? [`${h.name}: ${messageOf(rootCause(settled[i].reason))}`] : []));
  if (failed.length > 0) {
    rb.skip('report', 'not every host could be probed');
    if (facts.length) rb.setReport(renderFactsTable(facts));
    throw ApplicationFailure.create({
      type: 'HostsUnreachable', nonRetryable: true,
      message: `${failed.length} of ${hosts.length} hosts could not be probed:\n${failed.join('\n')}`,
    });
  }

  return rb.step('report', async () => {
    const findings = facts.flatMap((f) => [
      ...(f.busyPorts.length ? [`${f.name}: ports ${f.busyPorts.join(', ')} already in use`] : []),
      ...(f.disk.usedPercent >= 90 ? [`${f.name}: root disk ${f.disk.usedPercent}% full`] : []),
    ]);
    const report = [renderFactsTable(facts), '', findings.length ? `Findings:\n${findings.map((x) => `- ${x}`).join('\n')}` : 'No findings: every host is reachable and its expected ports are free.'].join('\n');
    rb.setReport(report);
    rb.finish(findings.length ? 'completed-with-findings' : 'completed');
    return { cluster: inv.cluster.name, hosts: facts, findings, report };
  }, (r) => `${r.hosts.length} hosts, ${r.findings.length} finding(s)`);
}

/** Inventory path of a host for error messages, e.g. "etcd.members[1]". */
function whereOf(inv: Inventory, name: string): string {
  const lists: [string, { name: string }[]][] = [['gateways', inv.gateways], ['etcd.members', inv.etcd.members], ['masters', inv.masters], ['workers', inv.workers]];
  for (const [path, nodes] of lists) {
    const i = nodes.findIndex((n) => n.name === name);
    if (i >= 0) return `${path}[${i}]`;
  }
  return name;
}
