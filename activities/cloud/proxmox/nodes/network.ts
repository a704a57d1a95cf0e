// GET /nodes/{node}/network?type=any_bridge: the bridges a VM's NIC can attach to on that node.
import type { PveApi } from '../client.js';

export async function nodeBridges(api: PveApi, node: string): Promise<string[]> {
  const list = (await api.nodes.$(node).network.$get({ type: 'any_bridge' })) as unknown as { iface: string }[];
  return list.map((i) => i.iface);
}
