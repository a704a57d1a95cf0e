// SIMULATED lab: what a cloud image's cloud-init would take from a machine's user data, read the
// way cloud-init reads it: `#cloud-config` YAML, `hostname`, and `ssh_keys.ed25519_private` /
// `ed25519_public` (the host key sshd must present). Nothing else of cloud-config is applied.
import { parse } from 'yaml';

export interface CloudConfigSeen {
  hostname: string;
  hostKey: { privateKey: string; publicKey: string };
}

/** The host name and ed25519 host key of a `#cloud-config` document; an error names what is missing. */
export function readCloudConfig(userData: string | null, what: string): CloudConfigSeen {
  if (userData === null) throw new Error(`${what}: no user data (the lab needs cloud-init's hostname and ssh_keys)`);
  if (!userData.startsWith('#cloud-config')) throw new Error(`${what}: user data is not a #cloud-config document`);
  let doc: unknown;
  try { doc = parse(userData); } catch (e) { throw new Error(`${what}: user data is not YAML: ${(e as Error).message}`); }
  const c = (doc ?? {}) as { hostname?: unknown; ssh_keys?: { ed25519_private?: unknown; ed25519_public?: unknown } };
  if (typeof c.hostname !== 'string' || c.hostname === '') throw new Error(`${what}: user data has no hostname`);
  const priv = c.ssh_keys?.ed25519_private;
  const pub = c.ssh_keys?.ed25519_public;
  if (typeof priv !== 'string' || !priv.includes('BEGIN OPENSSH PRIVATE KEY') || typeof pub !== 'string' || !pub.startsWith('ssh-ed25519 ')) {
    throw new Error(`${what}: user data has no ssh_keys.ed25519_private / ed25519_public pair`);
  }
  return { hostname: c.hostname, hostKey: { privateKey: priv.endsWith('\n') ? priv : `${priv}\n`, publicKey: pub.trim() } };
}
