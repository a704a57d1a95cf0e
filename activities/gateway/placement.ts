// Which hosts run HAProxy and keepalived, where their files go, and what the kernel must allow.
// Pure, so workflows may use it to plan steps.
import type { Inventory, InventoryNode } from '../../config/schema.js';

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
export const KEEPALIVED_CONFIG_PATH = '/etc/keepalived/keepalived.conf';

/**
 * HAProxy binds the VIP on every load balancer, also on those that do not hold it at the moment,
 * so that it already listens when keepalived moves the VIP over (seed 003 sets the same sysctl).
 */
export const LOAD_BALANCER_SYSCTLS = { 'net.ipv4.ip_nonlocal_bind': '1' } as const;

/** The hosts that run HAProxy and keepalived: the gateways (seeds 001, 002) or the masters (seed 003). */
export function loadBalancerNodes(inv: Inventory): InventoryNode[] {
  return inv.loadBalancer.placement === 'gateways' ? inv.gateways : inv.masters;
}
