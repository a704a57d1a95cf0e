// The network-namespace lab's nodes: a node list per layout, each node in a network namespace of
// its own on a lab bridge. NETNS_NODES is seed 002's shape (two gateways holding the VIP, three
// masters with stacked etcd, one worker); SEED_001_NODES adds seed 001's three external etcd hosts.
// Addresses come from 10.77.0.0/16, which exists only inside the namespaces the lab makes.
import type { Role } from '../../config/hosts.js';

export interface NetnsNode {
  name: string;
  /** Last octet of the node's address on the lab network. */
  octet: number;
  role: Role;
}

export const NETNS_NODES: readonly NetnsNode[] = [
  { name: 'gw-1', octet: 2, role: 'gateway' },
  { name: 'gw-2', octet: 3, role: 'gateway' },
  { name: 'master-1', octet: 11, role: 'master' },
  { name: 'master-2', octet: 12, role: 'master' },
  { name: 'master-3', octet: 13, role: 'master' },
  { name: 'worker-1', octet: 21, role: 'worker' },
];

export const SEED_001_NODES: readonly NetnsNode[] = [
  ...NETNS_NODES.filter((n) => n.role === 'gateway'),
  { name: 'etcd-1', octet: 31, role: 'etcd' },
  { name: 'etcd-2', octet: 32, role: 'etcd' },
  { name: 'etcd-3', octet: 33, role: 'etcd' },
  ...NETNS_NODES.filter((n) => n.role !== 'gateway'),
];

/** A node list the lab can make: unique names and octets, not the bridge's or the VIP's, gw-1 first (the bastion). */
export function checkNodes(nodes: readonly NetnsNode[]): void {
  const seen = new Set<string>();
  for (const n of nodes) {
    if (!/^[a-z0-9-]{1,12}$/.test(n.name)) throw new Error(`netns lab node "${n.name}": 1-12 lowercase letters, digits or '-' (it names a namespace and a veth)`);
    if (!Number.isInteger(n.octet) || n.octet < 2 || n.octet > 254 || n.octet === VIP_OCTET) throw new Error(`netns lab node ${n.name}: octet ${n.octet} must be 2-254 and not ${VIP_OCTET} (the VIP)`);
    for (const k of [n.name, `#${n.octet}`]) { if (seen.has(k)) throw new Error(`netns lab nodes: ${k} appears twice`); seen.add(k); }
  }
  if (nodes[0]?.name !== 'gw-1' || nodes[0].role !== 'gateway') throw new Error('netns lab nodes: the first node must be the gateway gw-1 (the SSH bastion)');
}

/** The bridge's own address in the lab's LAN namespace (where the API forward connects from). */
export const BRIDGE_OCTET = 1;
export const VIP_OCTET = 100;

export interface NetnsLayout {
  /** Short word in every namespace name, so two labs (the interactive one, a test) never share one. */
  tag: string;
  /** Third octet of the lab network 10.77.<lan>.0/24. */
  lan: number;
  /** First three octets of the machine's loopback addresses that lead into the lab (127.60.0 … 127.63.0). */
  loopback: string;
}

export const DEFAULT_LAYOUT: NetnsLayout = { tag: 'k', lan: 0, loopback: '127.60.0' };

export const nodeAddress = (l: NetnsLayout, octet: number) => `10.77.${l.lan}.${octet}`;
export const nodeNs = (l: NetnsLayout, node: string) => `mnet-${l.tag}-${node}`;
/** The namespace that holds the bridge: the lab's switch, and the place to look at the VIP from. */
export const lanNs = (l: NetnsLayout) => `mnet-${l.tag}-lan`;
export const bridgeName = (l: NetnsLayout) => `mnbr${l.tag}`.slice(0, 15);
/** Loopback address of the machine that leads to a gateway's sshd (its "floating IP"). */
export const gatewayEntry = (l: NetnsLayout, node: NetnsNode) => `${l.loopback}.${node.octet}`;
/** Loopback address of the machine that leads to the VIP's API port. */
export const apiEntry = (l: NetnsLayout) => `${l.loopback}.${VIP_OCTET}`;

export function checkLayout(l: NetnsLayout): void {
  if (!/^[a-z0-9]{1,6}$/.test(l.tag)) throw new Error(`netns lab tag "${l.tag}" must be 1-6 lowercase letters or digits (it names the namespaces mnet-<tag>-<node>)`);
  if (!Number.isInteger(l.lan) || l.lan < 0 || l.lan > 255) throw new Error(`netns lab lan ${l.lan} must be 0-255 (the lab network is 10.77.<lan>.0/24)`);
  // 127.64.0 is npm start's (mooring demo-provision), which no test uses, so a demo left running
  // on a terminal never takes a test's addresses.
  if (!/^127\.(6[0-4]|8[0-9])\.0$/.test(l.loopback)) throw new Error(`netns lab loopback "${l.loopback}" must be 127.60.0-127.64.0 or 127.80.0-127.89.0`);
}

/**
 * The layout named by environment variable `name` as `tag/lan/loopback` (e.g. `u12b/26/127.86.0`),
 * checked; `fallback` when it is unset. Lets a bench or a crash matrix run beside another run of itself.
 */
export function layoutFromEnv(name: string, fallback: NetnsLayout): NetnsLayout {
  const v = process.env[name]?.trim();
  if (!v) return fallback;
  const [tag, lan, loopback, ...rest] = v.split('/');
  if (rest.length || !tag || !lan || !loopback || !/^[0-9]+$/.test(lan)) throw new Error(`${name}="${v}": give tag/lan/loopback, e.g. u12b/26/127.86.0`);
  const l = { tag, lan: Number(lan), loopback };
  checkLayout(l);
  return l;
}
