// GET /nodes/{node}/status: the node's memory (bytes) and CPU count (needs Sys.Audit on /nodes/{node}).
import type { PveApi } from '../client.js';

export interface NodeResources { memoryTotal: number; memoryFree: number; cpus: number }

export async function nodeResources(api: PveApi, node: string): Promise<NodeResources> {
  const s = (await api.nodes.$(node).status.$get()) as { memory?: { total?: number; free?: number; available?: number }; cpuinfo?: { cpus?: number } };
  // PVE 8.3+ also reports `available`; where both exist they agree (MemAvailable), `free` is the older name.
  return { memoryTotal: Number(s.memory?.total ?? 0), memoryFree: Number(s.memory?.available ?? s.memory?.free ?? 0), cpus: Number(s.cpuinfo?.cpus ?? 0) };
}
