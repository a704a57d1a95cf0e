// GET and PUT /nodes/{node}/qemu/{vmid}/config (PUT applies at once, no task): the VM's options.
import type { PveApi } from '../client.js';

export type VmConfig = Record<string, string | number>;

export async function getConfig(api: PveApi, node: string, vmid: number): Promise<VmConfig> {
  return (await api.nodes.$(node).qemu.$(vmid).config.$get()) as unknown as VmConfig;
}

export async function putConfig(api: PveApi, node: string, vmid: number, values: VmConfig): Promise<void> {
  await api.nodes.$(node).qemu.$(vmid).config.$put(values as never);
}

/** The size in GiB of a disk line such as "ceph-vm:vm-501-disk-0,size=8G". */
export function diskSizeGiB(line: string | number | undefined): number | undefined {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)/.exec(String(line ?? ''));
  if (!m) return undefined;
  const f = { K: 1 / 1024 ** 2, M: 1 / 1024, G: 1, T: 1024, '': 1 / 1024 ** 3 }[m[2] as 'K' | 'M' | 'G' | 'T' | ''];
  return Number(m[1]) * f;
}
