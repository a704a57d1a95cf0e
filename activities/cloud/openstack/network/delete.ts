// Neutron reads and deletes by id for deprovision: GET/DELETE /v2.0/{collection}/{id}, and a
// router's interfaces and gateway taken off first (Neutron refuses to delete a router that has
// them). A 404 answers "already gone": deleting is idempotent.
import type { OpenStackClient } from '../client.js';

export type DeletableCollection = 'networks' | 'subnets' | 'routers' | 'ports' | 'security-groups' | 'floatingips';

const KEY: Record<DeletableCollection, string> = { networks: 'network', subnets: 'subnet', routers: 'router', ports: 'port', 'security-groups': 'security_group', floatingips: 'floatingip' };

export interface Tagged { id: string; name?: string; tags?: string[]; description?: string }

export async function getNeutron(c: OpenStackClient, collection: DeletableCollection, id: string): Promise<Tagged | undefined> {
  const r = await c.request<Record<string, Tagged> | undefined>('network', 'GET', `/${collection}/${encodeURIComponent(id)}`, { allowNotFound: true });
  return r.body?.[KEY[collection]];
}

export async function deleteNeutron(c: OpenStackClient, collection: DeletableCollection, id: string): Promise<void> {
  await c.request('network', 'DELETE', `/${collection}/${encodeURIComponent(id)}`, { allowNotFound: true });
}

export async function removeRouterInterface(c: OpenStackClient, routerId: string, subnetId: string): Promise<void> {
  await c.request('network', 'PUT', `/routers/${encodeURIComponent(routerId)}/remove_router_interface`, { body: { subnet_id: subnetId }, allowNotFound: true });
}

export async function clearRouterGateway(c: OpenStackClient, routerId: string): Promise<void> {
  await c.request('network', 'PUT', `/routers/${encodeURIComponent(routerId)}`, { body: { router: { external_gateway_info: null } } });
}
