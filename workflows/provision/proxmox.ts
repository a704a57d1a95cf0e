// The Proxmox VE cloud phase as a child workflow of `provision` (seed 003, "Prototype Molly": the
// VMs kube0..kube7 on a five-host Proxmox cluster, Debian cloned from one template). In the seed's
// order, done by the API instead of by hand:
//   1. look at the cluster (read-only): the token's privileges, online nodes, template, storage,
//      bridge and the VMs already in the cluster's VMID range;
//   2. plan: which VMID and which node for each host, masters on distinct nodes, and whether the
//      nodes have the memory, CPUs and storage the new VMs need (--plan stops here);
//   3. clone each VM from the template, at most clonesPerStorage at once on one storage;
//   4. cloud-init (user, admin key, address, gateway, DNS, pinned SSH host key), disk grown, start;
//   5. wait until each guest agent reports the host's address.
// Every step is an idempotent activity; a second run finds every VM and clones nothing.
import { ApplicationFailure, patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { ProxmoxActivities } from '../../activities/cloud/proxmox/activities/index.js';
import type { ProxmoxPlan, ProxmoxTarget, VmPlan } from '../../activities/cloud/proxmox/context.js';
import type { CloudPhaseResult, ProvisionedHost } from '../../activities/host/context.js';
import { clusterTag, planProxmox } from '../../activities/cloud/proxmox/plan/plan.js';
import { PROXMOX_NON_RETRYABLE } from '../../activities/cloud/proxmox/failure-types.js';
import { checkCapacity } from './proxmox-capacity.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: [...PROXMOX_NON_RETRYABLE] };
const api = proxyActivities<ProxmoxActivities>({ startToCloseTimeout: '2 minutes', retry });
// Clone, resize, start, agent: tasks that take minutes; a short heartbeat timeout so a killed
// worker's attempt is retried (and resumes its task's UPID) within seconds.
const tasks = proxyActivities<ProxmoxActivities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout: '10 seconds', retry });

export interface ProvisionProxmoxInput {
  inventory: Inventory;
  /** Only inspect (read-only) and return the plan: nothing is cloned or changed. */
  planOnly?: boolean;
}

export function proxmoxTarget(inv: Inventory): ProxmoxTarget {
  if (inv.provider.type !== 'proxmox') throw ApplicationFailure.nonRetryable('provider.type: provisionProxmox needs provider.type proxmox', 'InvalidInput');
  const px = inv.provider.proxmox;
  return { apiUrl: px.apiUrl, tokenId: px.tokenId, tokenSecret: px.tokenSecret, ...(px.caFile ? { caFile: px.caFile } : {}), ...(px.fingerprint ? { fingerprint: px.fingerprint } : {}) };
}

export async function provisionProxmox(input: ProvisionProxmoxInput): Promise<CloudPhaseResult> {
  const inv = input.inventory;
  const target = proxmoxTarget(inv);
  if (inv.provider.type !== 'proxmox') throw ApplicationFailure.nonRetryable('provider.type: not proxmox', 'InvalidInput');
  const px = inv.provider.proxmox;
  const { vmids, network, publicKey, snippets } = px;
  const seed = inv.ssh.hostKeySeed;
  if (!vmids || !network || !publicKey || !snippets || !seed) {
    throw ApplicationFailure.nonRetryable('provider.proxmox.vmids, network, publicKey, snippets and ssh.hostKeySeed are needed to provision on Proxmox VE: `mooring validate` names what is missing', 'InvalidInput');
  }
  const done: string[] = [];
  const show = (line: string) => { done.push(line); setCurrentDetails(`**Proxmox VE phase of ${inv.cluster.name}**\n\n${done.map((d) => `- ${d}`).join('\n')}`); };

  const facts = await api.inspectProxmox({ target, nodes: px.nodes, templateVmid: px.templateVmid, storage: px.storage, bridge: px.bridge, range: vmids, full: px.clone === 'full', snippetStorage: snippets.storage });
  let plan: ProxmoxPlan;
  try {
    plan = planProxmox(inv, facts);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'ProxmoxInventoryError');
  }
  // Runs released before the capacity check went straight to the clones.
  const fresh = plan.vms.filter((v) => !v.exists);
  if (fresh.length && patched('proxmox-capacity-check')) {
    const capacity = await api.readProxmoxCapacity({ target, nodes: [...new Set(fresh.map((v) => v.node))], ...(plan.full ? { storage: px.storage } : {}) });
    const check = checkCapacity(plan, capacity);
    if (check.shortfalls.length) {
      throw ApplicationFailure.nonRetryable(`not enough room for the new VMs, nothing was cloned: ${check.shortfalls.join('; ')}: free memory or space, or give provider.proxmox.nodes/storage or host sizes that fit`, 'ProxmoxCapacity');
    }
    plan = { ...plan, lines: [...plan.lines, ...check.lines] };
  }
  if (input.planOnly) return { plan: plan.lines };
  show(`plan: ${plan.vms.filter((v) => !v.exists).length} VM(s) to clone, ${plan.vms.filter((v) => v.exists).length} found`);

  const created: string[] = [];
  const prefix = Number(network.cidr.split('/')[1]);
  const oneVm = async (vm: VmPlan, clone: (vm: VmPlan) => Promise<{ vmid: number; node: string; created: boolean; warnings: string[] }>): Promise<ProvisionedHost> => {
    const c = await clone(vm);
    if (c.created) created.push(`VM ${c.vmid} ${vm.host} on ${c.node}`);
    show(`${vm.host}: VM ${c.vmid} on ${c.node} ${c.created ? 'cloned' : 'found'}${c.warnings.length ? ` (warnings: ${c.warnings.join('; ')})` : ''}`);
    const ref = { target, host: vm.host, node: c.node, vmid: c.vmid };
    const cfg = await api.configureVm({
      ...ref, cluster: inv.cluster.name, tag: plan.tag, cores: vm.cores, memoryMiB: vm.memoryMiB, ip: vm.ip, prefix, gateway: network.gateway,
      nameservers: network.nameservers, bridge: px.bridge, ciuser: inv.ssh.user, publicKey, hostKeySeed: seed, snippets,
    });
    const r = await tasks.resizeVmDisk({ ...ref, diskGiB: vm.diskGiB });
    const s = await tasks.startVmTask(ref);
    for (const w of [...r.warnings, ...s.warnings]) show(`${vm.host}: warning: ${w}`);
    await tasks.waitGuestAddress({ ...ref, ip: vm.ip, timeoutSeconds: px.agentTimeoutSeconds });
    show(`${vm.host}: ${cfg.changed.length ? `configured (${cfg.changed.join(', ')}), ` : ''}${r.resized ? `disk grown to ${vm.diskGiB} GiB, ` : ''}${s.started ? 'started' : 'running'}, agent reports ${vm.ip}`);
    return { name: vm.host, roles: vm.roles, address: vm.ip, hostKey: cfg.hostKey, machineId: `${c.node}/${c.vmid}` };
  };
  // Clones share one storage (full clones copy to px.storage; linked ones live on the template's):
  // at most clonesPerStorage of them at once. The steps after a clone run as soon as it is done.
  let slots = plan.clonesPerStorage;
  const waiting: (() => void)[] = [];
  const throttledClone = async (vm: VmPlan) => {
    if (vm.exists) return tasks.cloneProxmoxVm({ target, cluster: inv.cluster.name, range: vmids, template: plan.template, storage: px.storage, full: plan.full, vm });
    while (slots === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    slots--;
    try {
      return await tasks.cloneProxmoxVm({ target, cluster: inv.cluster.name, range: vmids, template: plan.template, storage: px.storage, full: plan.full, vm });
    } finally {
      slots++;
      waiting.shift()?.();
    }
  };
  const hosts = await Promise.all(plan.vms.map((vm) => oneVm(vm, throttledClone)));
  show(`every VM runs and reports its address (${created.length} cloned)`);
  return { plan: plan.lines, created, hosts };
}

export interface DeprovisionProxmoxInput { inventory: Inventory }

/** Removes the cluster's VMs: only those in its VMID range that carry its tag. */
export async function deprovisionProxmox(input: DeprovisionProxmoxInput): Promise<{ deleted: string[] }> {
  const inv = input.inventory;
  const target = proxmoxTarget(inv);
  if (inv.provider.type !== 'proxmox' || !inv.provider.proxmox.vmids) throw ApplicationFailure.nonRetryable('provider.proxmox.vmids: needed to know which VMs are the cluster\'s', 'InvalidInput');
  const snippetsDir = inv.provider.proxmox.snippets?.localDir;
  const vms = await api.listClusterVms({ target, tag: clusterTag(inv.cluster.name), range: inv.provider.proxmox.vmids });
  const results = await Promise.all(vms.map((vm) => tasks.destroyVm({ target, vm, cluster: inv.cluster.name, ...(snippetsDir ? { snippetsDir } : {}) })));
  const deleted = vms.filter((_, i) => results[i]?.destroyed).map((v) => `VM ${v.vmid} ${v.name} on ${v.node}`);
  setCurrentDetails(`**Deprovisioned ${inv.cluster.name}**\n\n${deleted.map((d) => `- ${d}`).join('\n') || 'nothing to remove'}`);
  return { deleted };
}
