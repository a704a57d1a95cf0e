// Neutron floating IPs: GET/POST /v2.0/floatingips. Allocated on the external network and pointed
// at a port in one call; the port is the idempotency key (one floating IP per port).
import type { OpenStackClient } from '../client.js';

export interface FloatingIp { id: string; floating_ip_address: string; floating_network_id: string; port_id: string | null; fixed_ip_address: string | null; status: string; description: string; tags: string[] }
export interface FloatingIpCreate { floating_network_id: string; port_id?: string; fixed_ip_address?: string; description?: string }

export async function listFloatingIps(c: OpenStackClient, filter: { port_id?: string | string[]; tags?: string; floating_network_id?: string }): Promise<FloatingIp[]> {
  return (await c.request<{ floatingips: FloatingIp[] }>('network', 'GET', '/floatingips', { query: { ...filter } })).body.floatingips;
}

export async function createFloatingIp(c: OpenStackClient, f: FloatingIpCreate): Promise<FloatingIp> {
  return (await c.request<{ floatingip: FloatingIp }>('network', 'POST', '/floatingips', { body: { floatingip: f } })).body.floatingip;
}
