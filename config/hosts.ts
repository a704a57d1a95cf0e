// Derived views of an inventory that runbooks need: every host once, with its roles. Pure.
import type { Inventory, InventoryNode } from './schema.js';

export type Role = 'gateway' | 'master' | 'worker' | 'etcd';

export interface Host extends InventoryNode {
  roles: Role[];
}

/** Every host of the inventory once, with all its roles (a stacked master is also an etcd member). */
export function hostsOf(inv: Inventory): Host[] {
  const byName = new Map<string, Host>();
  const add = (n: InventoryNode, role: Role) => {
    const h = byName.get(n.name) ?? { ...n, roles: [] };
    if (!h.roles.includes(role)) h.roles.push(role);
    byName.set(n.name, h);
  };
  inv.gateways.forEach((n) => add(n, 'gateway'));
  inv.etcd.members.forEach((n) => add(n, 'etcd'));
  inv.masters.forEach((n) => {
    add(n, 'master');
    if (inv.etcd.topology === 'stacked') add(n, 'etcd');
  });
  inv.workers.forEach((n) => add(n, 'worker'));
  return [...byName.values()];
}

/** The etcd members whatever the topology. */
export function etcdMembersOf(inv: Inventory): InventoryNode[] {
  return inv.etcd.topology === 'external' ? inv.etcd.members : inv.masters;
}

/** TCP ports a host must have free before provisioning, by role (seed 004's port table, kubeadm's list). */
export function expectedPorts(inv: Inventory, roles: readonly Role[]): number[] {
  const ports = new Set<number>();
  for (const r of roles) {
    if (r === 'etcd') [inv.etcd.clientPort, inv.etcd.peerPort].forEach((p) => ports.add(p));
    if (r === 'master') [6443, 10250, 10257, 10259].forEach((p) => ports.add(p));
    if (r === 'worker') [10250, 10256].forEach((p) => ports.add(p));
    if (r === 'gateway') [inv.loadBalancer.apiPort, 80, 443].forEach((p) => ports.add(p));
  }
  if (inv.loadBalancer.placement === 'masters' && roles.includes('master')) ports.add(inv.loadBalancer.apiPort);
  return [...ports].sort((a, b) => a - b);
}
