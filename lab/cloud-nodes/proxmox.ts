// SIMULATED lab: the Proxmox VE fake with real lab nodes behind its VMs (bridge.ts). A VM's node
// comes up when its qmstart task ends (the guest agent answers only once the node's sshd does),
// with the host key of its cicustom vendor snippet and root's keys from its `sshkeys`; it goes when
// the VM is stopped. Proxmox VMs have no floating IPs: each node gets <loopback>.<host part> as
// its way in from this machine.
import { startProxmoxFake, type ProxmoxFake } from '../fakes/proxmox/index.js';
import type { ProxmoxFakeOptions, ProxmoxMachineHooks } from '../fakes/proxmox/state.js';
import type { NetnsLayout } from '../netns/topology.js';
import { startCloudLab, type CloudLab, type CloudNodeBridge } from './bridge.js';

export function proxmoxMachineHooks(bridge: CloudNodeBridge): ProxmoxMachineHooks {
  return {
    started: (m) => bridge.started({ id: String(m.vmid), cloudName: m.name, userData: m.userData, fixedIps: m.fixedIps, authorizedKeys: m.authorizedKeys, publicAddresses: [] }),
    stopped: (m) => bridge.stopped({ id: String(m.vmid), cloudName: m.name }),
  };
}

export type ProxmoxLab = CloudLab<ProxmoxFake>;

/** The lab's LAN up, then the Proxmox fake with the bridge as its machine hooks. */
export function startProxmoxLab(o: { dir: string; layout: NetnsLayout; apiPort?: number; fake?: Omit<ProxmoxFakeOptions, 'machines'> }): Promise<ProxmoxLab> {
  return startCloudLab({ ...o, entryPerMachine: true }, (bridge) => startProxmoxFake({ ...o.fake, machines: proxmoxMachineHooks(bridge) }));
}
