// Neutron ports: GET/POST/PUT /v2.0/ports. Each host gets a port with its inventory address before
// its server exists (Nova boots on the port), and the VIP is a port nobody boots on: it reserves
// the address, and each gateway's port allows it in allowed_address_pairs so keepalived may move it.
import type { OpenStackClient } from '../client.js';

export interface FixedIp { subnet_id: string; ip_address: string }
export interface AddressPair { ip_address: string; mac_address?: string }
export interface Port {
  id: string; name: string; network_id: string; status: string; mac_address: string; fixed_ips: FixedIp[]; device_id: string; device_owner: string;
  security_groups: string[]; allowed_address_pairs: AddressPair[]; port_security_enabled: boolean; tags: string[];
}
export interface PortCreate {
  name: string; network_id: string; description?: string; fixed_ips: { subnet_id: string; ip_address: string }[]; security_groups?: string[];
  allowed_address_pairs?: AddressPair[]; port_security_enabled?: boolean;
}
export interface PortFilter { name?: string; network_id?: string; device_id?: string; tags?: string; fixed_ips?: string[] }

export async function listPorts(c: OpenStackClient, filter: PortFilter): Promise<Port[]> {
  return (await c.request<{ ports: Port[] }>('network', 'GET', '/ports', { query: { ...filter } })).body.ports;
}

export async function createPort(c: OpenStackClient, p: PortCreate): Promise<Port> {
  return (await c.request<{ port: Port }>('network', 'POST', '/ports', { body: { port: p } })).body.port;
}

export async function updatePort(c: OpenStackClient, id: string, p: Partial<Pick<PortCreate, 'security_groups' | 'allowed_address_pairs'>>): Promise<Port> {
  return (await c.request<{ port: Port }>('network', 'PUT', `/ports/${encodeURIComponent(id)}`, { body: { port: p } })).body.port;
}
