// SIMULATED lab: the OpenStack fake with real lab nodes behind its servers (bridge.ts). The fake's
// external network is the lab's loopback range, with a 1:1 address plan: a gateway's floating IP is
// <loopback>.<host part of its fixed IP> (10.77.15.2 → 127.85.0.2), a forward into its namespace,
// as gw-1's "public address" is in the netns lab; the router's gateway takes .200 and up.
import { startOpenStackFake, type OpenStackFake, type OpenStackFakeOptions } from '../fakes/openstack/index.js';
import type { ExternalNetworkOptions, MachineHooks } from '../fakes/openstack/state.js';
import type { NetnsLayout } from '../netns/topology.js';
import { startCloudLab, type CloudLab, type CloudNodeBridge } from './bridge.js';

export function labExternalNetwork(layout: NetnsLayout, name = 'public'): ExternalNetworkOptions {
  return { name, cidr: `${layout.loopback}.0/24`, allocationPool: { start: `${layout.loopback}.200`, end: `${layout.loopback}.250` }, hostPartFromFixedIp: true };
}

export function openStackMachineHooks(bridge: CloudNodeBridge): MachineHooks {
  return {
    started: (m) => bridge.started({ id: m.serverId, cloudName: m.serverName, userData: m.userData, fixedIps: m.fixedIps, authorizedKeys: m.authorizedKeys, publicAddresses: m.publicAddresses }),
    stopped: (m) => bridge.stopped({ id: m.serverId, cloudName: m.serverName }),
  };
}

export type OpenStackLab = CloudLab<OpenStackFake>;

/** The lab's LAN up, then the fake with the bridge as its machine hooks (options as startOpenStackFake's, external network the lab's). */
export function startOpenStackLab(o: { dir: string; layout: NetnsLayout; apiPort?: number; externalNetworkName?: string; fake?: Omit<OpenStackFakeOptions, 'machines' | 'externalNetwork'> }): Promise<OpenStackLab> {
  return startCloudLab(o, (bridge) => startOpenStackFake({ ...o.fake, externalNetwork: labExternalNetwork(o.layout, o.externalNetworkName), machines: openStackMachineHooks(bridge) }));
}
