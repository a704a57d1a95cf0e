// GET /nodes/{node}/storage: the storages a node sees, with the content types each holds.
import type { PveApi } from '../client.js';

export interface NodeStorage { storage: string; content: string[]; active: boolean; enabled: boolean }

export async function nodeStorages(api: PveApi, node: string): Promise<NodeStorage[]> {
  const list = (await api.nodes.$(node).storage.$get({})) as unknown as { storage: string; content?: string; active?: number; enabled?: number }[];
  return list.map((s) => ({ storage: s.storage, content: (s.content ?? '').split(',').filter(Boolean), active: s.active !== 0, enabled: s.enabled !== 0 }));
}
