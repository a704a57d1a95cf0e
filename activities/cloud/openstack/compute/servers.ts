// Nova servers: POST /servers (boot on pre-made ports, cloud-init user data, tags, a server group
// as scheduler hint), GET /servers/detail?name=^…$ (Nova's name filter is a regular expression:
// anchor and escape it), GET /servers/{id} (status, fault).
import type { OpenStackClient } from '../client.js';

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF' | 'DELETED' | 'SOFT_DELETED' | 'REBUILD' | 'REBOOT' | 'HARD_REBOOT' | 'UNKNOWN' | string;
export interface Server {
  id: string; name: string; status: ServerStatus; tags?: string[]; metadata: Record<string, string>;
  addresses: Record<string, { addr: string; 'OS-EXT-IPS:type'?: string }[]>;
  fault?: { code: number; message: string; created?: string };
  'OS-EXT-STS:task_state'?: string | null;
}
export interface ServerCreate {
  name: string; imageRef: string; flavorRef: string; key_name?: string; user_data?: string;
  networks: { port: string }[]; metadata?: Record<string, string>; tags?: string[];
}

/** `^name$` with the regex characters escaped, so `a.b` does not also match `axb`. */
export function exactNameFilter(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

export async function listServersByName(c: OpenStackClient, name: string): Promise<Server[]> {
  const all = (await c.request<{ servers: Server[] }>('compute', 'GET', '/servers/detail', { query: { name: exactNameFilter(name) } })).body.servers;
  return all.filter((s) => s.name === name);
}

export async function createServer(c: OpenStackClient, s: ServerCreate, groupId?: string): Promise<{ id: string }> {
  const body = { server: s, ...(groupId ? { 'os:scheduler_hints': { group: groupId } } : {}) };
  return (await c.request<{ server: { id: string } }>('compute', 'POST', '/servers', { body })).body.server;
}

export async function getServer(c: OpenStackClient, id: string): Promise<Server | undefined> {
  return (await c.request<{ server: Server } | undefined>('compute', 'GET', `/servers/${encodeURIComponent(id)}`, { allowNotFound: true })).body?.server;
}

/** Servers carrying every one of these tags (microversion 2.26+). */
export async function listServersByTag(c: OpenStackClient, tag: string): Promise<Server[]> {
  return (await c.request<{ servers: Server[] }>('compute', 'GET', '/servers/detail', { query: { tags: tag } })).body.servers;
}

/** DELETE /servers/{id}: Nova answers 204 and deletes asynchronously; a 404 means it is gone already. */
export async function deleteServer(c: OpenStackClient, id: string): Promise<void> {
  await c.request('compute', 'DELETE', `/servers/${encodeURIComponent(id)}`, { allowNotFound: true });
}
