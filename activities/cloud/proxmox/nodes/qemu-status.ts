// The power state of a VM: status/current, start and stop (both tasks).
import type { PveApi } from '../client.js';

export async function currentStatus(api: PveApi, node: string, vmid: number): Promise<{ status: string; lock?: string }> {
  return (await api.nodes.$(node).qemu.$(vmid).status.current.$get()) as unknown as { status: string; lock?: string };
}

export async function startVm(api: PveApi, node: string, vmid: number): Promise<string> {
  return String(await api.nodes.$(node).qemu.$(vmid).status.start.$post({}));
}

export async function stopVm(api: PveApi, node: string, vmid: number): Promise<string> {
  return String(await api.nodes.$(node).qemu.$(vmid).status.stop.$post({}));
}
