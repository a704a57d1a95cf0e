// Neutron networks: GET/POST /v2.0/networks (the cluster's private network, and the external
// network floating IPs and the router's gateway come from, looked up by name).
import type { OpenStackClient } from '../client.js';

export interface Network { id: string; name: string; status: string; subnets: string[]; tags: string[]; 'router:external': boolean; project_id: string; port_security_enabled?: boolean }
export interface NetworkCreate { name: string; description?: string; admin_state_up?: boolean; port_security_enabled?: boolean }
export interface NetworkFilter { name?: string; tags?: string; 'router:external'?: 'true' | 'false'; id?: string }

export async function listNetworks(c: OpenStackClient, filter: NetworkFilter): Promise<Network[]> {
  return (await c.request<{ networks: Network[] }>('network', 'GET', '/networks', { query: { ...filter } })).body.networks;
}

export async function createNetwork(c: OpenStackClient, n: NetworkCreate): Promise<Network> {
  return (await c.request<{ network: Network }>('network', 'POST', '/networks', { body: { network: n } })).body.network;
}
