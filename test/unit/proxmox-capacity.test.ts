// The capacity judgement before the first Proxmox clone (workflows/provision/proxmox-capacity.ts),
// pure: only new VMs count, a shared storage is one pool for every node, a per-node storage is
// counted per node, linked clones take no storage, memory and vCPUs per node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCapacity } from '../../workflows/provision/proxmox-capacity.js';
import type { ProxmoxCapacity, ProxmoxPlan, VmPlan } from '../../activities/cloud/proxmox/context.js';

const GIB = 1024 ** 3;
const vm = (host: string, node: string, o: Partial<VmPlan> = {}): VmPlan => ({ host, role: 'worker', roles: ['worker'], ip: '10.0.0.1', node, vmid: 500, exists: false, cores: 2, memoryMiB: 4096, diskGiB: 64, ...o });
const plan = (vms: VmPlan[], full = true): ProxmoxPlan => ({ cluster: 'c', tag: 'mooring-c', range: { first: 500, last: 599 }, template: { vmid: 9000, node: 'pve1' }, storage: 'vmstore', bridge: 'vmbr0', full, clonesPerStorage: 1, vms, lines: [] });
const node = (n: string, freeGiB: number, cpus = 16) => ({ node: n, memoryTotal: 64 * GIB, memoryFree: freeGiB * GIB, cpus });
const store = (n: string, availGiB: number, shared: boolean) => ({ node: n, storage: 'vmstore', total: 1000 * GIB, avail: availGiB * GIB, shared });

describe('checkCapacity', () => {
  it('a per-node storage is judged per node, naming node, need and free space', () => {
    const cap: ProxmoxCapacity = { nodes: [node('pve1', 50), node('pve2', 50)], storages: [store('pve1', 100, false), store('pve2', 40, false)] };
    const r = checkCapacity(plan([vm('a', 'pve1'), vm('b', 'pve2'), vm('c', 'pve2', { diskGiB: 32 })]), cap);
    assert.deepEqual(r.shortfalls, ['storage vmstore on pve2: needs 96 GiB, 40 GiB free']);
  });

  it('a shared storage is one pool: the new disks of every node against one free space, once', () => {
    const cap: ProxmoxCapacity = { nodes: [node('pve1', 50), node('pve2', 50)], storages: [store('pve1', 100, true), store('pve2', 100, true)] };
    const r = checkCapacity(plan([vm('a', 'pve1'), vm('b', 'pve2')]), cap);
    assert.deepEqual(r.shortfalls, ['storage vmstore (shared): needs 128 GiB, 100 GiB free']);
    assert.equal(r.lines.filter((l) => l.includes('storage vmstore')).length, 1);
  });

  it('VMs that exist are not counted; linked clones take no storage', () => {
    const cap: ProxmoxCapacity = { nodes: [node('pve1', 5)], storages: [store('pve1', 10, false)] };
    assert.deepEqual(checkCapacity(plan([vm('a', 'pve1', { exists: true }), vm('b', 'pve1', { exists: true })]), cap).shortfalls, []);
    const linked = checkCapacity(plan([vm('a', 'pve1')], false), { nodes: [node('pve1', 5)], storages: [] });
    assert.deepEqual(linked.shortfalls, []);
    assert.match(linked.lines.join('\n'), /linked clones are copy-on-write on the template's storage \(not counted\)/);
  });

  it('memory per node and vCPUs per VM against the node\'s CPUs', () => {
    const cap: ProxmoxCapacity = { nodes: [node('pve1', 6, 4)], storages: [store('pve1', 500, false)] };
    const r = checkCapacity(plan([vm('a', 'pve1'), vm('b', 'pve1', { cores: 8 })]), cap);
    assert.deepEqual(r.shortfalls, ['memory on pve1: needs 8 GiB for a, b, 6 GiB free', 'CPUs on pve1: b asks for 8 vCPUs, the node has 4']);
  });
});
