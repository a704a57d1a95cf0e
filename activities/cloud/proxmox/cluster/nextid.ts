// GET /cluster/nextid?vmid=N: "is this VMID free?" (PVE answers the ID, as a STRING, or 400 "VM N
// already exists"). Not a reservation: two clones can still race for one ID (qemu-clone.ts).
import { parseEngineError } from '../errors.js';
import type { PveApi } from '../client.js';

export async function isVmidFree(api: PveApi, vmid: number): Promise<boolean> {
  try {
    const answer: unknown = await api.cluster.nextid.$get({ vmid });
    return Number(answer) === vmid;
  } catch (err) {
    const e = parseEngineError(err);
    if (e?.status === 400 && /already exists/i.test(JSON.stringify(e.errors ?? {}) + e.reason)) return false;
    throw err;
  }
}
