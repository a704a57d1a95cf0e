// kubectl on a master over SSH with kubeadm's admin.conf: every read and every cordon/drain of
// the upgrade goes through the real apiserver (by the control plane endpoint, so any master's).
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';

export const ADMIN_CONF = '/etc/kubernetes/admin.conf';

export const kubectlCommand = (args: readonly string[], requestTimeout = '20s') =>
  sh`kubectl --kubeconfig ${ADMIN_CONF} --request-timeout=${requestTimeout} ${args}`;

export async function kubectlJson<T>(s: SshSession, args: readonly string[], signal: AbortSignal): Promise<T> {
  const out = await s.run(kubectlCommand([...args, '-o', 'json']), { timeoutMs: 60_000, signal });
  return JSON.parse(out) as T;
}
