// SIMULATED lab: the bridge between a fake cloud and the netns lab. When the fake starts a
// machine (OpenStack: a server going BUILD→ACTIVE, or started again), a bare lab node comes up at
// the machine's fixed address with the host key of its cloud-init user data, root's keys from the
// cloud's key pair and a forward from its public address (a floating IP in the lab's loopback
// range); when the fake deletes or stops it, the node goes. Provider-neutral: a fake hands in what
// booted as a CloudMachine; the host phase then runs on real sshd there.
import { MachineLab } from '../netns/machines.js';
import { readCloudConfig } from './user-data.js';
import type { NetnsLayout } from '../netns/topology.js';

/** What booted, as any fake cloud describes it. */
export interface CloudMachine {
  /** The cloud's id and name, for messages and to find the node again at stop. */
  id: string;
  cloudName: string;
  userData: string | null;
  /** IPv4 addresses of its NICs; the one on the lab LAN is the node's. */
  fixedIps: string[];
  authorizedKeys: string[];
  publicAddresses: string[];
}

export interface CloudNodeBridge {
  lab: MachineLab;
  started(m: CloudMachine): Promise<void>;
  stopped(m: { id: string; cloudName: string }): Promise<void>;
  /** Cloud id → node name, of the machines running now. */
  running(): Map<string, string>;
}

/**
 * `entryPerMachine`: every machine gets the public address <loopback>.<host part of its address>
 * (a cloud without floating IPs, Proxmox VE: as if this machine sat on the VMs' network);
 * otherwise only the public addresses the cloud gave (floating IPs) lead in.
 */
export function cloudNodeBridge(lab: MachineLab, o: { entryPerMachine?: boolean } = {}): CloudNodeBridge {
  // The node of each cloud machine: a delete names the server, cloud-init named the node.
  const nodes = new Map<string, string>();
  const lanPrefix = `10.77.${lab.layout.lan}.`;
  const loopbackPrefix = `${lab.layout.loopback}.`;
  return {
    lab,
    async started(m) {
      const what = `machine ${m.cloudName} (${m.id})`;
      const seen = readCloudConfig(m.userData, what);
      const address = m.fixedIps.find((ip) => ip.startsWith(lanPrefix));
      if (!address) throw new Error(`${what}: none of its addresses (${m.fixedIps.join(', ') || 'none'}) is on the lab LAN ${lanPrefix}0/24`);
      const publicAddress = o.entryPerMachine ? `${loopbackPrefix}${address.slice(lanPrefix.length)}` : m.publicAddresses.find((ip) => ip.startsWith(loopbackPrefix));
      nodes.set(m.id, seen.hostname);
      await lab.start({ name: seen.hostname, address, hostKey: seen.hostKey, authorizedKeys: m.authorizedKeys, ...(publicAddress ? { publicAddress } : {}) });
    },
    async stopped(m) {
      const name = nodes.get(m.id);
      if (!name) return; // never booted (a build that failed), or stopped already
      await lab.stop(name);
      nodes.delete(m.id);
    },
    running: () => new Map(nodes),
  };
}

/** A fake cloud with the lab behind it: the fake, its machines' lab, the bridge between them. */
export interface CloudLab<F extends { close(): Promise<void> }> {
  fake: F;
  lab: MachineLab;
  bridge: CloudNodeBridge;
  /** The fake closed, then every lab node and the LAN gone. */
  close(): Promise<void>;
}

/** The lab's LAN up first, then the fake `start` makes with the bridge as its machine hooks; a fake that fails to start takes the LAN down. */
export async function startCloudLab<F extends { close(): Promise<void> }>(o: { dir: string; layout: NetnsLayout; apiPort?: number; entryPerMachine?: boolean },
  start: (bridge: CloudNodeBridge) => Promise<F>): Promise<CloudLab<F>> {
  const lab = new MachineLab({ dir: o.dir, layout: o.layout, ...(o.apiPort ? { apiPort: o.apiPort } : {}) });
  await lab.up();
  const bridge = cloudNodeBridge(lab, { entryPerMachine: o.entryPerMachine ?? false });
  let fake: F;
  try {
    fake = await start(bridge);
  } catch (e) {
    await lab.down().catch(() => undefined);
    throw e;
  }
  return {
    fake, lab, bridge,
    async close() {
      await fake.close();
      await lab.down();
    },
  };
}
