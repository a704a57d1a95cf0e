// Each lab node sees its own /etc/etcd, /etc/kubernetes, /var/lib, /var/backups, /usr/local/sbin
// (holding the SIMULATED systemctl), the /etc directories the host phase writes (/etc/systemd/system included)
// and the addons' /etc/cni and /opt/local-path-provisioner: its sshd runs
// in a mount namespace of its own with the node's directories bound over those paths, so the
// commands Mooring sends use production paths verbatim. SIMULATED host isolation.
import { mkdirSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../activities/ssh/quote.js';

/**
 * Production paths that each node has its own copy of. /var/lib rather than /var/lib/etcd: a
 * mount point cannot be renamed, and the recovery runbooks move the data dir aside with `mv`.
 */
export const NODE_PATHS = ['/etc/etcd', '/etc/kubernetes', '/var/lib', '/var/backups', '/usr/local/sbin',
  // What the host phase writes (bare netns lab, docs/provisioning.md): never the machine's own files.
  '/etc/haproxy', '/etc/keepalived', '/etc/sysctl.d', '/etc/modules-load.d', '/etc/default', '/etc/apt',
  // The etcd unit the host phase writes for an external etcd (the SIMULATED systemctl runs its ExecStart).
  '/etc/systemd/system',
  // What the addons' pods write on their node (lab/kubelet/runtime/): flannel's install-cni the CNI
  // config, local-path-provisioner's helper pods the volumes' directories.
  '/etc/cni', '/opt/local-path-provisioner'] as const;

export const nodeRoot = (nodeDir: string) => join(nodeDir, 'root');

/** Creates the node's directories and installs the SIMULATED systemctl and crictl. */
export function prepareNodeView(nodeDir: string): void {
  const root = nodeRoot(nodeDir);
  for (const p of NODE_PATHS) mkdirSync(join(root, p), { recursive: true });
  mkdirSync(join(root, '/var/lib/etcd'), { recursive: true, mode: 0o700 });
  mkdirSync(join(root, '/var/backups/etcd'), { recursive: true });
  mkdirSync(join(root, '/etc/etcd/ssl'), { recursive: true });
  for (const tool of ['systemctl', 'crictl']) {
    const installed = join(root, '/usr/local/sbin', tool);
    copyFileSync(fileURLToPath(new URL(`../../lab/${tool}-standin.sh`, import.meta.url)), installed);
    chmodSync(installed, 0o755);
  }
  // Mount points must exist on the host; they stay empty there.
  for (const p of NODE_PATHS) mkdirSync(p, { recursive: true });
}

/** `unshare` arguments that start `command` inside the node's own filesystem view. */
export function inNodeView(nodeDir: string, command: string[]): { cmd: string; args: string[] } {
  const root = nodeRoot(nodeDir);
  const binds = NODE_PATHS.map((p) => `mount --bind ${shellQuote(join(root, p))} ${shellQuote(p)}`).join(' && ');
  return { cmd: 'unshare', args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', `${binds} && exec ${command.map(shellQuote).join(' ')}`] };
}
