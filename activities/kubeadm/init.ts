// `kubeadm init` on the first master (the Ansible role kubernetes-initialize): the typed
// configuration of activities/kubeadm/config.ts written to the host, the VIP as the control-plane
// endpoint, the control-plane certificates uploaded for the masters that join. kubeadm is told not
// to print its bootstrap token or certificate key: the joins make their own, short-lived ones.
import type { Inventory } from '../../config/schema.js';
import { sh, shellQuote } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';
import { ensureRemoteFile } from '../host/remote-file.js';
import { kubeadmInitInputFromInventory, renderKubeadmInitConfig } from './config.js';

export const KUBEADM_INIT_CONFIG = '/etc/kubernetes/kubeadm-init.yaml';
export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
export const KUBELET_KUBECONFIG = '/etc/kubernetes/kubelet.conf';

/** kubeadm's whole output kept on the node (/var/lib/kubeadm-STEP.log, 0600); its tail is the error when it fails. */
export const logged = (step: string, command: string) => {
  const file = shellQuote(`/var/lib/kubeadm-${step}.log`);
  return `(umask 077 && ${command} > ${file} 2>&1) || { code=$?; tail -n 25 ${file} >&2; exit "$code"; }`;
};

export function initConfigFor(inv: Inventory, master: string): string {
  const input = kubeadmInitInputFromInventory(inv, master);
  const skip = inv.kubernetes.kubeadmSkipPhases ?? [];
  return renderKubeadmInitConfig({ ...input, ...(skip.length ? { skipPhases: skip } : {}) });
}

/** Runs kubeadm init unless the master already has a control plane (its admin.conf); returns what changed. */
export async function kubeadmInit(s: SshSession, inv: Inventory, master: string, signal: AbortSignal): Promise<string[]> {
  const changed: string[] = [];
  if (await ensureRemoteFile(s, KUBEADM_INIT_CONFIG, initConfigFor(inv, master), 0o600, signal)) changed.push(`${KUBEADM_INIT_CONFIG} written`);
  const done = (await s.exec(sh`test -s ${ADMIN_KUBECONFIG}`, { timeoutMs: 30_000, signal })).code === 0;
  if (done) return changed;
  await s.run(logged('init', sh`kubeadm init --config ${KUBEADM_INIT_CONFIG} --upload-certs --skip-token-print --skip-certificate-key-print`), { timeoutMs: 900_000, signal });
  changed.push(`kubeadm init (control-plane endpoint ${inv.kubernetes.controlPlaneEndpoint})`);
  return changed;
}
