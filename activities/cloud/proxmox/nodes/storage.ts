// GET /nodes/{node}/storage: the storages a node sees, with the content types each holds.
import type { PveApi } from '../client.js';

export interface NodeStorage { storage: string; content: string[]; active: boolean; enabled: boolean }

export async function nodeStorages(api: PveApi, node: string): Promise<NodeStorage[]> {
  const list = (await api.nodes.$(node).storage.$get({})) as unknown as { storage: string; content?: string; active?: number; enabled?: number }[];
  return list.map((s) => ({ storage: s.storage, content: (s.content ?? '').split(',').filter(Boolean), active: s.active !== 0, enabled: s.enabled !== 0 }));
}

export interface StorageSpace { total: number; avail: number; shared: boolean; active: boolean }

/** GET /nodes/{node}/storage/{storage}/status: its size and free space in bytes, and whether it is shared. */
export async function storageSpace(api: PveApi, node: string, storage: string): Promise<StorageSpace> {
  const s = (await api.nodes.$(node).storage.$(storage).status.$get()) as { total?: number; avail?: number; shared?: number | boolean; active?: number | boolean };
  return { total: Number(s.total ?? 0), avail: Number(s.avail ?? 0), shared: Boolean(s.shared), active: s.active === undefined ? true : Boolean(s.active) };
}
