// PUT /nodes/{node}/qemu/{vmid}/resize: grows a disk. Since qemu-server 8 (PVE 8.0) it answers a
// task UPID; before, it resized synchronously and answered null. Shrinking is refused by PVE.
import type { PveApi } from '../client.js';

export async function startResize(api: PveApi, node: string, vmid: number, disk: string, sizeGiB: number): Promise<string | undefined> {
  const r: unknown = await api.nodes.$(node).qemu.$(vmid).resize.$put({ disk: disk as never, size: `${sizeGiB}G` });
  return typeof r === 'string' && r.startsWith('UPID:') ? r : undefined;
}
