// One Kubernetes hop (e.g. 1.35.4 → 1.36.3), in kubeadm's documented order: an approval (unless
// one gate covers all hops), the preflight, then on the first master the kubeadm package at the
// target, `kubeadm upgrade plan` and `upgrade apply`; on each other master the kubeadm package and
// `upgrade node`, one at a time; then the kubelet and kubectl packages and a kubelet restart on
// each master, one at a time, Ready on the release before the next; then the workers in batches:
// cordon, drain (PodDisruptionBudgets respected, a time limit), packages, `upgrade node`, kubelet
// restart, Ready, uncordon, before the next batch. Every activity reads before it acts, so a
// retried or resumed step skips what is done. A failure holds and asks (hold.ts).
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { KubeNodeRef, KubernetesBinaries } from '../../activities/kubernetes-upgrade/index.js';
import type { SshAccess } from '../../activities/ssh/access.js';
import type { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { untilDone } from './hold.js';
import { DRAIN, INSTALL, KUBEADM, NODE, NODE_BACK, OBSERVE } from './options.js';

const observe = proxyActivities<MooringActivities>(OBSERVE);
const install = proxyActivities<MooringActivities>(INSTALL);
const kubeadm = proxyActivities<MooringActivities>(KUBEADM);
const node = proxyActivities<MooringActivities>(NODE);
const drainer = proxyActivities<MooringActivities>(DRAIN);
const back = proxyActivities<MooringActivities>(NODE_BACK);

export interface KubeHopContext {
  ssh: SshAccess;
  masters: KubeNodeRef[];
  workers: KubeNodeRef[];
  batches: string[][];
  binaries: KubernetesBinaries;
  ignorePreflightErrors: string[];
  drainTimeoutSeconds: number;
  certificateMinDays: number;
  etcd: 'stacked' | 'external';
  /** An approval before this hop (kubernetes.upgrade.gates per-hop). */
  gate: boolean;
  approvalTimeoutMs: number;
  /** Written on the nodes this run cordons (workflow ID). */
  run: string;
}

export interface KubeHopOutcome {
  to: string;
  /** Nodes left on the old release by a person's choice. */
  skipped: { node: string; by: string; reason: string }[];
  notes: string[];
}

export async function upgradeKubernetesHop(rb: Runbook, ctx: KubeHopContext, hop: { index: number; from: string; to: string }): Promise<KubeHopOutcome> {
  const id = `k8s-${hop.index}`;
  const [first, ...others] = ctx.masters;
  if (!first) throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: 'the inventory has no master' });
  const access = { ssh: ctx.ssh, via: first };
  const ignore = ctx.ignorePreflightErrors;
  const out: KubeHopOutcome = { to: hop.to, skipped: [], notes: [] };
  const title = `Kubernetes ${hop.from} → ${hop.to}`;

  let prev = `${id}:preflight`;
  const add = (sid: string, t: string) => { rb.addStep(sid, t, prev); prev = sid; };
  if (ctx.gate) { rb.addStep(`${id}:approve`, `Approve ${title}`); prev = `${id}:approve`; rb.addStep(`${id}:preflight`, `${title}: preflight`, prev); prev = `${id}:preflight`; } else rb.addStep(`${id}:preflight`, `${title}: preflight`);
  add(`${id}:apply`, `${title}: kubeadm upgrade apply on ${first.name}`);
  for (const m of others) add(`${id}:node:${m.name}`, `${title}: kubeadm upgrade node on ${m.name}`);
  for (const m of ctx.masters) add(`${id}:kubelet:${m.name}`, `${title}: kubelet and kubectl on ${m.name}`);
  ctx.batches.forEach((b, i) => add(`${id}:batch-${i + 1}`, `${title}: workers ${b.join(', ')} (cordon, drain, upgrade, uncordon)`));

  if (ctx.gate) {
    await rb.approval(`${id}:approve`, {
      plan: `${title}: kubeadm upgrade apply on ${first.name}, upgrade node on ${others.map((m) => m.name).join(', ') || 'no other master'}, kubelets of the masters one at a time, then the workers in ${ctx.batches.length} batch(es): ${ctx.batches.map((b) => b.join('+')).join(', ') || 'none'}.`,
      timeoutMs: ctx.approvalTimeoutMs,
    });
  }

  await rb.step(`${id}:preflight`, async () => {
    const r = await observe.kubernetesPreflight({ ...access, nodes: [...ctx.masters, ...ctx.workers], from: hop.from, to: hop.to, batches: ctx.batches, etcd: ctx.etcd, certificateMinDays: ctx.certificateMinDays });
    if (r.problems.length) {
      throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `preflight of ${title} failed, nothing was changed for this hop: ${r.problems.join('; ')}` });
    }
    out.notes.push(...r.notes);
    return r;
  }, (r) => `every node Ready, the control plane on one version, etcd healthy and voting, certificates valid, no budget that forbids a drain, room for each batch${r.notes.length ? `; notes: ${r.notes.join('; ')}` : ''}`);

  const stopAt = async () => '';
  await rb.step(`${id}:apply`, async () => {
    const r = await untilDone(rb, `${id}:apply`, `kubeadm upgrade apply v${hop.to} on ${first.name}`, async () => {
      const on = { ssh: ctx.ssh, host: first };
      const pkg = await install.installKubernetesPackages({ ...on, binaries: ctx.binaries, version: hop.to, packages: ['kubeadm'] });
      const plan = await kubeadm.kubeadmUpgradePlan({ ...on, version: hop.to, ignorePreflightErrors: ignore });
      const apply = await kubeadm.kubeadmUpgradeApply({ ...on, version: hop.to, ignorePreflightErrors: ignore });
      return `kubeadm ${pkg.already.length ? 'already' : 'installed'} at ${hop.to}; upgrade plan: ${plan.split('\n').length} lines; ${apply.ran ? `upgrade apply: ${apply.tail.split('\n').at(-1)}` : `apply skipped: ${apply.tail}`}`;
    }, { canSkip: false, stopNote: stopAt });
    return r.done ? r.value : '';
  }, (d) => d);

  for (const m of others) {
    await rb.step(`${id}:node:${m.name}`, async () => {
      const r = await untilDone(rb, `${id}:node:${m.name}`, `kubeadm upgrade node on ${m.name}`, async () => {
        const on = { ssh: ctx.ssh, host: m };
        await install.installKubernetesPackages({ ...on, binaries: ctx.binaries, version: hop.to, packages: ['kubeadm'] });
        const u = await kubeadm.kubeadmUpgradeNode({ ...on, version: hop.to, role: 'master', ignorePreflightErrors: ignore });
        return u.ran ? `upgraded: ${u.tail.split('\n').at(-1)}` : `skipped: ${u.tail}`;
      }, { canSkip: false, stopNote: stopAt });
      return r.done ? r.value : '';
    }, (d) => d);
  }

  /** Packages, kubelet restart, Ready on the release; for workers also `kubeadm upgrade node` first. */
  const upgradeOne = async (n: KubeNodeRef) => {
    const on = { ssh: ctx.ssh, host: n };
    const notes: string[] = [];
    if (n.role === 'worker') {
      await install.installKubernetesPackages({ ...on, binaries: ctx.binaries, version: hop.to, packages: ['kubeadm'] });
      const u = await kubeadm.kubeadmUpgradeNode({ ...on, version: hop.to, role: 'worker', ignorePreflightErrors: ignore });
      notes.push(u.ran ? 'kubeadm upgrade node done' : u.tail);
    }
    const pkg = await install.installKubernetesPackages({ ...on, binaries: ctx.binaries, version: hop.to, packages: ['kubelet', 'kubectl'] });
    notes.push(pkg.installed.length ? `installed ${pkg.installed.join(', ')} ${hop.to}` : `kubelet, kubectl already ${hop.to}`);
    const k = await node.restartKubeletAt({ ...on, via: first, version: hop.to });
    notes.push(k.restarted ? 'kubelet restarted' : 'kubelet already Ready on the release');
    await back.expectNodeReadyAt({ ...access, node: n.name, version: hop.to });
    notes.push(`Ready on ${hop.to}`);
    return notes.join('; ');
  };

  for (const m of ctx.masters) {
    await rb.step(`${id}:kubelet:${m.name}`, async () => {
      const r = await untilDone(rb, `${id}:kubelet:${m.name}`, `kubelet ${hop.to} on ${m.name}`, () => upgradeOne(m), { canSkip: true });
      if (!r.done) { out.skipped.push({ node: m.name, by: r.skipped.by, reason: r.skipped.comment ?? '' }); return `SKIPPED by ${r.skipped.by}: ${r.skipped.comment ?? ''}`; }
      return r.value;
    }, (d) => d);
  }

  for (const [i, batch] of ctx.batches.entries()) {
    await rb.step(`${id}:batch-${i + 1}`, async () => {
      const lines: string[] = [];
      const uncordonAll = async (names: string[]) => {
        const said: string[] = [];
        for (const w of names) {
          const u = await node.uncordonNode({ ...access, node: w });
          said.push(u.uncordoned ? `${w} uncordoned` : u.leftCordoned ? `${w} left cordoned (cordoned before the upgrade, not by it)` : `${w} schedulable`);
        }
        return said.join(', ');
      };
      const ready: KubeNodeRef[] = [];
      for (const w of batch) {
        const ref = ctx.workers.find((x) => x.name === w)!;
        const st = await node.nodeUpgradeState({ ...access, node: w });
        if (st.ready && st.kubelet === hop.to) {
          lines.push(`${w}: already on ${hop.to}${st.cordonedBy ? `; ${await uncordonAll([w])}` : ''}`);
          continue;
        }
        const c = await node.cordonNode({ ...access, node: w, run: ctx.run });
        const drained = await untilDone(rb, `${id}:batch-${i + 1}:drain:${w}`, `drain of ${w}`, async () => {
          const d = await drainer.drainNode({ ...access, node: w, timeoutSeconds: ctx.drainTimeoutSeconds });
          // `refused ?? []`: a drain result recorded before the field existed has none.
          if (!d.drained) throw ApplicationFailure.create({ type: 'DrainBlocked', nonRetryable: true, message: `kubectl drain ${w} did not finish within ${ctx.drainTimeoutSeconds}s: ${[...(d.refused ?? []).map((x) => `eviction refused, ${x}`), ...d.output.split('\n').slice(-2)].join(' | ')}` });
          return d;
        }, { canSkip: true, stopNote: async () => uncordonAll([...batch]) });
        if (!drained.done) {
          out.skipped.push({ node: w, by: drained.skipped.by, reason: drained.skipped.comment ?? '' });
          lines.push(`${w}: SKIPPED by ${drained.skipped.by} (${drained.skipped.comment ?? ''}), stays on ${hop.from}; ${await uncordonAll([w])}`);
          continue;
        }
        lines.push(`${w}: ${c.byOthers ? 'was cordoned before the upgrade' : 'cordoned'}, drained`);
        ready.push(ref);
      }
      for (const w of ready) {
        const r = await untilDone(rb, `${id}:batch-${i + 1}:upgrade:${w.name}`, `upgrade of ${w.name}`, () => upgradeOne(w), { canSkip: true, stopNote: async () => uncordonAll([...batch]) });
        if (!r.done) out.skipped.push({ node: w.name, by: r.skipped.by, reason: r.skipped.comment ?? '' });
        lines.push(`${w.name}: ${r.done ? r.value : `SKIPPED by ${r.skipped.by} (${r.skipped.comment ?? ''})`}; ${await uncordonAll([w.name])}`);
      }
      return lines.join(' · ');
    }, (d) => d);
  }
  return out;
}
