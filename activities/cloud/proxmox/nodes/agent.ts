// GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces: the guest's addresses as the QEMU
// guest agent reports them (500 until the agent inside the guest answers).
import type { PveApi } from '../client.js';

interface Iface { name?: string; 'ip-addresses'?: { 'ip-address'?: string; 'ip-address-type'?: string }[] }

export async function guestIPv4(api: PveApi, node: string, vmid: number): Promise<string[]> {
  const r = (await api.nodes.$(node).qemu.$(vmid).agent['network-get-interfaces'].$get()) as unknown as { result?: Iface[] };
  return (r.result ?? []).filter((i) => i.name !== 'lo').flatMap((i) => (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => a['ip-address'] ?? ''));
}
