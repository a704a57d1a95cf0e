// The Proxmox plan (pure: computed in the workflow from the inventory and what the read-only
// inspection found). Which VM each host is, on which node, with which VMID:
// - a VM of the cluster already exists when a VM in the reserved range carries the cluster's tag and
//   the host's name: it keeps its VMID and node (a second run clones nothing);
// - new VMs take the lowest VMIDs of the range no VM holds (the clone still checks each one);
// - masters go to distinct online nodes, so losing one Proxmox host loses at most one master; the
//   plan refuses when the online nodes are too few to keep them apart; workers fill the least
//   loaded online nodes. Offline nodes are left out.
import type { Inventory } from '../../../../config/schema.js';
import { hostsOf } from '../../../../config/hosts.js';
import type { ProxmoxFacts, ProxmoxPlan, VmPlan } from '../context.js';

export class ProxmoxPlanError extends Error { override name = 'ProxmoxPlanError'; }

export function clusterTag(cluster: string): string {
  return `mooring-${cluster}`;
}

function prefixOf(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

export function planProxmox(inv: Inventory, facts: ProxmoxFacts): ProxmoxPlan {
  if (inv.provider.type !== 'proxmox') throw new ProxmoxPlanError('provider.type: is not proxmox');
  const px = inv.provider.proxmox;
  if (!px.vmids || !px.network) throw new ProxmoxPlanError('provider.proxmox.vmids and provider.proxmox.network: needed to provision (mooring validate names what is missing)');
  const range = px.vmids;
  const prefix = prefixOf(px.network.cidr);
  const tag = clusterTag(inv.cluster.name);
  const online = px.nodes.filter((n) => facts.onlineNodes.includes(n));
  const offline = px.nodes.filter((n) => !online.includes(n));
  const own = new Map(facts.inRange.filter((v) => v.tags.includes(tag)).map((v) => [v.name, v]));
  const taken = new Set(facts.inRange.map((v) => v.vmid));
  const hosts = hostsOf(inv);
  const load = new Map(online.map((n) => [n, 0]));
  const masterNodes = new Set<string>();
  const vms: VmPlan[] = [];
  const newMasters = hosts.filter((h) => h.roles.includes('master') && !own.has(h.name)).length;
  for (const h of hosts) {
    const v = own.get(h.name);
    if (v) {
      load.set(v.node, (load.get(v.node) ?? 0) + 1);
      if (h.roles.includes('master')) masterNodes.add(v.node);
    }
  }
  const freeForMasters = online.filter((n) => !masterNodes.has(n));
  if (newMasters > freeForMasters.length) {
    throw new ProxmoxPlanError(`provider.proxmox.nodes: cannot keep the masters apart: ${newMasters} new master(s) need their own node but only ${freeForMasters.length} online node(s) hold no master (${freeForMasters.join(', ') || 'none'})${offline.length ? `; offline: ${offline.join(', ')}` : ''}: bring a node back or list more nodes`);
  }
  let next = range.first;
  const nextVmid = (host: string): number => {
    while (next <= range.last && taken.has(next)) next++;
    if (next > range.last) throw new ProxmoxPlanError(`provider.proxmox.vmids: the range ${range.first}–${range.last} has no free VMID left for ${host} (${taken.size} taken): widen the range`);
    taken.add(next);
    return next;
  };
  const leastLoaded = (among: string[]) => among.reduce((a, b) => ((load.get(b) ?? 0) < (load.get(a) ?? 0) ? b : a));
  for (const h of hosts) {
    const role = h.roles.includes('master') ? 'master' : h.roles.includes('gateway') ? 'gateway' : h.roles.includes('etcd') ? 'etcd' : 'worker';
    const size = h.size ?? { cpus: 2, memoryGiB: 2, diskGiB: 20 };
    const v = own.get(h.name);
    let node: string;
    if (v) node = v.node;
    else {
      if (online.length === 0) throw new ProxmoxPlanError(`provider.proxmox.nodes: none of ${px.nodes.join(', ')} is online`);
      node = role === 'master' ? leastLoaded(online.filter((n) => !masterNodes.has(n))) : leastLoaded(online);
      if (role === 'master') masterNodes.add(node);
      load.set(node, (load.get(node) ?? 0) + 1);
    }
    vms.push({ host: h.name, role, roles: h.roles, ip: h.ip, node, vmid: v ? v.vmid : nextVmid(h.name), exists: Boolean(v), cores: size.cpus, memoryMiB: Math.round(size.memoryGiB * 1024), diskGiB: Math.ceil(size.diskGiB) });
  }
  const plan: ProxmoxPlan = {
    cluster: inv.cluster.name, tag, range, template: { vmid: facts.template.vmid, node: facts.template.node }, storage: px.storage, bridge: px.bridge,
    full: px.clone === 'full', clonesPerStorage: px.clonesPerStorage, vms, lines: [],
  };
  const fresh = vms.filter((v) => !v.exists).length;
  plan.lines = [
    `Proxmox VE ${px.apiUrl}: template ${facts.template.vmid} (${facts.template.name}) on ${facts.template.node}, ${px.clone} clones, disks on storage ${px.storage}, NICs on bridge ${px.bridge}`,
    `VMIDs ${range.first}–${range.last} reserved for ${inv.cluster.name}, VMs tagged ${tag}`,
    `nodes online: ${online.join(', ') || 'none'}${offline.length ? `; offline (placement goes around): ${offline.join(', ')}` : ''}`,
    ...vms.map((v) => `${v.host} (${v.role}) → ${v.node}, VMID ${v.vmid}${v.exists ? ' (exists)' : ' (new; checked free before the clone)'}, ${v.cores} vCPU, ${v.memoryMiB} MiB, ${v.diskGiB} GiB disk, ${v.ip}/${prefix}`),
    `clones on storage ${px.clone === 'full' ? px.storage : `of the template (linked)`}: ${fresh} new, at most ${px.clonesPerStorage} at a time`,
    `masters on distinct nodes: ${vms.filter((v) => v.role === 'master').map((v) => `${v.host}@${v.node}`).join(', ')}`,
  ];
  return plan;
}
