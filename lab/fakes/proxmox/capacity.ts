// SIMULATED: what a Proxmox VE node has left, as the capacity check before a clone reads it:
// GET /nodes/{node}/status (memory total/used/free in bytes, cpuinfo.cpus; needs Sys.Audit on
// /nodes/{node}) and GET /nodes/{node}/storage/{storage}/status (total/used/avail in bytes, shared;
// needs Datastore.Audit or Datastore.AllocateSpace on /storage/{storage}). The numbers follow the
// fake's VMs: a running VM's memory is used on its node, every VM disk (a template's base disk
// included) takes its size on its storage, counted cluster-wide when the storage is shared.
import { pveError } from './errors.js';
import type { FakeStorage, ProxmoxState } from './state.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

function sizeBytes(opts: string[]): number {
  const m = /^size=(\d+(?:\.\d+)?)([KMGT]?)$/.exec(opts.find((o) => o.startsWith('size=')) ?? '');
  if (!m) return 0;
  return Number(m[1]) * { K: 1024, M: MIB, G: GIB, T: 1024 * GIB, '': 1 }[m[2] as 'K' | 'M' | 'G' | 'T' | ''];
}

/** Bytes of VM disks on a storage (on one node, or on all when the storage is shared). */
function diskBytes(state: ProxmoxState, s: FakeStorage, node: string): number {
  let sum = 0;
  for (const vm of state.vms.values()) {
    if (!s.shared && vm.node !== node) continue;
    for (const [k, v] of Object.entries(vm.config)) {
      if (!/^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/.test(k)) continue;
      const [volume = '', ...opts] = String(v).split(',');
      const [store, image = ''] = volume.split(':');
      if (store !== s.storage || image === 'cloudinit' || opts.includes('media=cdrom')) continue;
      sum += sizeBytes(opts);
    }
  }
  return sum;
}

export interface StorageStatus { storage: string; type: string; content: string; active: number; enabled: number; shared: number; total: number; used: number; avail: number }

export function storageStatus(state: ProxmoxState, s: FakeStorage, node: string): StorageStatus {
  const total = Math.round((s.sizeGiB ?? 500) * GIB);
  const used = Math.min(total, Math.round((s.baseUsedGiB ?? 50) * GIB) + diskBytes(state, s, node));
  return {
    storage: s.storage, type: s.path ? 'dir' : s.shared ? 'rbd' : 'lvmthin', content: s.content.join(','), active: 1, enabled: 1,
    shared: s.shared || s.path ? 1 : 0, total, used, avail: total - used,
  };
}

export function storageOn(state: ProxmoxState, node: string, storage: string): FakeStorage {
  const s = state.storages.find((x) => x.storage === storage);
  if (!s) throw pveError(500, `storage '${storage}' does not exist`);
  if (s.nodes && !s.nodes.includes(node)) throw pveError(500, `storage '${storage}' is not available on node '${node}'`);
  return s;
}

export interface NodeMemory { total: number; used: number; free: number }

export function nodeMemory(state: ProxmoxState, node: string): NodeMemory {
  const r = state.nodeResources.get(node);
  if (!r) throw pveError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  const total = Math.round(r.memoryGiB * GIB);
  let used = Math.round(r.hostUsedGiB * GIB);
  for (const vm of state.vms.values()) if (vm.node === node && vm.status === 'running') used += Number(vm.config.memory ?? 512) * MIB;
  used = Math.min(used, total);
  return { total, used, free: total - used };
}

/** GET /nodes/{node}/status as PVE 8 shapes it (the fields the API viewer lists; numbers in bytes). */
export function nodeStatusView(state: ProxmoxState, node: string): Record<string, unknown> {
  const r = state.nodeResources.get(node);
  const memory = nodeMemory(state, node);
  const cpus = r?.cpus ?? 1;
  return {
    cpu: 0.05, wait: 0.001, idle: 0, uptime: 86_400, loadavg: ['0.10', '0.15', '0.20'], kversion: 'Linux 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)',
    pveversion: 'pve-manager/8.2.4/faa83925c9641325', 'current-kernel': { sysname: 'Linux', release: '6.8.12-4-pve', version: '#1 SMP PREEMPT_DYNAMIC', machine: 'x86_64' },
    'boot-info': { mode: 'efi', secureboot: 0 },
    cpuinfo: { cpus, cores: Math.max(1, cpus / 2), sockets: 1, model: 'SIMULATED CPU', mhz: '2400.000', hvm: '1', flags: 'fpu vme de pse tsc msr pae', user_hz: 100 },
    memory: { ...memory, available: memory.free },
    swap: { total: 8 * GIB, used: 0, free: 8 * GIB },
    rootfs: { total: 100 * GIB, used: 10 * GIB, free: 90 * GIB, avail: 85 * GIB },
    ksm: { shared: 0 },
  };
}
