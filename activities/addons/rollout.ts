// Whether the addons' workloads run, read with the real kubectl (admin kubeconfig, through the
// VIP): every DaemonSet of a manifest scheduled on every node and ready there, every Deployment
// available, each status observed for the current generation (so an apply that just changed it
// is not taken for done by its old status). Read-only. When they are not, the pods that are not
// ready are named with their phase and reason, which is what a person needs to act.
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';
import type { Workload } from './context.js';

const kubectl = (args: string) => `kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=20s ${args}`;

interface Live {
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number; numberReady?: number; updatedNumberScheduled?: number;
    replicas?: number; availableReplicas?: number; updatedReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface WorkloadState { workload: Workload; ready: boolean; line: string }

/** One workload's state from its live object (undefined: not in the cluster). Pure. */
export function workloadState(w: Workload, live: Live | undefined, nodes: number): WorkloadState {
  const id = `${w.kind} ${w.name}`;
  if (!live) return { workload: w, ready: false, line: `${id}: not found in namespace ${w.namespace}` };
  const st = live.status ?? {};
  const current = (st.observedGeneration ?? 0) >= (live.metadata.generation ?? 0);
  if (w.kind === 'DaemonSet') {
    const desired = st.desiredNumberScheduled ?? 0;
    const ready = st.numberReady ?? 0;
    const updated = st.updatedNumberScheduled ?? 0;
    const ok = current && desired === nodes && ready === desired && updated === desired;
    const more = desired !== nodes ? ` (scheduled on ${desired} of the ${nodes} nodes)` : updated !== desired ? ` (${updated} updated)` : !current ? ' (status not yet observed for the last change)' : '';
    return { workload: w, ready: ok, line: `${id} ready on ${ready}/${nodes} nodes${more}` };
  }
  const want = live.spec?.replicas ?? 1;
  const available = st.availableReplicas ?? 0;
  const cond = st.conditions?.find((c) => c.type === 'Available');
  const ok = current && cond?.status === 'True' && available >= want && (st.updatedReplicas ?? 0) >= want;
  return { workload: w, ready: ok, line: `${id} ${ok ? 'available' : 'not available'} (${available}/${want}${!ok && cond?.reason ? `, ${cond.reason}` : ''})` };
}

interface PodList {
  items: {
    metadata: { name: string };
    spec?: { nodeName?: string };
    status?: {
      phase?: string;
      conditions?: { type: string; status: string; reason?: string; message?: string }[];
      containerStatuses?: { name: string; ready: boolean; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
      initContainerStatuses?: { name: string; ready: boolean; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
    };
  }[];
}

/** The pods of a list that are not Ready, each with its node, phase and the reason it gives. Pure. */
export function podsNotReady(list: PodList): string[] {
  return list.items.filter((p) => !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => {
    const st = p.status ?? {};
    const waiting = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])].map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean);
    const unscheduled = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const reason = waiting ?? (unscheduled ? `${unscheduled.reason ?? 'Unschedulable'}: ${unscheduled.message ?? ''}`.trim() : st.conditions?.find((c) => c.status === 'False' && c.reason)?.reason);
    return `${p.metadata.name}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}: ${st.phase ?? 'Unknown'}${reason ? ` (${reason})` : ''}`;
  });
}

/** The live DaemonSets and Deployments of every namespace (one request), keyed Kind/namespace/name. */
export async function liveWorkloads(s: SshSession, signal: AbortSignal): Promise<Map<string, Live>> {
  const out = await s.run(kubectl('get daemonsets.apps,deployments.apps --all-namespaces -o json'), { timeoutMs: 60_000, signal });
  const items = (JSON.parse(out) as { items: Live[] }).items;
  return new Map(items.map((o) => [`${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o]));
}

/** The not-ready pods of a workload, found by its selector. */
export async function workloadPodsNotReady(s: SshSession, w: Workload, signal: AbortSignal): Promise<string[]> {
  const selector = Object.entries(w.selector).map(([k, v]) => `${k}=${v}`).join(',');
  if (!selector) return [];
  const out = await s.run(kubectl(sh`get pods -n ${w.namespace} -l ${selector} -o json`), { timeoutMs: 60_000, signal });
  return podsNotReady(JSON.parse(out) as PodList);
}

/** Whether a StorageClass exists (local-path's, which its PVCs name). */
export async function storageClassExists(s: SshSession, name: string, signal: AbortSignal): Promise<boolean> {
  const r = await s.exec(kubectl(sh`get storageclass ${name} -o name`), { timeoutMs: 60_000, signal });
  return r.code === 0 && r.stdout.trim() === `storageclass.storage.k8s.io/${name}`;
}
