// Nova server groups: GET/POST /os-server-groups (microversion 2.64: one `policy`). One group per
// role with anti-affinity, so two masters (or two etcd members, or the two gateways) never share
// a hypervisor.
import type { OpenStackClient } from '../client.js';

export type ServerGroupPolicy = 'anti-affinity' | 'soft-anti-affinity' | 'affinity' | 'soft-affinity';
export interface ServerGroup { id: string; name: string; policy?: ServerGroupPolicy; policies?: ServerGroupPolicy[]; members: string[] }

export async function listServerGroups(c: OpenStackClient): Promise<ServerGroup[]> {
  return (await c.request<{ server_groups: ServerGroup[] }>('compute', 'GET', '/os-server-groups')).body.server_groups;
}

export async function createServerGroup(c: OpenStackClient, name: string, policy: ServerGroupPolicy): Promise<ServerGroup> {
  return (await c.request<{ server_group: ServerGroup }>('compute', 'POST', '/os-server-groups', { body: { server_group: { name, policy } } })).body.server_group;
}

export async function deleteServerGroup(c: OpenStackClient, id: string): Promise<void> {
  await c.request('compute', 'DELETE', `/os-server-groups/${encodeURIComponent(id)}`, { allowNotFound: true });
}
