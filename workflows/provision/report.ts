// What `provision` shows: the host steps of the plan (what the host phase does per role, with
// counts) and the final report. Pure; never holds a secret (the kubeconfig's path, not its content).
import type { Inventory } from '../../config/schema.js';
import { hostsOf, type Role } from '../../config/hosts.js';
import type { CloudPhaseResult, HostPhaseResult } from '../../activities/host/context.js';
import { cniTitle, LOCAL_PATH } from '../../activities/addons/catalog.js';

const ROLE_STEPS: Record<Role, string> = {
  gateway: 'prerequisites; keepalived (VIP) and HAProxy (API, ingress) rendered, checked, started',
  etcd: 'etcd with TLS (PKI from Mooring)',
  master: 'prerequisites; kubeadm init (first) or control-plane join',
  worker: 'prerequisites; kubeadm join',
};

/** One line per host with what the host phase does there, then the counts and the cluster-wide steps. */
export function hostStepLines(inv: Inventory): string[] {
  const hosts = hostsOf(inv);
  const lines = hosts.map((h) => `${h.name} (${h.roles.join(', ')}): ${h.roles.map((r) => ROLE_STEPS[r]).join('; ')}`);
  const count = (r: Role) => hosts.filter((h) => h.roles.includes(r)).length;
  lines.push(`then: ${cniTitle(inv.kubernetes)} and ${LOCAL_PATH.title} ${LOCAL_PATH.version} applied on ${inv.masters[0]?.name ?? 'the first master'} and rolled out; smoke test (every node Ready, the API through the VIP ${inv.loadBalancer.vip}, VIP failover); Helm: not yet`);
  lines.push(`counts: hosts ${hosts.length}, gateways ${count('gateway')}, etcd ${count('etcd')} (${inv.etcd.topology}), masters ${count('master')}, workers ${count('worker')}`);
  return lines;
}

export function provisionReport(r: {
  cluster: string; plan: string[]; quota?: string[]; planOnly: boolean;
  cloud?: CloudPhaseResult; hostPhase?: HostPhaseResult; nothingChanged?: boolean;
}): string {
  const out: string[] = [];
  if (r.planOnly) {
    out.push(`**Plan for ${r.cluster}** (nothing was created)`, '', '```', ...r.plan, '```');
    if (r.quota) out.push('', '**Quota**', ...r.quota.map((q) => `- ${q}`));
    return out.join('\n');
  }
  if (r.nothingChanged) out.push(`**Nothing changed**: every cloud resource of ${r.cluster} exists and the host phase found every host as the inventory says.`, '');
  else out.push(`**${r.cluster} provisioned**: ${r.cloud?.created?.length ?? 0} cloud resources created, ${r.hostPhase?.changed.length ?? 0} host changes.`, '');
  if (r.cloud?.hosts?.length) {
    out.push('| host | roles | address | public address | machine |', '|---|---|---|---|---|');
    for (const h of r.cloud.hosts) out.push(`| ${h.name} | ${h.roles.join(', ')} | ${h.address} | ${h.publicAddress ?? ''} | ${h.machineId} |`);
  }
  if (r.hostPhase) {
    out.push('', `API endpoint: ${r.hostPhase.apiEndpoint}`, `Admin kubeconfig written to ${r.hostPhase.kubeconfigPath} on the worker's machine (its content is not in the history)`);
    out.push(`Nodes: ${r.hostPhase.nodes.map((n) => `${n.name} ${n.ready ? 'Ready' : 'NotReady'} ${n.kubeletVersion}`).join(', ') || 'none'}`);
    if (r.hostPhase.smoke.length) out.push('', '**Smoke test**', ...r.hostPhase.smoke.map((s) => `- ${s}`));
  }
  if (r.cloud?.created?.length) out.push('', '**Created**', ...r.cloud.created.map((c) => `- ${c}`));
  if (r.hostPhase?.changed.length) out.push('', '**Changed on hosts**', ...r.hostPhase.changed.map((c) => `- ${c}`));
  return out.join('\n');
}
