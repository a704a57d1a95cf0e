// The preflight of one Kubernetes hop, as pure checks over what the apiserver, etcd and kubeadm
// answered (JSON). The activity (preflight.ts) reads; these judge, so the unit tests can feed
// them real shapes. Each problem names the object and the fix.
import { CORDONED_BY } from './context.js';

export interface NodeObject {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: { conditions?: { type: string; status: string; message?: string }[]; nodeInfo?: { kubeletVersion?: string }; allocatable?: Record<string, string> };
}

export interface PodObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[]; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { name: string; image: string; resources?: { requests?: Record<string, string> } }[]; tolerations?: Toleration[] };
  status?: { phase?: string };
}

export interface Toleration { key?: string; operator?: string; value?: string; effect?: string }
type Taint = { key: string; value?: string; effect: string };

/** Whether `tols` tolerate `taint`, as the scheduler's TaintToleration matches them. */
const tolerates = (tols: Toleration[] | undefined, taint: Taint) => (tols ?? []).some((t) => (!t.effect || t.effect === taint.effect)
  && (t.operator === 'Exists' ? !t.key || t.key === taint.key : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')));

export interface PdbObject {
  metadata: { name: string; namespace: string };
  spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } };
  status?: { expectedPods?: number; currentHealthy?: number; desiredHealthy?: number; disruptionsAllowed?: number };
}

const ready = (n: NodeObject) => n.status?.conditions?.find((c) => c.type === 'Ready');

const minorOf = (v: string | undefined) => Number(/^v?\d+\.(\d+)\./.exec(v ?? '')?.[1] ?? NaN);

/**
 * Every inventory node registered and Ready, its kubelet not older than the hop's starting minor
 * (the hop must never leave one two minors behind). Cordoned nodes are noted.
 */
export function checkNodes(items: NodeObject[], expected: string[], from: string): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const name of expected) {
    const n = items.find((x) => x.metadata.name === name);
    if (!n) { problems.push(`node ${name} is not registered with the apiserver: bring its kubelet back (or remove it from the inventory) before the hop`); continue; }
    const r = ready(n);
    if (r?.status !== 'True') problems.push(`node ${name} is not Ready (${r ? `Ready=${r.status}${r.message ? `: ${r.message}` : ''}` : 'no Ready condition'}): fix it before the hop`);
    const kubelet = n.status?.nodeInfo?.kubeletVersion;
    if (minorOf(kubelet) < minorOf(from)) problems.push(`node ${name} runs kubelet ${kubelet}, older than ${from}: this hop would leave it two minors behind; upgrade it to ${from.replace(/\.\d+$/, '')} first (mooring upgrade --to ${from} finishes such nodes)`);
    if (n.spec?.unschedulable) {
      const by = n.metadata.annotations?.[CORDONED_BY];
      notes.push(by ? `${name} is cordoned by an earlier upgrade run (${by}); this run takes it over` : `${name} was cordoned before the upgrade; it is left cordoned`);
    }
  }
  return { problems, notes };
}

const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
const tagOf = (image: string) => /:v?(\d+\.\d+\.\d+)/.exec(image)?.[1];

/**
 * Control-plane mirror pods (kube-system, label component) all on one version: the hop's `from`,
 * or, for a hop resumed after a crash, some already on `to`.
 */
export function checkControlPlane(pods: PodObject[], masters: string[], from: string, to: string): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const seen: string[] = [];
  for (const m of masters) {
    for (const c of CONTROL_PLANE) {
      const p = pods.find((x) => x.metadata.namespace === 'kube-system' && x.metadata.labels?.component === c && x.spec.nodeName === m);
      if (!p) { problems.push(`${c} on ${m} has no mirror pod in kube-system: is its kubelet running the static pod?`); continue; }
      const v = tagOf(p.spec.containers[0]?.image ?? '');
      if (!v) { problems.push(`${c} on ${m}: image ${p.spec.containers[0]?.image ?? '?'} names no release`); continue; }
      if (p.status?.phase !== 'Running') problems.push(`${c} on ${m} is ${p.status?.phase ?? 'in no phase'}, not Running`);
      seen.push(`${c}@${m}=${v}`);
      if (v !== from && v !== to) problems.push(`${c} on ${m} runs ${v}, neither ${from} nor ${to}: the control plane must be on one version before the hop`);
    }
  }
  const versions = new Set(seen.map((s) => s.split('=')[1]));
  const notes = versions.size > 1 ? [`the control plane is part-way from ${from} to ${to} (an earlier run stopped mid-hop): the hop resumes`] : [];
  return { problems, notes };
}

/** etcdctl member list -w json (+ endpoint health --cluster): every member started, voting and healthy. */
export function checkEtcdMembers(memberList: { members?: { name?: string; isLearner?: boolean; clientURLs?: string[] }[] }, health: { endpoint: string; health: boolean; error?: string }[]): string[] {
  const problems: string[] = [];
  const members = memberList.members ?? [];
  if (!members.length) problems.push('etcd lists no members');
  for (const m of members) {
    if (!m.name || !m.clientURLs?.length) problems.push(`etcd member ${m.name || '(unstarted)'} has not started: finish adding it first`);
    if (m.isLearner) problems.push(`etcd member ${m.name} is a learner, not voting: promote it (etcdctl member promote) first`);
  }
  for (const h of health) if (!h.health) problems.push(`etcd endpoint ${h.endpoint} is not healthy${h.error ? ` (${h.error})` : ''}`);
  return problems;
}

/** kubeadm certs check-expiration -o json: every certificate and CA valid for at least `minDays`. */
export function checkCertificates(master: string, doc: { certificates?: { name: string; expirationDate: string; missing?: boolean }[]; certificateAuthorities?: { name: string; expirationDate: string; missing?: boolean }[] }, nowMs: number, minDays: number): string[] {
  const out: string[] = [];
  for (const c of [...(doc.certificates ?? []), ...(doc.certificateAuthorities ?? [])]) {
    if (c.missing) continue; // e.g. an external CA's key; kubeadm says so itself
    const left = (Date.parse(c.expirationDate) - nowMs) / 86_400_000;
    if (Number.isNaN(left)) out.push(`${master}: certificate ${c.name} has no readable expiration date (${c.expirationDate})`);
    else if (left < minDays) out.push(`${master}: certificate ${c.name} expires ${left < 0 ? 'already expired' : `in ${left.toFixed(1)} days`} (${c.expirationDate}), under kubernetes.upgrade.certificateMinDays ${minDays}: renew it (kubeadm certs renew) before the hop`);
  }
  return out;
}

function matches(pdb: PdbObject, pod: PodObject): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  const sel = pdb.spec.selector;
  if (!sel) return false;
  const labels = pod.metadata.labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = (k: string) => Object.hasOwn(labels, k);
    const ok = e.operator === 'In' ? e.values?.includes(labels[e.key] ?? '\0') ?? false
      : e.operator === 'NotIn' ? !(has(e.key) && e.values?.includes(labels[e.key]!))
        : e.operator === 'Exists' ? has(e.key) : e.operator === 'DoesNotExist' ? !has(e.key) : false;
    if (!ok) return false;
  }
  return true;
}

/** A pod a drain evicts: not a mirror pod, not a DaemonSet's, not already going. */
export const evictable = (p: PodObject) => !p.metadata.annotations?.['kubernetes.io/config.mirror']
  && !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') && !p.metadata.deletionTimestamp
  && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/**
 * PodDisruptionBudgets that make a drain impossible whatever the pods' health: maxUnavailable 0
 * (or 0%), or minAvailable at least every pod it selects (or 100%). A budget that blocks only
 * until pods are healthy again is not refused here; the drain waits on it, and the run holds.
 */
export function impossiblePdbs(pdbs: PdbObject[], pods: PodObject[], drained: Set<string>): string[] {
  const out: string[] = [];
  for (const b of pdbs) {
    const selected = pods.filter((p) => evictable(p) && matches(b, p));
    const onDrained = selected.filter((p) => drained.has(p.spec.nodeName ?? ''));
    if (!onDrained.length) continue;
    const { minAvailable: min, maxUnavailable: max } = b.spec;
    const expected = b.status?.expectedPods ?? selected.length;
    const why = max === 0 || max === '0%' ? `maxUnavailable ${max}`
      : min === '100%' || (typeof min === 'number' && min >= expected) ? `minAvailable ${min} with ${expected} pod(s)` : undefined;
    if (why) out.push(`PodDisruptionBudget ${b.metadata.namespace}/${b.metadata.name} (${why}) never allows evicting ${onDrained.map((p) => p.metadata.name).join(', ')} on ${[...new Set(onDrained.map((p) => p.spec.nodeName))].join(', ')}: no drain can finish; relax it (or scale its workload up) before the hop`);
  }
  return out;
}

/** Kubernetes quantities: CPU in millicores, memory in bytes. */
export function quantity(q: string | undefined, kind: 'cpu' | 'memory'): number {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  if (kind === 'cpu') return m[2] === 'm' ? n : n * 1000;
  const f: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return n * (f[m[2]!] ?? 1);
}

const requests = (pods: PodObject[], kind: 'cpu' | 'memory') => pods.reduce((s, p) => s + p.spec.containers.reduce((t, c) => t + quantity(c.resources?.requests?.[kind], kind), 0), 0);

/**
 * Enough room to drain each batch: the CPU and memory requests of the batch's evictable pods fit
 * in what the other schedulable, untainted nodes have left (allocatable minus requests), as the
 * scheduler's resource fit counts, on nodes whose taints every moving pod tolerates. Affinity and
 * topology spread are not modelled.
 */
export function checkCapacity(nodes: NodeObject[], pods: PodObject[], batches: string[][]): string[] {
  const out: string[] = [];
  for (const batch of batches) {
    const inBatch = new Set(batch);
    const moving = pods.filter((p) => inBatch.has(p.spec.nodeName ?? '') && evictable(p));
    const need = { cpu: requests(moving, 'cpu'), memory: requests(moving, 'memory') };
    if (!need.cpu && !need.memory) continue;
    // Pods requesting nothing fit anywhere; the taints matter for those that request something.
    const asking = moving.filter((p) => requests([p], 'cpu') || requests([p], 'memory'));
    // A node counts when every moving pod tolerates its NoSchedule/NoExecute taints (a control
    // plane taint keeps ordinary pods off the masters; CoreDNS tolerates it).
    const targets = nodes.filter((n) => !inBatch.has(n.metadata.name) && !n.spec?.unschedulable
      && (n.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').every((t) => asking.every((p) => tolerates(p.spec.tolerations, t))));
    const free = { cpu: 0, memory: 0 };
    for (const n of targets) {
      const on = pods.filter((p) => p.spec.nodeName === n.metadata.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
      free.cpu += Math.max(0, quantity(n.status?.allocatable?.cpu, 'cpu') - requests(on, 'cpu'));
      free.memory += Math.max(0, quantity(n.status?.allocatable?.memory, 'memory') - requests(on, 'memory'));
    }
    for (const k of ['cpu', 'memory'] as const) {
      if (need[k] > free[k]) out.push(`draining ${batch.join(', ')} moves pods requesting ${k === 'cpu' ? `${need.cpu}m CPU` : `${Math.round(need.memory / 2 ** 20)}Mi memory`}, and the other schedulable nodes have ${k === 'cpu' ? `${free.cpu}m` : `${Math.round(free.memory / 2 ** 20)}Mi`} left: use a smaller kubernetes.upgrade.workerBatch or add capacity`);
    }
  }
  return out;
}
