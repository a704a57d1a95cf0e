// What every Kubernetes node needs before kubeadm (the Ansible role kubernetes-prerequisites,
// seed 002's "Prepare the nodes"): swap off (now and in /etc/fstab), the overlay and br_netfilter
// modules (now and at boot), the bridge/forwarding sysctls, containerd, and kubelet, kubeadm and
// kubectl from the Kubernetes package repository at exactly the inventory's release, held there.
// Each part checks before it acts, so a prepared host reports nothing changed.
import { sh } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';
import { CHANGED, ensureRemoteFile, runChecked } from './remote-file.js';

export const KUBERNETES_MODULES = ['overlay', 'br_netfilter'] as const;
/**
 * How to see that a module's feature is there, loaded or built into the kernel (a built-in module
 * is in neither /proc/modules nor, without parameters, /sys/module): containerd's overlayfs, and
 * the bridge netfilter switches the sysctls below set.
 */
const MODULE_PRESENT: Record<(typeof KUBERNETES_MODULES)[number], string> = {
  overlay: 'grep -qw overlay /proc/filesystems',
  br_netfilter: '[ -d /proc/sys/net/bridge ]',
};
export const KUBERNETES_SYSCTLS = { 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '1', 'net.ipv4.ip_forward': '1' } as const;
export const MODULES_FILE = '/etc/modules-load.d/kubernetes.conf';
export const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf';
export const APT_SOURCE = '/etc/apt/sources.list.d/kubernetes.list';
export const APT_KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg';
export const KUBELET_DEFAULTS = '/etc/default/kubelet';
export const KUBERNETES_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/** pkgs.k8s.io has one repository per minor release. */
export const aptSourceLine = (version: string) => {
  const minor = /^(\d+\.\d+)\.\d+$/.exec(version)?.[1];
  if (!minor) throw new Error(`kubernetes.version: ${JSON.stringify(version)} is not MAJOR.MINOR.PATCH`);
  return `deb [signed-by=${APT_KEYRING}] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /\n`;
};

/** `apt-get install` arguments: each package pinned to the release (any Debian revision of it). */
export const packagePins = (version: string) => KUBERNETES_PACKAGES.map((p) => `${p}=${version}-*`);

/**
 * kubeadm and the kubelet must be the release itself; kubectl may be one minor away from it, as
 * Kubernetes' version skew policy allows (the package is pinned to the release all the same; the
 * SIMULATED lab has one kubectl build, see docs/provisioning.md).
 */
export function versionFits(program: string, installed: string, version: string): boolean {
  if (program !== 'kubectl') return installed === `v${version}`;
  const m = /^v(\d+)\.(\d+)\.\d+$/.exec(installed);
  const [major, minor] = version.split('.').map(Number);
  return !!m && Number(m[1]) === major && Math.abs(Number(m[2]) - minor!) <= 1;
}

/** Swap off now, and its fstab lines commented out so it stays off after a reboot. */
async function swapOff(s: SshSession, signal: AbortSignal): Promise<boolean> {
  return runChecked(s, [
    `if [ -n "$(swapon --noheadings --show 2>/dev/null)" ]; then swapoff -a && echo ${CHANGED}; fi`,
    `if grep -Eq '^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab; then sed -i -E 's/^([^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# \\1/' /etc/fstab && echo ${CHANGED}; fi`,
  ].join('; '), signal);
}

async function modules(s: SshSession, signal: AbortSignal): Promise<boolean> {
  const file = await ensureRemoteFile(s, MODULES_FILE, `${KUBERNETES_MODULES.join('\n')}\n`, 0o644, signal);
  const loaded = await runChecked(s, KUBERNETES_MODULES.map((m) => `if ! ${MODULE_PRESENT[m]}; then ${sh`modprobe ${m}`} && echo ${CHANGED}; fi`).join('; '), signal);
  return file || loaded;
}

/** Writes the sysctl file; applies it when a running value differs (the file alone acts only at boot). */
export async function sysctls(s: SshSession, file: string, values: Record<string, string>, signal: AbortSignal): Promise<boolean> {
  const text = Object.entries(values).map(([k, v]) => `${k} = ${v}\n`).join('');
  const wrote = await ensureRemoteFile(s, file, text, 0o644, signal);
  const differs = Object.entries(values).map(([k, v]) => sh`[ "$(sysctl -n ${k} 2>/dev/null)" = ${v} ]`).join(' && ');
  const applied = await runChecked(s, `if ! { ${differs}; }; then ${sh`sysctl -q -p ${file}`} && echo ${CHANGED}; fi`, signal);
  return wrote || applied;
}

/** The installed release of each Kubernetes program, '' when absent. */
async function installedVersions(s: SshSession, signal: AbortSignal): Promise<Record<string, string>> {
  const out = await s.run([
    'printf "kubeadm %s\\n" "$(kubeadm version -o short 2>/dev/null)"',
    'printf "kubelet %s\\n" "$(kubelet --version 2>/dev/null | sed -n "s/^Kubernetes //p")"',
    'printf "kubectl %s\\n" "$(kubectl version --client -o json 2>/dev/null | sed -n "s/.*\\"gitVersion\\": *\\"\\([^\\"]*\\)\\".*/\\1/p" | head -n 1)"',
  ].join('; '), { timeoutMs: 60_000, signal });
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => { const [k, v = ''] = l.split(' '); return [k!, v]; }));
}

/** Every prerequisite of a master or worker; returns what changed on the host. */
export async function prepareKubernetesNode(s: SshSession, o: { version: string; nodeIp: string }, signal: AbortSignal): Promise<string[]> {
  const changed: string[] = [];
  if (await swapOff(s, signal)) changed.push('swap off');
  if (await modules(s, signal)) changed.push(`kernel modules ${KUBERNETES_MODULES.join(', ')}`);
  if (await sysctls(s, SYSCTL_FILE, KUBERNETES_SYSCTLS, signal)) changed.push('sysctls for bridged traffic and forwarding');
  if (await runChecked(s, `command -v containerd >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y containerd && echo ${CHANGED}; }`, signal, 600_000)) changed.push('containerd installed');
  if (await runChecked(s, `systemctl is-active -q containerd || { systemctl enable --now containerd && echo ${CHANGED}; }`, signal)) changed.push('containerd started');
  const source = await ensureRemoteFile(s, APT_SOURCE, aptSourceLine(o.version), 0o644, signal);
  const want = `v${o.version}`;
  const wrong = (have: Record<string, string>) => KUBERNETES_PACKAGES.filter((p) => !versionFits(p, have[p] ?? '', o.version));
  if (source || wrong(await installedVersions(s, signal)).length) {
    await s.run(sh`DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages ${packagePins(o.version)} && apt-mark hold ${[...KUBERNETES_PACKAGES]}`, { timeoutMs: 900_000, signal });
    const now = await installedVersions(s, signal);
    const still = wrong(now);
    if (still.length) throw new Error(`after apt-get install: ${still.map((p) => `${p} is ${now[p] || 'missing'}`).join(', ')}, not ${want}`);
    changed.push(`kubelet, kubeadm, kubectl ${want} installed and held`);
  }
  // The packaged kubelet unit reads KUBELET_EXTRA_ARGS from here: the node's address on the cluster network.
  if (await ensureRemoteFile(s, KUBELET_DEFAULTS, `KUBELET_EXTRA_ARGS=--node-ip=${o.nodeIp}\n`, 0o644, signal)) changed.push('kubelet node IP');
  if (await runChecked(s, `systemctl is-active -q kubelet || { systemctl enable --now kubelet && echo ${CHANGED}; }`, signal)) changed.push('kubelet enabled');
  return changed;
}
