// The smoke test of a provisioned cluster, run with the real kubectl on the first master against
// /etc/kubernetes/admin.conf, whose server is the control-plane endpoint: every request here goes
// through the VIP, i.e. through keepalived and HAProxy on a load balancer.
import type { HostPhaseNode } from '../host/context.js';
import type { SshSession } from '../ssh/session.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';

const kubectl = (args: string) => `kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=10s ${args}`;

interface NodeList { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } } }[] }

/** The cluster's nodes as the API (through the VIP) lists them. */
export async function listNodes(s: SshSession, signal: AbortSignal): Promise<HostPhaseNode[]> {
  const out = await s.run(kubectl('get nodes -o json'), { timeoutMs: 60_000, signal });
  const list = JSON.parse(out) as NodeList;
  return list.items.map((n) => ({
    name: n.metadata.name,
    ready: !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
  }));
}

/** GET /readyz through the VIP; true when the API answers "ok". */
export async function apiReady(s: SshSession, signal: AbortSignal): Promise<boolean> {
  const r = await s.exec(kubectl('get --raw=/readyz'), { timeoutMs: 30_000, signal });
  return r.code === 0 && r.stdout.trim() === 'ok';
}
