// Bare netns lab nodes (`bare: true`): what a freshly booted cloud image gives the provisioning
// host phase, as far as this machine allows. Real sshd (started by the lab), Debian's real
// haproxy and keepalived programs on the machine, and SIMULATED stand-ins where the lab has no
// package mirror and no container runtime: apt-get and apt-mark (lab/packages/apt.ts) and the
// systemctl of every lab node (lab/systemctl-standin.sh). Nothing is configured or started here:
// the host phase does that over SSH.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptShim } from '../packages/apt.js';

/**
 * kubeadm phases the SIMULATED lab skips: preflight checks a container runtime and pulls images
 * the lab does not have; kube-proxy would be a DaemonSet whose pods no kubelet here can run.
 */
export const BARE_SKIP_PHASES = ['preflight', 'addon/kube-proxy'] as const;

/**
 * kubernetes.addonRollout of the bare lab's inventories: the SIMULATED kubelet runs the addons'
 * pods (lab/kubelet/runtime: flannel's reported Running after strict checks, the real
 * local-path-provisioner as a process), so the host phase waits for their rollout as in
 * production. MOORING_LAB_ADDON_PODS=0 skips that wait (none-simulated), e.g. to bisect a failure.
 */
export const labAddonRollout = (): 'wait' | 'none-simulated' => (process.env.MOORING_LAB_ADDON_PODS === '0' ? 'none-simulated' : 'wait');

/** Puts the SIMULATED apt-get and apt-mark into the node's /usr/local/sbin (root: its filesystem view). */
export function installBareStandins(root: string): void {
  const sbin = join(root, '/usr/local/sbin');
  mkdirSync(sbin, { recursive: true });
  const main = fileURLToPath(new URL('../packages/apt.js', import.meta.url));
  for (const tool of ['apt-get', 'apt-mark'] as const) {
    const file = join(sbin, tool);
    writeFileSync(`${file}.tmp`, aptShim(tool, main));
    chmodSync(`${file}.tmp`, 0o755);
    renameSync(`${file}.tmp`, file);
  }
}
