// Read-only: the memory and CPUs of the nodes that get new VMs and, for full clones, the clone
// storage's free space as each of them sees it. Read right before the first clone (the
// inspection's numbers may be an approval old); the workflow judges them (plan/capacity.ts).
import { withProxmox } from '../client.js';
import type { ProxmoxCapacity, ProxmoxTarget } from '../context.js';
import { nodeResources } from '../nodes/status.js';
import { storageSpace } from '../nodes/storage.js';

export interface CapacityInput { target: ProxmoxTarget; nodes: string[]; storage?: string }

export async function readCapacity(i: CapacityInput): Promise<ProxmoxCapacity> {
  return withProxmox('reading the nodes\' free memory, CPUs and storage', i.target, async (api) => {
    const out: ProxmoxCapacity = { nodes: [], storages: [] };
    for (const node of i.nodes) {
      out.nodes.push({ node, ...(await nodeResources(api, node)) });
      if (i.storage) out.storages.push({ node, storage: i.storage, ...(await storageSpace(api, node, i.storage)) });
    }
    return out;
  });
}
