// The lab's nodes: seed 001's topology as far as one machine affords, each on its own
// loopback address so production ports (22, 2379, 2380, 6443) are used verbatim.
import type { Role } from '../config/hosts.js';

export interface LabNode {
  name: string;
  /** Last octet; the address is `${subnet}.${octet}`. */
  octet: number;
  role: Role;
}

export const LAB_NODES: readonly LabNode[] = [
  { name: 'gw-1', octet: 2, role: 'gateway' },
  { name: 'gw-2', octet: 3, role: 'gateway' },
  { name: 'etcd-1', octet: 11, role: 'etcd' },
  { name: 'etcd-2', octet: 12, role: 'etcd' },
  { name: 'etcd-3', octet: 13, role: 'etcd' },
  { name: 'master-1', octet: 21, role: 'master' },
  { name: 'worker-1', octet: 31, role: 'worker' },
];

export const VIP_OCTET = 100;

/** 127.10.0 for the interactive lab; tests pass another so they never collide with it. */
export const DEFAULT_SUBNET = '127.10.0';

export function nodeIp(subnet: string, node: LabNode): string {
  return `${subnet}.${node.octet}`;
}
