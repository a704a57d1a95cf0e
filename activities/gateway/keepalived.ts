// keepalived.conf for one load balancer host: VRRP moves the VIP to a peer when this host or its
// HAProxy fails (the vrrp_script asks HAProxy's /healthz, as seed 002 does). Planned as typed
// blocks from the inventory, written by one serializer. Pure.
import type { Inventory } from '../../config/schema.js';
import { DEFAULT_MONITOR, HEALTHZ_PATH } from './haproxy.js';
import { loadBalancerNodes } from './placement.js';
import { confWord, intOption, ipv4Option, portOption } from './words.js';

export const VRRP_INSTANCE = 'mooring_api';
export const HAPROXY_CHECK = 'chk_haproxy';
/** curl must be installed on the load balancers; keepalived -t refuses a script it cannot find. */
export const CURL = '/usr/bin/curl';

const INTERFACE = /^[A-Za-z0-9_.:-]{1,15}$/;

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VrrpRole {
  node: string;
  ip: string;
  state: VrrpState;
  priority: number;
}

export interface KeepalivedOptions {
  /** Name of the load balancer host this file is for. */
  node: string;
  /** The host's interface on the cluster network (the VIP is added there), e.g. eth0 or ens3. */
  interface: string;
  /** Default from vrrpRoles: the first load balancer is MASTER with the highest priority. */
  priority?: number;
  state?: VrrpState;
  /** Where HAProxy's monitor frontend listens; must match the haproxy.cfg rendered for this host. */
  monitor?: { address: string; port: number };
}

/** A keepalived keyword with its arguments and, for a block, what is inside its braces. */
export interface KeepalivedItem {
  keyword: string;
  args?: (string | number | { quoted: string })[];
  body?: KeepalivedItem[];
}

/**
 * One MASTER (the first load balancer, priority 150) and BACKUPs below it, each 10 lower, so the
 * order of failover is the inventory order and never a tie.
 */
export function vrrpRoles(inv: Inventory): VrrpRole[] {
  return loadBalancerNodes(inv).map((n, i) => ({
    node: n.name,
    ip: n.ip,
    state: i === 0 ? 'MASTER' : 'BACKUP',
    priority: i === 0 ? 150 : Math.max(1, 110 - 10 * i),
  }));
}

export function planKeepalivedConfig(inv: Inventory, opts: KeepalivedOptions): KeepalivedItem[] {
  const roles = vrrpRoles(inv);
  const self = roles.find((r) => r.node === opts.node);
  if (!self) {
    throw new Error(`keepalived node: "${opts.node}" is not a load balancer host (loadBalancer.placement is "${inv.loadBalancer.placement}": ${roles.map((r) => r.node).join(', ') || 'none listed'})`);
  }
  if (!INTERFACE.test(opts.interface)) throw new Error(`keepalived interface: ${JSON.stringify(opts.interface)} is not a network interface name such as eth0`);
  // 255 is reserved by VRRP for the owner of the address; the VIP has no owner.
  const priority = intOption(opts.priority ?? self.priority, 1, 254, 'keepalived priority');
  const state = opts.state ?? self.state;
  const monitor = opts.monitor ?? DEFAULT_MONITOR;
  const healthz = `http://${ipv4Option(monitor.address, 'keepalived monitor.address')}:${portOption(monitor.port, 'keepalived monitor.port')}${HEALTHZ_PATH}`;
  const peers = roles.filter((r) => r.node !== self.node);

  return [
    {
      keyword: 'global_defs', body: [
        { keyword: 'router_id', args: [self.node] },
        // VRRPv3 (RFC 5798) has no authentication: v2's auth_pass travels in clear text in every
        // advert and protects nothing, and a password would have to be a secret reference, never a
        // literal in the inventory. Who may speak VRRP is limited by unicast peers and the network.
        { keyword: 'vrrp_version', args: [3] },
        // Refuse a check script that a non-root user could replace. It runs as root because
        // Debian 12's keepalived 2.2.7 kills itself in `keepalived -t` when script_user is another
        // user (acassen/keepalived#2617, fixed upstream by #2182), and a file that cannot be
        // checked is not shipped; the script is a read-only GET to localhost.
        { keyword: 'enable_script_security' },
        { keyword: 'script_user', args: ['root'] },
      ],
    },
    {
      keyword: 'vrrp_script', args: [HAPROXY_CHECK], body: [
        { keyword: 'script', args: [{ quoted: `${CURL} --silent --fail --max-time 2 --output /dev/null ${healthz}` }] },
        { keyword: 'interval', args: [2] },
        { keyword: 'timeout', args: [3] },
        // No weight: a failing check puts the instance in FAULT, so a host whose HAProxy is down
        // never holds the VIP, whatever its priority.
        { keyword: 'fall', args: [2] },
        { keyword: 'rise', args: [2] },
      ],
    },
    {
      keyword: 'vrrp_instance', args: [VRRP_INSTANCE], body: [
        { keyword: 'state', args: [state] },
        { keyword: 'interface', args: [opts.interface] },
        { keyword: 'virtual_router_id', args: [inv.loadBalancer.virtualRouterId] },
        { keyword: 'priority', args: [priority] },
        { keyword: 'advert_int', args: [1] },
        // Unicast: clouds such as OpenStack drop multicast between ports, and unicast names the peers.
        // A single load balancer has no peer to tell, and an empty unicast_peer block is an error.
        ...(peers.length === 0 ? [] : [
          { keyword: 'unicast_src_ip', args: [self.ip] },
          { keyword: 'unicast_peer', body: peers.map((p) => ({ keyword: p.ip })) },
        ]),
        { keyword: 'virtual_ipaddress', body: [{ keyword: `${inv.loadBalancer.vip}/32`, args: ['dev', opts.interface] }] },
        { keyword: 'track_script', body: [{ keyword: HAPROXY_CHECK }] },
      ],
    },
  ];
}

export function renderKeepalivedConfig(inv: Inventory, opts: KeepalivedOptions): string {
  return serializeKeepalivedConfig(planKeepalivedConfig(inv, opts), `${opts.node} of cluster ${inv.cluster.name}`);
}

export function serializeKeepalivedConfig(items: KeepalivedItem[], origin = 'Mooring'): string {
  const lines = [`# Written by Mooring for ${origin}; changes here are overwritten.`];
  const write = (item: KeepalivedItem, depth: number) => {
    const indent = '    '.repeat(depth);
    const words = [confWord(item.keyword, 'keepalived keyword'), ...(item.args ?? []).map((a) => arg(a, item.keyword))];
    if (item.body === undefined) {
      lines.push(indent + words.join(' '));
      return;
    }
    lines.push(`${indent}${words.join(' ')} {`);
    item.body.forEach((child) => write(child, depth + 1));
    lines.push(`${indent}}`);
  };
  items.forEach((item, i) => {
    if (i > 0) lines.push('');
    write(item, 0);
  });
  return `${lines.join('\n')}\n`;
}

// A quoted argument (a script line) may hold spaces, but never a quote that would end it early.
function arg(a: string | number | { quoted: string }, keyword: string): string {
  if (typeof a !== 'object') return confWord(a, `keepalived ${keyword}`);
  if (/["\\\n#]/.test(a.quoted)) throw new Error(`keepalived ${keyword}: ${JSON.stringify(a.quoted)} cannot be quoted in keepalived.conf (no '"', '\\', '#' or newline)`);
  return `"${a.quoted}"`;
}
