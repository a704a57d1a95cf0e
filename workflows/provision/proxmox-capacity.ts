// The capacity check before the first clone (pure, run by provisionProxmox on what
// readProxmoxCapacity read). Only VMs still to be cloned count; what already runs is in the
// node's used memory and the storage's used space. Refused, naming the node or storage and the
// numbers, when:
// - the new VMs' memory on a node exceeds its free memory (PVE starts a VM only if the host can
//   back its memory; ballooning and KSM are not counted on);
// - a VM asks for more vCPUs than its node has CPUs (PVE refuses to start it);
// - full clones' disks (each at its final size, after the resize) exceed the storage's free space:
//   per node, or once for a shared storage (one pool every node sees). Thin pools would accept
//   more, but a thin pool that fills up pauses every VM on it. Linked clones are copy-on-write
//   on the template's storage and are not counted.
import type { ProxmoxCapacity, ProxmoxPlan, VmPlan } from '../../activities/cloud/proxmox/context.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function gib(bytes: number): string {
  return String(Math.round((bytes / GIB) * 10) / 10);
}

export interface CapacityCheck { lines: string[]; shortfalls: string[] }

export function checkCapacity(plan: ProxmoxPlan, cap: ProxmoxCapacity): CapacityCheck {
  const fresh = plan.vms.filter((v) => !v.exists);
  const lines: string[] = [];
  const shortfalls: string[] = [];
  const on = (node: string) => fresh.filter((v) => v.node === node);
  const hostsOf = (vms: VmPlan[]) => vms.map((v) => v.host).join(', ');
  for (const n of cap.nodes) {
    const vms = on(n.node);
    if (!vms.length) continue;
    const memory = vms.reduce((a, v) => a + v.memoryMiB * MIB, 0);
    lines.push(`capacity on ${n.node}: ${vms.length} new VM(s) (${hostsOf(vms)}) need ${gib(memory)} GiB memory, ${gib(n.memoryFree)} of ${gib(n.memoryTotal)} GiB free; ${n.cpus} CPUs`);
    if (memory > n.memoryFree) shortfalls.push(`memory on ${n.node}: needs ${gib(memory)} GiB for ${hostsOf(vms)}, ${gib(n.memoryFree)} GiB free`);
    for (const v of vms) if (v.cores > n.cpus) shortfalls.push(`CPUs on ${n.node}: ${v.host} asks for ${v.cores} vCPUs, the node has ${n.cpus}`);
  }
  if (!plan.full) {
    if (fresh.length) lines.push('capacity on storage: linked clones are copy-on-write on the template\'s storage (not counted)');
    return { lines, shortfalls };
  }
  const seenShared = new Set<string>();
  for (const s of cap.storages) {
    if (s.shared && seenShared.has(s.storage)) continue;
    const vms = s.shared ? fresh : on(s.node);
    if (!vms.length) continue;
    const need = vms.reduce((a, v) => a + v.diskGiB * GIB, 0);
    const where = s.shared ? `storage ${s.storage} (shared)` : `storage ${s.storage} on ${s.node}`;
    if (s.shared) seenShared.add(s.storage);
    lines.push(`capacity on ${where}: ${vms.length} new disk(s) need ${gib(need)} GiB, ${gib(s.avail)} of ${gib(s.total)} GiB free`);
    if (need > s.avail) shortfalls.push(`${where}: needs ${gib(need)} GiB, ${gib(s.avail)} GiB free`);
  }
  return { lines, shortfalls };
}
