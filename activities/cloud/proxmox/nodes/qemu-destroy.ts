// DELETE /nodes/{node}/qemu/{vmid}: destroys a stopped VM and its disks (task qmdestroy).
import type { PveApi } from '../client.js';

export async function startDestroy(api: PveApi, node: string, vmid: number): Promise<string> {
  return String(await api.nodes.$(node).qemu.$(vmid).$delete({ purge: true, 'destroy-unreferenced-disks': true }));
}
