// The upgrade plan: from the versions observed on the cluster and a target Kubernetes release,
// the hops in order. Kubernetes moves one minor at a time (kubeadm refuses skips); external etcd
// moves one minor at a time too, each etcd hop before the Kubernetes hop that needs it. Pure: the
// workflow, the CLI's --plan and the unit tests call it on observations the activities made.
import {
  compareVersions, etcdForKubernetes, ETCD_ENTRY_FLOOR, formatVersion, highest, lowest, minorOf, mustParse, newestOfMinor, parseVersion, type Version,
} from './versions.js';
import { kubectlNotes, kubeletMaxLag, skewProblems, SKEW_RULES } from './skew.js';
import type { NodeVersions } from '../../activities/kubernetes-versions/observe.js';

export type { NodeVersions };

export interface ObservedCluster {
  nodes: NodeVersions[];
  etcd: { topology: 'external' | 'stacked'; members: { name: string; version?: string }[] };
}

export interface PlanInput {
  observed: ObservedCluster;
  /** The Kubernetes release to reach, e.g. 1.37.2. */
  target: string;
  /** The Kubernetes releases the binary source offers: a target or hop not in it is refused. */
  kubernetesReleases: readonly string[];
  /** The etcd releases the binary source offers (external etcd only). */
  etcdReleases: readonly string[];
}

export type Hop =
  | { kind: 'etcd'; from: string; to: string; why: string }
  | { kind: 'kubernetes'; from: string; to: string };

export interface UpgradePlan {
  target: string;
  /** The lowest control-plane version now; absent when no node runs Kubernetes yet. */
  kubernetes?: string;
  /** The lowest etcd member version now. */
  etcd?: string;
  topology: 'external' | 'stacked';
  hops: Hop[];
  /** The version-skew rules the plan relies on, for the approver. */
  rules: readonly string[];
  notes: string[];
}

export type PlanVerdict = { ok: true; plan: UpgradePlan } | { ok: false; reason: string };

class Refusal extends Error {}
const refuse = (reason: string): never => { throw new Refusal(reason); };

export function planUpgrade(input: PlanInput): PlanVerdict {
  try {
    return { ok: true, plan: build(input) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    throw err;
  }
}

function build(input: PlanInput): UpgradePlan {
  const target = parseVersion(input.target) ?? refuse(`--to "${input.target}" is not a Kubernetes version such as 1.35.4`);
  if (target.major !== 1) refuse(`--to ${formatVersion(target)}: Mooring upgrades Kubernetes 1.x`);
  const k8sReleases = parseAll(input.kubernetesReleases);
  if (!k8sReleases.some((r) => compareVersions(r, target) === 0)) {
    refuse(`${formatVersion(target)} is not a Kubernetes release the binary source offers (${describe(k8sReleases)}): pick one of those, or make the release available first`);
  }
  const obs = input.observed;
  const unreachable = [...obs.nodes.filter((n) => !n.reachable).map((n) => n.name)];
  if (unreachable.length) refuse(`cannot read the versions on ${unreachable.join(', ')} (SSH failed): bring the node back before planning an upgrade`);
  const notes: string[] = kubectlNotes(obs.nodes);

  const skew = skewProblems(obs.nodes);
  if (skew.length) refuse(`the cluster is already skewed beyond the version-skew policy: ${skew.join('; ')}. Bring those components in line by hand (or with a run to their current release) first`);

  const controlPlane = obs.nodes.flatMap((n) => [n.apiserver, n.controllerManager, n.scheduler]).filter((v): v is string => v !== undefined).map((v) => mustParse(v, 'control plane'));
  const kubelets = obs.nodes.flatMap((n) => (n.kubelet ? [mustParse(n.kubelet, `${n.name} kubelet`)] : []));
  const cpLow = lowest(controlPlane);
  const newest = highest([...controlPlane, ...kubelets]);
  if (newest && compareVersions(target, newest) < 0) refuse(`${formatVersion(target)} is older than ${formatVersion(newest)}, which the cluster already runs: a downgrade is not an upgrade (kubeadm does not support it; restore from a snapshot instead)`);

  const hops: Hop[] = [];
  const k8sSteps: { from: Version; to: Version }[] = [];
  if (!cpLow) {
    notes.push('No node runs a Kubernetes control plane (no kube-apiserver manifest found): only etcd is planned, for what the target needs.');
  } else {
    let at = cpLow;
    for (let m = cpLow.minor + 1; m < target.minor; m++) {
      const r = newestOfMinor(k8sReleases, 1, m) ?? refuse(`the hop through 1.${m} needs a 1.${m} release and the binary source offers none (${describe(k8sReleases)}): kubeadm upgrades one minor at a time`);
      k8sSteps.push({ from: at, to: r });
      at = r;
    }
    if (compareVersions(target, at) > 0) k8sSteps.push({ from: at, to: target });
    // The control plane is at the target and some kubelets are not: an earlier run stopped in the
    // middle of the last hop. Its hop is planned again; what is done is skipped step by step.
    const kBehind = lowest(kubelets);
    if (!k8sSteps.length && kBehind && compareVersions(cpLow, target) === 0 && compareVersions(kBehind, target) < 0) {
      k8sSteps.push({ from: kBehind, to: target });
      notes.push(`The control plane runs ${formatVersion(target)} and some kubelets ${formatVersion(kBehind)}: an earlier run stopped part-way; the hop finishes those nodes and skips what is done.`);
    }
    if (!k8sSteps.length) notes.push(`The control plane is at ${formatVersion(cpLow)} already: no Kubernetes hop.`);
    // During a hop the kubelets still run the previous release: the oldest must stay within the
    // skew of the first hop's control plane (later hops start with every kubelet upgraded).
    const kLow = lowest(kubelets);
    const first = k8sSteps[0];
    if (kLow && first && first.to.minor - kLow.minor > kubeletMaxLag(first.to)) {
      refuse(`a kubelet at ${formatVersion(kLow)} would be ${first.to.minor - kLow.minor} minors behind the control plane at ${formatVersion(first.to)} during the first hop (at most ${kubeletMaxLag(first.to)}): upgrade the old kubelets to ${minorOf(cpLow)} first`);
    }
  }

  const topology = obs.etcd.topology;
  const missing = obs.etcd.members.filter((m) => !m.version).map((m) => m.name);
  if (missing.length) refuse(`cannot read the etcd version of ${missing.join(', ')} (not healthy?): every member must answer before an upgrade is planned`);
  const memberVersions = obs.etcd.members.map((m) => mustParse(m.version!, `etcd ${m.name}`));
  const etcdLow = lowest(memberVersions);
  const etcdHigh = highest(memberVersions);
  if (etcdLow && etcdHigh && (etcdHigh.major !== etcdLow.major || etcdHigh.minor - etcdLow.minor > 1)) {
    refuse(`etcd members are more than one minor apart (${obs.etcd.members.map((m) => `${m.name} ${m.version}`).join(', ')}): etcd supports that only in the middle of a rolling upgrade; finish that by hand first`);
  }

  // A cluster already below what its own kubeadm accepts (seed 001's kind: Kubernetes moved on,
  // etcd stayed): not refused, since the plan is the way out, but the approver should know.
  const nowNeeds = cpLow && etcdLow && topology === 'external' ? etcdForKubernetes(cpLow.minor) : undefined;
  if (nowNeeds && etcdLow && cpLow && compareVersions(etcdLow, nowNeeds.minExternal) < 0) {
    notes.push(`The control plane runs ${minorOf(cpLow)} on external etcd ${formatVersion(etcdLow)}, below the ${formatVersion(nowNeeds.minExternal)} kubeadm ${minorOf(cpLow)} accepts: the cluster is outside kubeadm's supported versions now, and the etcd hops come before any Kubernetes hop.`);
  }

  // Each Kubernetes minor visited, in order; with no control plane, the target's own.
  const visits = k8sSteps.length ? k8sSteps.map((s) => s.to) : [target];
  let etcdAt = etcdLow;
  const etcdReleases = parseAll(input.etcdReleases);
  if (topology === 'stacked') {
    notes.push('etcd is stacked on the masters: `kubeadm upgrade apply` upgrades it with the control plane; no separate etcd hop.');
  }
  for (const [i, k] of visits.entries()) {
    const need = etcdForKubernetes(k.minor);
    if (!need) refuse(`Kubernetes ${minorOf(k)} is older than any etcd requirement Mooring knows: upgrade from 1.17 or later`);
    if (need!.assumed && i === visits.length - 1) notes.push(`Kubernetes ${minorOf(k)} is newer than the kubeadm constants checked (through 1.35): its etcd is assumed to stay ${need!.etcdMinor}.`);
    if (topology !== 'external' || !etcdAt) continue;
    const steps = etcdSteps(etcdAt, need!.etcdMinor, need!.minExternal, etcdReleases, minorOf(k));
    for (const s of steps) hops.push({ kind: 'etcd', from: formatVersion(etcdAt), to: formatVersion(s.to), why: s.why });
    etcdAt = steps.at(-1)?.to ?? etcdAt;
    const step = k8sSteps[i];
    if (step) hops.push({ kind: 'kubernetes', from: formatVersion(step.from), to: formatVersion(step.to) });
  }
  if (topology !== 'external') for (const s of k8sSteps) hops.push({ kind: 'kubernetes', from: formatVersion(s.from), to: formatVersion(s.to) });
  // from of consecutive etcd hops: each starts where the previous ended.
  let prev: string | undefined;
  for (const h of hops) if (h.kind === 'etcd') { if (prev) h.from = prev; prev = h.to; }

  return {
    target: formatVersion(target), topology, hops, rules: SKEW_RULES, notes,
    ...(cpLow ? { kubernetes: formatVersion(cpLow) } : {}), ...(etcdLow ? { etcd: formatVersion(etcdLow) } : {}),
  };
}

/** From `at` to `minor` (at least `minExternal`), one etcd minor at a time, newest patch each. */
function etcdSteps(at: Version, wantMinor: string, minExternal: Version, releases: readonly Version[], forK8s: string): { to: Version; why: string }[] {
  const want = mustParse(`${wantMinor}.0`, 'etcd minor');
  const out: { to: Version; why: string }[] = [];
  let cur = at;
  const none = (minor: string, floor?: Version): never => refuse(releases.length
    ? `Kubernetes ${forK8s} needs etcd ${wantMinor}${floor ? ` (${formatVersion(floor)} or later)` : ''} and the etcd binary source offers no ${minor} release${floor ? ` at or above ${formatVersion(floor)}` : ''} (${describe(releases)}): add that release (see etcd.binaries.source)`
    : `Kubernetes ${forK8s} needs etcd ${wantMinor} and no etcd release is known: set etcd.binaries.source in the inventory (a directory per release on every member) and put the ${minor} release there`);
  while (cur.minor < want.minor) {
    const next = `${cur.major}.${cur.minor + 1}`;
    const floorText = ETCD_ENTRY_FLOOR[next];
    const floor = floorText ? mustParse(floorText, 'ETCD_ENTRY_FLOOR') : undefined;
    if (floor && compareVersions(cur, floor) < 0) {
      const patch = newestOfMinor(releases, cur.major, cur.minor, floor) ?? none(minorOf(cur), floor);
      out.push({ to: patch, why: `etcd's guide asks for ${formatVersion(floor)}+ on every member before ${next}` });
      cur = patch;
    }
    const isLast = cur.minor + 1 === want.minor;
    const minFloor = isLast && minExternal.minor === want.minor ? minExternal : undefined;
    const r = newestOfMinor(releases, cur.major, cur.minor + 1, minFloor) ?? none(next, minFloor);
    out.push({ to: r, why: `Kubernetes ${forK8s} runs etcd ${wantMinor}; etcd moves one minor at a time` });
    cur = r;
  }
  if (cur.minor === minExternal.minor && compareVersions(cur, minExternal) < 0) {
    const r = newestOfMinor(releases, cur.major, cur.minor, minExternal) ?? none(minorOf(cur), minExternal);
    out.push({ to: r, why: `kubeadm ${forK8s} accepts external etcd ${formatVersion(minExternal)} or later` });
  }
  return out;
}

function parseAll(list: readonly string[]): Version[] {
  return list.flatMap((s) => { const v = parseVersion(s); return v ? [v] : []; });
}

function describe(vs: readonly Version[]): string {
  if (!vs.length) return 'none';
  const sorted = [...vs].sort(compareVersions).map(formatVersion);
  return sorted.length > 8 ? `${sorted.slice(0, 3).join(', ')} … ${sorted.slice(-4).join(', ')}` : sorted.join(', ');
}

/** The plan as text: current versions, hops in order, the skew rules, notes. */
export function renderPlan(p: UpgradePlan, clusterName: string): string {
  const lines = [
    `Upgrade of ${clusterName} to Kubernetes ${p.target}: control plane ${p.kubernetes ?? 'not found'}, etcd ${p.etcd ?? 'unknown'} (${p.topology}).`,
  ];
  if (!p.hops.length) lines.push('Nothing to do: the cluster is at the target.');
  p.hops.forEach((h, i) => lines.push(h.kind === 'etcd'
    ? `${i + 1}. etcd ${h.from} → ${h.to}, member by member (followers first, the leader last): ${h.why}.`
    : `${i + 1}. Kubernetes ${h.from} → ${h.to}: kubeadm upgrade apply on the first master, upgrade node on the others, kubelets and kubectl, workers in batches.`));
  lines.push('', 'Version-skew rules relied on:', ...p.rules.map((r) => `- ${r}`));
  if (p.notes.length) lines.push('', 'Notes:', ...p.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}
