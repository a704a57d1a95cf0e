// Runbook `upgrade`: read the versions the cluster actually runs, plan the hops to the target
// (plan.ts), show the plan behind one approval gate, take a fresh verified etcd snapshot through
// the etcd-backup runbook as a child (the way back, its ID in the report), then run the external
// hops in the plan's order: external etcd member by member (etcd-hop.ts), Kubernetes with kubeadm,
// kubelets and worker drains (kubernetes-hop.ts), holding and asking when a step is blocked.
// Runs recorded before the Kubernetes hops existed (patch 'upgrade-kubernetes-hops') stopped before
// the first one; that shape is kept for them. `planOnly` changes nothing.
import { ApplicationFailure, executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { EtcdMemberVersion } from '../../activities/etcd-upgrade/index.js';
import type { NodeVersions } from '../../activities/kubernetes-versions/observe.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { CLUSTER, PHASE, RUNBOOK } from '../runbook/search-attributes.js';
import { approveStillTrue } from '../etcd-recovery/approval.js';
import { etcdTargetOf, masterRefsOf, memberRefsOf, runTag } from '../etcd-recovery/target.js';
import type { EtcdBackupResult } from '../etcd-backup/backup.js';
import { planUpgrade, renderPlan, type Hop, type UpgradePlan } from './plan.js';
import { upgradeEtcdHop, type HopOutcome } from './etcd-hop.js';
import { upgradeKubernetesHop, type KubeHopOutcome } from './kubernetes-hop.js';
import { workerBatches } from './batches.js';
import { OBSERVE } from './options.js';

export interface UpgradeInput {
  inventory: Inventory;
  /** The Kubernetes release to reach, e.g. 1.37.2. */
  to: string;
  planOnly?: boolean;
  approvalTimeoutMs?: number;
  /** A key that must read back after the upgrade. */
  canary?: { key: string; value: string };
  /** Release lists given instead of read from the binary sources (tests; a source not reachable). */
  kubernetesReleases?: string[];
  etcdReleases?: string[];
  /** Go on without the fresh snapshot when the inventory has no backup section: the reason, recorded. */
  skipSnapshot?: string;
  /** Overrides kubernetes.upgrade.workerBatch (a count or N%). */
  workerBatch?: number | string;
  /** Overrides kubernetes.upgrade.gates. */
  gates?: 'per-hop' | 'single';
}

export interface UpgradeResult {
  cluster: string;
  plan: string;
  planOnly: boolean;
  /** The etcd-backup child run and the snapshot it stored: the way back. */
  snapshot?: { workflowId: string; key?: string; path: string; revision: number };
  etcd?: { version: string; kept: Record<string, string> }[];
  /** The Kubernetes hops that were not run (runs recorded before they were built). */
  notRun: string[];
  /** The Kubernetes hops done, with the nodes a person chose to skip. */
  kubernetes?: KubeHopOutcome[];
}

/** What the plan is built on; looked at again after the approval. */
interface Picture { nodes: NodeVersions[]; etcd: EtcdMemberVersion[]; plan: UpgradePlan }

const observe = proxyActivities<MooringActivities>(OBSERVE);
export const UPGRADE_DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;
export const NOT_BUILT = 'KubernetesHopsNotBuilt';

export async function upgradeCluster(input: UpgradeInput): Promise<UpgradeResult> {
  const inv = input.inventory;
  const target = etcdTargetOf(inv);
  const members = memberRefsOf(inv);
  const workers = inv.workers.map((w, i) => ({ name: w.name, ip: w.ip, sshPort: w.sshPort, where: `workers[${i}]`, ...(w.hostKey ? { hostKey: w.hostKey } : {}) }));
  const nodes = [...masterRefsOf(inv).map((m) => ({ ...m, role: 'master' as const })), ...workers.map((w) => ({ ...w, role: 'worker' as const }))];
  const rb = new Runbook('upgrade', inv.cluster.name, [
    { id: 'observe', title: 'Read the versions every node and etcd member runs' },
    { id: 'releases', title: 'Read the releases the binary sources offer' },
    { id: 'approve', title: 'Approve the plan' },
    { id: 'snapshot', title: 'Fresh verified etcd snapshot (etcd-backup, as a child run)' },
  ]);
  const bad = (message: string) => ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message });
  const refused = (message: string) => ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message });

  const look = async () => {
    const [k, e] = await Promise.all([observe.observeKubernetesVersions({ ssh: target.ssh, nodes }), observe.observeEtcdVersions({ target, members })]);
    return { nodes: k, etcd: e };
  };
  const seen = await rb.step('observe', look, (v) => `${summarizeNodes(v.nodes)}; etcd ${v.etcd.map((m) => `${m.name} ${m.version ?? '?'}`).join(', ')}`);

  const releases = await rb.step('releases', async () => {
    const k8s = input.kubernetesReleases ?? await (async () => {
      const source = inv.kubernetes.binaries?.source;
      if (!source) throw bad('kubernetes.binaries.source is not set: the upgrade accepts only releases it can find there (one directory per release holding kubeadm, e.g. /opt/kubernetes/{version}); add it to the inventory');
      return observe.releasesOffered({ ssh: target.ssh, host: masterRefsOf(inv)[0]!, source, required: ['kubeadm'] });
    })();
    let etcd = input.etcdReleases ?? [];
    if (!input.etcdReleases && inv.etcd.topology === 'external' && inv.etcd.binaries) {
      // A release counts only if every member has it: each installs from its own copy.
      const per = await Promise.all(members.map((m) => observe.releasesOffered({ ssh: target.ssh, host: m, source: inv.etcd.binaries!.source, required: ['etcd', 'etcdctl'] })));
      etcd = per.reduce((a, b) => a.filter((v) => b.includes(v)));
    }
    return { k8s, etcd };
  }, (r) => `Kubernetes ${r.k8s.join(', ') || 'none'}; etcd ${r.etcd.join(', ') || 'none'}`);

  const pictureOf = (v: { nodes: NodeVersions[]; etcd: EtcdMemberVersion[] }): Picture => {
    const verdict = planUpgrade({
      observed: { nodes: v.nodes, etcd: { topology: inv.etcd.topology, members: v.etcd.map((m) => ({ name: m.name, ...(m.version ? { version: m.version } : {}) })) } },
      target: input.to, kubernetesReleases: releases.k8s, etcdReleases: releases.etcd,
    });
    if (!verdict.ok) throw refused(`upgrade refused: ${verdict.reason}`);
    return { ...v, plan: verdict.plan };
  };
  const first = pictureOf(seen);
  // Runs recorded before the Kubernetes hops were built stop before them (and show why in the plan).
  const k8sBuilt = patched('upgrade-kubernetes-hops');
  const etcdHops = first.plan.hops.filter((h): h is Extract<Hop, { kind: 'etcd' }> => h.kind === 'etcd');
  const k8sHops = first.plan.hops.filter((h) => h.kind === 'kubernetes').map((h) => `Kubernetes ${h.from} → ${h.to}`);
  const planText = (p: Picture) => (k8sBuilt ? renderPlan(p.plan, inv.cluster.name) : `${renderPlan(p.plan, inv.cluster.name)}\n\n${notBuiltText(p.plan)}`);
  etcdHops.forEach((h, i) => rb.addStep(`etcd-${i + 1}:order`, `etcd ${h.from} → ${h.to}: members in order (followers first, leader last)`));

  const result: UpgradeResult = { cluster: inv.cluster.name, plan: planText(first), planOnly: input.planOnly === true, notRun: k8sBuilt ? [] : k8sHops };
  if (input.planOnly) {
    for (const s of ['approve', 'snapshot']) rb.skip(s, 'plan mode: nothing is changed');
    rb.setReport(result.plan);
    rb.finish('planned');
    return result;
  }
  if (!first.plan.hops.length) {
    for (const s of ['approve', 'snapshot']) rb.skip(s, 'nothing to do');
    rb.setReport(result.plan);
    rb.finish();
    return result;
  }
  if (!etcdHops.length && !k8sBuilt) {
    rb.setReport(result.plan);
    throw ApplicationFailure.create({ type: NOT_BUILT, nonRetryable: true, message: `nothing was changed: the plan has only Kubernetes hops (${k8sHops.join(', ')}), and Mooring does not run those yet (kubeadm upgrade apply/node, kubelets and drains are not built); do them by hand with kubeadm, one minor at a time` });
  }
  const binaries = inv.etcd.binaries;
  if (!binaries && (etcdHops.length || !k8sBuilt)) throw bad('etcd.binaries is not set: the etcd hops need to know where each release\'s binaries are on the members (etcd.binaries.source, e.g. /opt/etcd/{version}) and where the unit runs etcd from (etcd.binaries.installDir)');
  const k8sBinaries = inv.kubernetes.binaries;
  if (k8sBuilt && k8sHops.length && !k8sBinaries) throw bad('kubernetes.binaries is not set: the Kubernetes hops install each release\'s kubeadm, kubelet and kubectl from kubernetes.binaries.source');
  const skipSnapshot = k8sBuilt && !inv.backup ? input.skipSnapshot : undefined;
  if (!inv.backup && !skipSnapshot) throw refused('the upgrade takes a fresh snapshot through etcd-backup before any change, and the inventory has no backup section: add backup (object store, encryption key; see docs/inventory.md) and run again, or pass --skip-snapshot REASON to go on without a way back');

  const approved = await approveStillTrue(rb, {
    runbook: 'upgrade', state: first, plan: planText, timeoutMs: input.approvalTimeoutMs ?? UPGRADE_DEFAULT_APPROVAL_TIMEOUT_MS,
    observe: async () => pictureOf(await look()),
    compare: (then, now) => ({ changes: versionChanges(then, now), ...(sameHops(then.plan, now.plan) ? {} : { refusal: `the plan changed (now: ${now.plan.hops.map(hopText).join(', ') || 'nothing to do'}): run the upgrade again to see and approve the new plan` }) }),
  });
  result.plan = approved.plan;

  const info = workflowInfo();
  // From the cluster and this run, not the workflow ID (which is ops/<cluster> anyway): a replay
  // runs under another ID, and the child's ID must come out the same.
  const backupId = `ops/${inv.cluster.name}/etcd-backup-${info.runId}`;
  if (skipSnapshot) rb.skip('snapshot', `NO SNAPSHOT: skipped by the operator (${skipSnapshot}); there is no way back through Mooring`);
  const backup = skipSnapshot ? undefined : await rb.step('snapshot', async () => {
    const r = await executeChild<(i: { inventory: Inventory; trigger: string }) => Promise<EtcdBackupResult>>('etcdBackup', {
      workflowId: backupId, args: [{ inventory: inv, trigger: `upgrade ${info.workflowId}` }],
      staticSummary: `etcd-backup on ${inv.cluster.name} (before the upgrade to ${input.to})`,
      typedSearchAttributes: [{ key: CLUSTER, value: inv.cluster.name }, { key: RUNBOOK, value: 'etcd-backup' }, { key: PHASE, value: 'starting' }],
    });
    if (r.outcome !== 'completed' || !r.snapshot || !r.uploaded) {
      throw refused(`the snapshot before the upgrade is not off-site (${r.outcome}: ${r.problems.join('; ') || 'no upload'}); nothing was changed. Fix the object store and run again`);
    }
    return r;
  }, (r) => `${backupId}: ${r.uploaded!.key} (revision ${r.snapshot!.revision}, ${r.snapshot!.totalKeys} keys, sha256 and snapshot status checked)`);
  if (backup) result.snapshot = { workflowId: backupId, key: backup.uploaded!.key, path: backup.snapshot!.path, revision: backup.snapshot!.revision };

  const outcomes: HopOutcome[] = [];
  const kubeOutcomes: KubeHopOutcome[] = [];
  const tag = runTag(info.workflowId, info.runId);
  if (!k8sBuilt) {
    for (const [i, h] of etcdHops.entries()) {
      outcomes.push(await upgradeEtcdHop(rb, { target, members, binaries: binaries!, probeKey: `mooring/upgrade/${tag}`, probeValue: `etcd ${h.to}` }, { index: i + 1, from: h.from, to: h.to }));
    }
  } else {
    const u = inv.kubernetes.upgrade;
    const gates = input.gates ?? u.gates;
    const kubeNodes = nodes.map((n) => ({ name: n.name, ip: n.ip, sshPort: n.sshPort, where: n.where, role: n.role, ...(n.hostKey ? { hostKey: n.hostKey } : {}) }));
    const ctx = {
      ssh: target.ssh, masters: kubeNodes.filter((n) => n.role === 'master'), workers: kubeNodes.filter((n) => n.role === 'worker'),
      batches: workerBatches(workers.map((w) => w.name), input.workerBatch ?? u.workerBatch),
      binaries: k8sBinaries!, ignorePreflightErrors: u.ignorePreflightErrors, drainTimeoutSeconds: u.drainTimeoutSeconds,
      certificateMinDays: u.certificateMinDays, etcd: inv.etcd.topology, gate: gates === 'per-hop',
      approvalTimeoutMs: input.approvalTimeoutMs ?? UPGRADE_DEFAULT_APPROVAL_TIMEOUT_MS, run: info.workflowId,
    };
    let e = 0;
    let k = 0;
    for (const h of first.plan.hops) {
      if (h.kind === 'etcd') {
        e += 1;
        outcomes.push(await upgradeEtcdHop(rb, { target, members, binaries: binaries!, probeKey: `mooring/upgrade/${tag}`, probeValue: `etcd ${h.to}` }, { index: e, from: h.from, to: h.to }));
        continue;
      }
      const behind = kubeOutcomes.flatMap((o) => o.skipped);
      if (behind.length) {
        // A node left on the previous release would fall two minors behind: never make skew worse.
        result.kubernetes = kubeOutcomes;
        rb.setReport(`${result.plan}\n\n**Stopped before Kubernetes ${h.from} → ${h.to}**: ${behind.map((b) => `${b.node} (skipped by ${b.by}: ${b.reason})`).join(', ')} still run the previous release; upgrade them, then run the upgrade again.`);
        rb.finish('stopped-nodes-behind');
        throw ApplicationFailure.create({ type: 'NodesBehind', nonRetryable: true, message: `stopped before Kubernetes ${h.from} → ${h.to}: ${behind.map((b) => b.node).join(', ')} were skipped and run the previous minor; another hop would leave them two minors behind. Upgrade them and run the upgrade again (nodes already on the release are skipped)` });
      }
      k += 1;
      kubeOutcomes.push(await upgradeKubernetesHop(rb, ctx, { index: k, from: h.from, to: h.to }));
    }
    result.kubernetes = kubeOutcomes;
  }
  result.etcd = outcomes.map((o) => ({ version: o.to, kept: o.kept }));

  if (input.canary) {
    rb.addStep('canary', `Canary ${input.canary.key} reads back`);
    await rb.step('canary', async () => {
      const got = await observe.etcdCanary({ target, via: members[0]!, endpoints: members.map((m) => `https://${m.ip}:${inv.etcd.clientPort}`), op: 'get', key: input.canary!.key });
      if (got.value !== input.canary!.value) throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: `canary ${input.canary!.key} reads ${JSON.stringify(got.value)} after the upgrade, expected ${JSON.stringify(input.canary!.value)}` });
      return got;
    }, () => 'intact');
  }

  const last = etcdHops.at(-1)?.to;
  const way = result.snapshot ? `The way back: snapshot ${result.snapshot.key} (run ${backupId}).` : `No snapshot was taken (${skipSnapshot ?? 'skipped'}).`;
  const report = [result.plan, ''];
  if (last) {
    report.push(
      `**etcd done**: every member runs ${last} (cluster ${outcomes.at(-1)!.clusterId}). ${way}`,
      ...Object.entries(Object.assign({}, ...outcomes.map((o) => o.kept)) as Record<string, string>).map(([n, p]) => `- ${n}: replaced binaries kept in ${p}`),
      `Update etcd.version in the inventory to ${last}.`,
    );
  }
  if (k8sBuilt && kubeOutcomes.length) {
    const skipped = kubeOutcomes.flatMap((o) => o.skipped);
    report.push(`**Kubernetes done**: ${kubeOutcomes.map((o) => o.to).join(' → ')}${skipped.length ? `, except ${skipped.map((s) => `${s.node} (skipped by ${s.by}: ${s.reason}; still on the previous release, schedulable)`).join(', ')}` : ', every node on the release'}. ${last ? '' : way} Update kubernetes.version in the inventory to ${kubeOutcomes.at(-1)!.to}.`);
    for (const n of kubeOutcomes.flatMap((o) => o.notes)) report.push(`- ${n}`);
  }
  if (!k8sBuilt && k8sHops.length) {
    report.push('', `**Stopped before the Kubernetes hops**: ${k8sHops.join(', ')} — not built yet; nothing was done to Kubernetes.`);
    rb.setReport(report.join('\n'));
    rb.finish('stopped-before-kubernetes');
    throw ApplicationFailure.create({ type: NOT_BUILT, nonRetryable: true, message: `etcd was upgraded to ${last} on every member; the run stopped before the Kubernetes hops (${k8sHops.join(', ')}), which Mooring does not run yet: do them by hand with kubeadm, one minor at a time` });
  }
  rb.setReport(report.join('\n'));
  rb.finish();
  return result;
}

const hopText = (h: Hop) => `${h.kind} ${h.from} → ${h.to}`;
const sameHops = (a: UpgradePlan, b: UpgradePlan) => a.hops.map(hopText).join() === b.hops.map(hopText).join();

function notBuiltText(p: UpgradePlan): string {
  const k = p.hops.filter((h) => h.kind === 'kubernetes');
  return k.length ? `NOT BUILT YET: Mooring runs the etcd hops and stops before hop ${p.hops.indexOf(k[0]!) + 1} (the Kubernetes hops): those are planned and shown, never run.` : '';
}

function summarizeNodes(nodes: readonly NodeVersions[]): string {
  const cp = nodes.filter((n) => n.apiserver).map((n) => `${n.name} ${n.apiserver}`);
  const down = nodes.filter((n) => !n.reachable).map((n) => n.name);
  return `${cp.length ? `control plane ${cp.join(', ')}` : 'no control plane found'}${down.length ? `; not reachable: ${down.join(', ')}` : ''}`;
}

function versionChanges(then: Picture, now: Picture): string[] {
  const out: string[] = [];
  for (const n of now.nodes) {
    const b = then.nodes.find((x) => x.name === n.name);
    for (const k of ['kubelet', 'kubeadm', 'apiserver', 'controllerManager', 'scheduler'] as const) if (b && b[k] !== n[k]) out.push(`${n.name} ${k} ${b[k] ?? 'absent'} → ${n[k] ?? 'absent'}`);
  }
  for (const m of now.etcd) {
    const b = then.etcd.find((x) => x.name === m.name);
    if (b && b.version !== m.version) out.push(`etcd ${m.name} ${b.version ?? '?'} → ${m.version ?? '?'}`);
  }
  return out;
}
