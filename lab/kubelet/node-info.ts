// SIMULATED kubelet (lab only): what the kubelet reports about its node, read from the node where
// the machine can tell (addresses of the node's own network namespace, kernel, CPUs, memory, the
// disk under the state dir, machine and boot IDs) and from --kubelet-version for the version a
// lab node was "installed" at. The container runtime version names the stand-in.
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, networkInterfaces, release, totalmem } from 'node:os';

export const RUNTIME_VERSION = 'mooring-simulated://0.1.0';

/** The first non-loopback IPv4 of the namespace the kubelet runs in (or --node-ip). */
export function nodeAddress(explicit?: string): string | undefined {
  if (explicit) return explicit;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const readTrim = (p: string, fallback: string) => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return fallback;
  }
};

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTrim('/etc/os-release', ''));
  return m?.[1] ?? 'Linux';
}

function ephemeralStorage(stateDir: string): string {
  try {
    const s = statfsSync(stateDir);
    return `${Math.floor((s.blocks * s.bsize) / 1024)}Ki`;
  } catch {
    return '0';
  }
}

export interface NodeFacts { address?: string; nodeName: string; kubeletVersion: string; stateDir: string }

/** The Node's status as the kubelet posts it (conditions are added by the caller). */
export function nodeStatusFacts(f: NodeFacts) {
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
    'ephemeral-storage': ephemeralStorage(f.stateDir),
    'hugepages-2Mi': '0',
  };
  const machineID = readTrim('/etc/machine-id', '0'.repeat(32));
  return {
    addresses: [...(f.address ? [{ type: 'InternalIP', address: f.address }] : []), { type: 'Hostname', address: f.nodeName }],
    capacity,
    allocatable: capacity,
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID,
      systemUUID: machineID,
      bootID: readTrim('/proc/sys/kernel/random/boot_id', ''),
      kernelVersion: release(),
      osImage: osImage(),
      containerRuntimeVersion: RUNTIME_VERSION,
      kubeletVersion: f.kubeletVersion,
      operatingSystem: 'linux',
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
  };
}
