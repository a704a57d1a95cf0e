// POST /nodes/{node}/qemu/{template}/clone: starts a clone task and answers its UPID. The new VM
// exists (locked "clone") as soon as the call returns; a clone that fails leaves none.
import type { PveApi } from '../client.js';

export interface CloneRequest { templateNode: string; templateVmid: number; newid: number; name: string; target: string; full: boolean; storage?: string; description?: string }

export async function startClone(api: PveApi, r: CloneRequest): Promise<string> {
  const params = { newid: r.newid, name: r.name, target: r.target, full: r.full, ...(r.full && r.storage ? { storage: r.storage } : {}), ...(r.description ? { description: r.description } : {}) };
  return String(await api.nodes.$(r.templateNode).qemu.$(r.templateVmid).clone.$post(params));
}
