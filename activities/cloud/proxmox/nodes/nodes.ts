// GET /nodes: the cluster's nodes and whether each is online (placement goes around the others).
import type { PveApi } from '../client.js';

export async function nodeStatus(api: PveApi): Promise<Map<string, string>> {
  const list = (await api.nodes.$get()) as unknown as { node: string; status?: string }[];
  return new Map(list.map((n) => [n.node, n.status ?? 'unknown']));
}
