// GET /cluster/resources?type=vm: every guest of the cluster with its node, name, status and tags
// (PVE lists tags ';'-separated). The lookup a retried clone starts from.
import type { PveApi } from '../client.js';
import type { PveVm } from '../context.js';

interface Resource { type?: string; vmid?: number; node?: string; name?: string; status?: string; tags?: string; template?: number | boolean; lock?: string }

export async function listVms(api: PveApi): Promise<PveVm[]> {
  const list = (await api.cluster.resources.$get({ type: 'vm' })) as unknown as Resource[];
  return list.filter((r) => r.type === 'qemu' && typeof r.vmid === 'number').map((r) => ({
    vmid: r.vmid as number, node: r.node ?? '', name: r.name ?? '', status: r.status ?? 'unknown',
    tags: (r.tags ?? '').split(/[;, ]+/).filter(Boolean), template: Boolean(r.template), ...(r.lock ? { lock: r.lock } : {}),
  }));
}
