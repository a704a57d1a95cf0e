// Neutron subnets: GET/POST /v2.0/subnets. The allocation pool is set so Neutron's own ports (DHCP,
// router interface) never take an address the inventory gives a host or the VIP.
import type { OpenStackClient } from '../client.js';

export interface AllocationPool { start: string; end: string }
export interface Subnet { id: string; name: string; network_id: string; cidr: string; ip_version: number; gateway_ip: string | null; allocation_pools: AllocationPool[]; tags: string[]; enable_dhcp: boolean }
export interface SubnetCreate { name: string; network_id: string; ip_version: 4; cidr: string; gateway_ip?: string | null; allocation_pools?: AllocationPool[]; enable_dhcp?: boolean; dns_nameservers?: string[] }

export async function listSubnets(c: OpenStackClient, filter: { name?: string; network_id?: string; tags?: string }): Promise<Subnet[]> {
  return (await c.request<{ subnets: Subnet[] }>('network', 'GET', '/subnets', { query: { ...filter } })).body.subnets;
}

export async function createSubnet(c: OpenStackClient, s: SubnetCreate): Promise<Subnet> {
  return (await c.request<{ subnet: Subnet }>('network', 'POST', '/subnets', { body: { subnet: s } })).body.subnet;
}
