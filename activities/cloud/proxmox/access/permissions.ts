// GET /access/permissions?path=P: the privileges the caller (for a token with privilege separation:
// the token's, not its user's) holds on a path, inheritance applied. Checked before anything is
// made, so a missing privilege is named up front instead of failing a clone half-way.
import type { PveApi } from '../client.js';

export async function privilegesOn(api: PveApi, path: string): Promise<Set<string>> {
  const r = (await api.access.permissions.$get({ path })) as unknown as Record<string, Record<string, number>>;
  return new Set(Object.entries(r[path] ?? {}).filter(([, v]) => Boolean(v)).map(([k]) => k));
}

/** The privileges provisioning needs, per ACL path. */
export function requiredPrivileges(o: { templateVmid: number; storage: string; snippetStorage?: string }): { path: string; privileges: string[] }[] {
  return [
    { path: `/vms/${o.templateVmid}`, privileges: ['VM.Clone', 'VM.Audit'] },
    { path: '/vms', privileges: ['VM.Allocate', 'VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.PowerMgmt', 'VM.Monitor', 'VM.Audit'] },
    { path: `/storage/${o.storage}`, privileges: ['Datastore.AllocateSpace'] },
    // The capacity check reads each node's memory and CPUs (GET /nodes/{node}/status).
    { path: '/nodes', privileges: ['Sys.Audit'] },
    ...(o.snippetStorage ? [{ path: `/storage/${o.snippetStorage}`, privileges: ['Datastore.Audit'] }] : []),
  ];
}

export async function missingPrivileges(api: PveApi, need: { path: string; privileges: string[] }[]): Promise<{ path: string; privilege: string }[]> {
  const missing: { path: string; privilege: string }[] = [];
  for (const n of need) {
    const have = await privilegesOn(api, n.path);
    for (const p of n.privileges) if (!have.has(p)) missing.push({ path: n.path, privilege: p });
  }
  return missing;
}
