// Network namespaces, the lab bridge and one veth per node, made with iproute2. The bridge lives
// in a namespace of its own (the lab's LAN), never in the machine's: every link and address the
// lab makes is inside a namespace it made, and deleting those namespaces removes all of it.
import { existsSync } from 'node:fs';
import { execFileP } from '../processes.js';

const ip = async (...args: string[]): Promise<string> => (await execFileP('ip', args)).stdout;

export const nsPath = (ns: string) => `/run/netns/${ns}`;

export function nsExists(ns: string): boolean {
  return existsSync(nsPath(ns));
}

/** The LAN: a namespace holding the bridge, with the bridge's own address (10.77.L.1/24). */
export async function ensureLan(ns: string, bridge: string, cidr: string): Promise<void> {
  if (!nsExists(ns)) await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  if (!(await ip('-n', ns, '-o', 'link', 'show')).includes(` ${bridge}:`)) {
    await ip('-n', ns, 'link', 'add', bridge, 'type', 'bridge');
    await ip('-n', ns, 'addr', 'add', cidr, 'dev', bridge);
  }
  await ip('-n', ns, 'link', 'set', bridge, 'up');
}

/**
 * A node: its namespace with lo up and eth0 (CIDR), the other end of the veth in the LAN
 * namespace on the bridge. The veth is made inside the LAN namespace and its node end moved
 * straight into the node's, so no link ever appears in the machine's namespace.
 */
export async function ensureNode(ns: string, lan: string, bridge: string, port: string, cidr: string, sysctls: Record<string, string> = {}): Promise<void> {
  if (!nsExists(ns)) await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  if (!(await ip('-n', ns, '-o', 'link', 'show')).includes(' eth0@')) {
    // A port left from a half-made node (its namespace deleted since) would block the name.
    await ip('-n', lan, 'link', 'del', port).catch(() => undefined);
    await ip('-n', lan, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0');
  }
  await ip('-n', lan, 'link', 'set', port, 'master', bridge, 'up');
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  for (const [key, value] of Object.entries(sysctls)) await execFileP('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Pids of every process whose network namespace is `ns` (what power-off and down kill). */
export async function nsPids(ns: string): Promise<number[]> {
  if (!nsExists(ns)) return [];
  return (await ip('netns', 'pids', ns)).split('\n').filter(Boolean).map(Number);
}

export async function deleteNs(ns: string): Promise<void> {
  if (nsExists(ns)) await ip('netns', 'del', ns);
}

/** The link loses carrier (a powered-off node); `runtimeAddress`, if present on it, is removed. */
export async function setLinkDown(ns: string, dev: string, runtimeAddress: string): Promise<void> {
  if (!nsExists(ns)) return;
  await ip('-n', ns, 'link', 'set', dev, 'down');
  await ip('-n', ns, 'addr', 'del', runtimeAddress, 'dev', dev).catch(() => undefined);
}

/** IPv4 addresses on `dev` in `ns`, e.g. to see which gateway holds the VIP. */
export async function addressesIn(ns: string, dev = 'eth0'): Promise<string[]> {
  if (!nsExists(ns)) return [];
  const out = await ip('-n', ns, '-o', '-4', 'addr', 'show', 'dev', dev).catch(() => '');
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}

/** `command` started inside the namespace `ns` (argv for spawn). */
export function inNs(ns: string, command: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...command];
}
