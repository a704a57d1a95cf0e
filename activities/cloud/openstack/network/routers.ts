// Neutron routers: GET/POST /v2.0/routers with an external gateway, and
// PUT /v2.0/routers/{id}/add_router_interface to plug the cluster's subnet in (needed for
// floating IPs and for the hosts' way out).
import type { OpenStackClient } from '../client.js';

export interface Router { id: string; name: string; status: string; tags: string[]; external_gateway_info: { network_id: string; enable_snat?: boolean } | null }
export interface RouterCreate { name: string; description?: string; external_gateway_info?: { network_id: string } }
export interface RouterInterface { id: string; subnet_id: string; port_id: string; subnet_ids: string[] }

export async function listRouters(c: OpenStackClient, filter: { name?: string; tags?: string }): Promise<Router[]> {
  return (await c.request<{ routers: Router[] }>('network', 'GET', '/routers', { query: { ...filter } })).body.routers;
}

export async function createRouter(c: OpenStackClient, r: RouterCreate): Promise<Router> {
  return (await c.request<{ router: Router }>('network', 'POST', '/routers', { body: { router: r } })).body.router;
}

export async function setRouterGateway(c: OpenStackClient, id: string, networkId: string): Promise<Router> {
  return (await c.request<{ router: Router }>('network', 'PUT', `/routers/${encodeURIComponent(id)}`, { body: { router: { external_gateway_info: { network_id: networkId } } } })).body.router;
}

export async function addRouterInterface(c: OpenStackClient, id: string, subnetId: string): Promise<RouterInterface> {
  return (await c.request<RouterInterface>('network', 'PUT', `/routers/${encodeURIComponent(id)}/add_router_interface`, { body: { subnet_id: subnetId } })).body;
}
