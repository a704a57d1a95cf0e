// Runbook `recover-etcd-majority` (seed 001, "majority failure", done the way etcd's disaster
// recovery guide says): confirm quorum is really lost, pick the newest snapshot that passes its
// integrity check, show the plan, then fence every member, move data dirs aside (never delete,
// never touch config or certificates), restore one member as a new single-member cluster with a
// new token, and grow it back member by member as learners, checking agreement after each step.
import { ApplicationFailure, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { EtcdMemberRef } from '../../activities/etcd-recovery/context.js';
import type { ControlPlaneRestart } from '../../activities/control-plane/index.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { assess, initialCluster, majorityRecoveryVerdict, quorumLostConfirmed, type ClusterAssessment } from './assessment.js';
import { etcdTargetOf, masterRefsOf, memberRefsOf, runTag } from './target.js';
import { CHANGE, WAIT } from './options.js';
import { chooseSnapshot, type SnapshotChoice } from './snapshot-choice.js';
import { waitForAgreement } from './agreement.js';
import { approvalTimeoutOf, approveStillTrue } from './approval.js';
import { checkMajorityPlan, reachableOf, type MajorityPicture } from './plan-check.js';
import type { RecoveryResult } from './follower.js';
import { backupTargetOf } from '../etcd-backup/target.js';
import { UPLOAD } from '../etcd-backup/options.js';

export interface RecoverMajorityInput {
  inventory: Inventory;
  /** Where snapshots lie on the members (default: backup.localDir, else /var/backups/etcd). */
  snapshotDir?: string;
  approvalTimeoutMs?: number;
  planOnly?: boolean;
  canary?: { key: string; value: string };
  /** How many spaced probes must all find quorum lost (default 2, CONFIRM_GAP_MS apart; 3, 5 s apart in runs started before that). */
  confirmRounds?: number;
  confirmIntervalMs?: number;
}

/**
 * etcd's election timeout: Mooring writes no `election-timeout` into member configs, so etcd's
 * default of 1000 ms applies.
 */
export const ETCD_ELECTION_TIMEOUT_MS = 1000;
/**
 * The quiet time between two probes that both find quorum lost. A cluster that still has a
 * majority alive and is only between leaders elects one within two election timeouts (each
 * member's timeout is randomised in [1, 2) × the election timeout, and the first candidate with
 * a majority wins); three leave a round trip and a loaded host's scheduling to spare. Two probes
 * that many milliseconds apart, each asking every member in parallel and each finding no majority
 * healthy, therefore rule out a transient election as surely as more probes further apart did
 * (3 probes 5 s apart, ~22 s on the lab), in about a third of the time (docs/performance.md).
 *
 * Since 'majority-confirm-by-status' a probe no longer waits inside itself for a leader: a member
 * that answers `endpoint status` with leader 0 is counted unhealthy at once (before, `endpoint
 * health` waited up to its 3 s for a leader that never came: ~6 s of a ~10 s confirmation). What
 * makes the confirmation sure is unchanged: it is this gap, not the wait inside one probe. A
 * majority that is alive and only between leaders has one again within two election timeouts, so
 * the second probe CONFIRM_GAP_MS later sees it (healthy, leader named) and the run refuses. A
 * member that is merely slow is judged as before: a status that is slow, times out or fails, and
 * a status naming a leader, all go on to the same `endpoint health` check (observe.ts); only a
 * member's own "no leader" answer is taken at once.
 */
export const CONFIRM_GAP_MS = 3 * ETCD_ELECTION_TIMEOUT_MS;

const change = proxyActivities<MooringActivities>(CHANGE);
const wait = proxyActivities<MooringActivities>(WAIT);
const transfer = proxyActivities<MooringActivities>(UPLOAD);

export async function recoverEtcdMajority(input: RecoverMajorityInput): Promise<RecoveryResult & { snapshot?: SnapshotChoice; skippedMembers?: string[] }> {
  const inv = input.inventory;
  const members = memberRefsOf(inv);
  const target = etcdTargetOf(inv);
  const info = workflowInfo();
  const tag = runTag(info.workflowId, info.runId);
  const token = `${inv.cluster.name}-${tag}`;
  const dir = input.snapshotDir ?? inv.backup?.localDir ?? '/var/backups/etcd';
  // Guarded: runs started before the shorter confirmation replay with 3 probes 5 s apart.
  const electionTied = patched('majority-confirm-by-election-timeout');
  const rounds = input.confirmRounds ?? (electionTied ? 2 : 3);
  const confirmGapMs = input.confirmIntervalMs ?? (electionTied ? CONFIRM_GAP_MS : 5000);
  // Guarded: the read-only snapshot search beside the confirmation's later probes, and the
  // re-assessment's two reads side by side; runs started before read one after the other.
  const parallelReads = patched('majority-parallel-reads');
  // Guarded: the confirmation's probes name a member that reports no leader (`endpoint status`,
  // leader 0) unhealthy at once instead of waiting out `endpoint health`'s 3 s; runs started before
  // probe with health alone. Only here: see CONFIRM_GAP_MS for why two such probes are as sure.
  const confirmByStatus = patched('majority-confirm-by-status');
  const rb = new Runbook('recover-etcd-majority', inv.cluster.name, [
    { id: 'confirm', title: `Confirm quorum is lost (${rounds} probes)` },
    { id: 'snapshot', title: `Choose a snapshot from ${dir}` },
    ...(inv.backup ? [
      { id: 'snapshot:remote', title: `Look for a newer verified snapshot in the bucket ${inv.backup.objectStore.bucket}` },
      { id: 'fetch', title: 'Fetch it onto a member (decrypt, sha256, check)' },
    ] : []),
    { id: 'approve', title: 'Approve the restore plan' },
    { id: 'fence', title: 'Stop etcd on every member' },
    { id: 'move-aside', title: 'Move every data dir aside' },
    { id: 'restore', title: 'Restore the snapshot on the first member' },
    { id: 'start-first', title: 'Start the first member as a new cluster' },
  ]);
  const controlPlaneStep = { id: 'control-plane', title: 'Restart the Kubernetes control plane on the masters' };

  const searchSnapshots = () => change.findEtcdSnapshots({ target, hosts: members, dir });
  let earlySearch: ReturnType<typeof searchSnapshots> | undefined;
  const assessment = await rb.step('confirm', async () => {
    const seen: ClusterAssessment[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i > 0) await sleep(confirmGapMs);
      seen.push(assess(await wait.observeEtcd({ target, members, ...(confirmByStatus ? { leaderlessAtOnce: true } : {}) })));
      if (seen.at(-1)!.quorum) break;
      // The first probe found quorum lost: the snapshot search (read-only: lists and checks files)
      // runs while the next probes confirm it. Its result is used only once they have; a refusal
      // leaves it unread (the catch keeps its failure from counting as unhandled meanwhile).
      if (parallelReads && !earlySearch) { earlySearch = searchSnapshots(); void earlySearch.catch(() => undefined); }
    }
    const last = seen.at(-1)!;
    if (!quorumLostConfirmed(seen, rounds)) {
      const v = majorityRecoveryVerdict(last);
      throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `majority recovery refused: ${v.ok ? 'quorum came back during the checks' : v.reason}` });
    }
    return last;
  }, (a) => `quorum lost in every probe: ${a.healthy.length} of ${a.size} healthy`);

  const found = await rb.step('snapshot', () => earlySearch ?? searchSnapshots(), (f) => `${f.reduce((n, h) => n + h.checks.length, 0)} snapshot file(s) checked`);
  let choice = chooseSnapshot(found);
  // Off-site snapshots (etcd-backup): when the bucket holds a newer trusted one than any member,
  // or the members hold none, it is fetched onto a member and checked there like a local file.
  const backup = backupTargetOf(inv);
  if (backup && patched('majority-remote-snapshots')) {
    const remote = await rb.step('snapshot:remote', () => change.newestRemoteSnapshot({ backup }),
      (r) => (r.snapshot ? `${r.snapshot.key}: revision ${r.snapshot.revision}, taken ${r.snapshot.takenAt}` : `none usable: ${r.error ?? ''}`));
    const rs = remote.snapshot;
    const reachableFirst = members.find((m) => found.some((f) => f.host === m.name && !f.error));
    const host = choice ? members.find((m) => m.name === choice!.host) : reachableFirst;
    if (!rs || (choice && rs.revision <= choice.revision)) rb.skip('fetch', rs ? `the members' snapshot is as new (revision ${choice!.revision} ≥ ${rs.revision})` : 'nothing usable in the bucket');
    else if (!host) rb.skip('fetch', 'no member is reachable to receive it');
    else if (input.planOnly) rb.skip('fetch', `plan mode: would fetch ${rs.key} (revision ${rs.revision}) onto ${host.name}:${dir}`);
    else {
      const fetched = await rb.step('fetch', () => transfer.fetchRemoteSnapshot.executeWithOptions({ summary: `fetch ${rs.key} to ${host.name}` }, [{ target, host, backup, snapshot: rs, dir, holder: info.workflowId }]),
        (c) => `${host.name}:${c.path}, revision ${c.revision}, ${c.totalKeys} keys`);
      choice = {
        host: host.name, path: fetched.path, revision: fetched.revision ?? 0, totalKeys: fetched.totalKeys ?? 0, hash: fetched.hash ?? 0, mtime: fetched.mtime,
        rejected: choice ? [{ host: choice.host, path: choice.path, error: `older than the off-site ${rs.key} (revision ${choice.revision} < ${rs.revision})`, newerBySeconds: 0 }] : [],
        remoteKey: rs.key,
      };
    }
  }
  if (!choice) {
    throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `no snapshot in ${dir} on any member passes \`etcdctl snapshot status\`${backup ? ' and the bucket has none newer to offer' : ''}${found.some((f) => f.error) ? ` (unreachable: ${found.filter((f) => f.error).map((f) => f.host).join(', ')})` : ''}: copy a verified snapshot there and run again` });
  }
  // Which member restores, which grow back, which are left out: from the snapshot and who answers SSH.
  const layoutOf = (p: MajorityPicture) => {
    const first = members.find((m) => m.name === p.choice.host)!;
    const reachable = new Set(reachableOf(p.found));
    return {
      first, reachable,
      others: members.filter((m) => m !== first && reachable.has(m.name)),
      skipped: members.filter((m) => m !== first && !reachable.has(m.name)).map((m) => m.name),
    };
  };
  const planOf = (p: MajorityPicture) => { const l = layoutOf(p); return majorityPlan(inv, p.a, p.choice, l.first, l.others, l.skipped, dir, tag, token); };
  const initial: MajorityPicture = { a: assessment, found, choice };
  layoutOf(initial).others.forEach((m) => rb.addStep(`grow:${m.name}`, `Add ${m.name} back (learner, then voting)`));
  rb.addStep('verify', 'Verify members, cluster ID and data');
  rb.addStep(controlPlaneStep.id, controlPlaneStep.title);

  if (input.planOnly) {
    const plan = planOf(initial);
    for (const s of rb.progress.steps) if (s.status === 'pending') rb.skip(s.id, 'plan mode');
    rb.setReport(plan);
    rb.finish('planned');
    return { cluster: inv.cluster.name, plan, planOnly: true, snapshot: choice };
  }
  // The approval may come late: quorum may be back, members may answer again, the snapshot may be gone.
  const approved = await approveStillTrue(rb, {
    runbook: 'majority recovery', state: initial, plan: planOf, timeoutMs: approvalTimeoutOf(input, 'majority'),
    observe: async (then) => {
      if (parallelReads) {
        // The whole voting membership (nothing is changed yet): below a quorum of listening members
        // the live ones are asked their status only, not health that can only time out (3 s).
        const whole = patched('majority-reassess-below-quorum') ? { wholeCluster: true } : {};
        const [views, found] = await Promise.all([wait.observeEtcd({ target, members, ...whole }), searchSnapshots()]);
        return { a: assess(views), found, choice: then.choice };
      }
      return { a: assess(await wait.observeEtcd({ target, members })), found: await searchSnapshots(), choice: then.choice };
    },
    compare: (then, now) => {
      const r = checkMajorityPlan(then, now);
      return { ...r, ...(r.choice ? { state: { ...now, choice: r.choice } } : {}) };
    },
  });
  const plan = approved.plan;
  const picked = approved.state.choice;
  const { first, reachable, others, skipped } = layoutOf(approved.state);
  let previous = 'start-first';
  for (const m of others) { rb.addStep(`grow:${m.name}`, `Add ${m.name} back (learner, then voting)`, previous); previous = `grow:${m.name}`; }
  for (const s of rb.progress.steps) {
    if (s.id.startsWith('grow:') && s.status === 'pending' && !others.some((m) => s.id === `grow:${m.name}`)) rb.skip(s.id, 'not in the approved plan any more');
  }

  const fenceable = members.filter((m) => reachable.has(m.name));
  await rb.step('fence', () => Promise.all(fenceable.map((m) => change.stopEtcdOn({ target, host: m }))),
    () => `stopped and confirmed on ${fenceable.map((m) => m.name).join(', ')}${skipped.length ? `; unreachable (kept out by the new cluster token): ${skipped.join(', ')}` : ''}`);
  const moved = await rb.step('move-aside', () => Promise.all(fenceable.map((m) => change.moveEtcdDataAside({ target, host: m, tag }))),
    (r) => r.map((x, i) => `${fenceable[i]!.name}: ${x.movedTo ?? 'no data'}`).join('; '));

  const restore = await rb.step('restore', () => change.restoreEtcdSnapshot({
    target, host: first, etcdVersion: inv.etcd.version,
    spec: { snapshot: picked.path, name: first.name, initialCluster: initialCluster([first], inv.etcd.peerPort), clusterToken: token, peerUrl: `https://${first.ip}:${inv.etcd.peerPort}`, dataDir: inv.etcd.dataDir },
  }), (r) => `${r.tool} snapshot restore (revision ${picked.revision}); ${r.note}`);

  await rb.step('start-first', async () => {
    await change.writeEtcdConfigOn({ target, host: first, config: { name: first.name, ip: first.ip, initialCluster: [first], state: 'new', clusterToken: token } });
    await change.startEtcdOn({ target, host: first });
    return wait.expectEtcdHealthy({ target, host: first });
  }, () => `${first.name} serves a one-member cluster (token ${token})`);

  const joined: EtcdMemberRef[] = [first];
  for (const m of others) {
    await rb.step(`grow:${m.name}`, async () => {
      const endpoints = joined.map((j) => `https://${j.ip}:${inv.etcd.clientPort}`);
      const via = { target, via: first, endpoints };
      // Right after a restore etcd refuses member add ("unhealthy cluster") for a few seconds: wait it out.
      const added = await wait.addEtcdLearner({ ...via, who: { name: m.name, ip: m.ip } });
      await change.writeEtcdConfigOn({ target, host: m, config: { name: m.name, ip: m.ip, initialCluster: [...joined, m], state: 'existing', clusterToken: token } });
      await change.startEtcdOn({ target, host: m });
      await wait.promoteEtcdLearner({ ...via, id: added.id });
      await wait.expectEtcdHealthy({ target, host: m });
      joined.push(m);
      // After every membership step, all joined members must agree on one cluster. A member fresh
      // from a multi-GB snapshot transfer may miss one health check: wait for agreement (bounded by
      // WAIT's retries) rather than judge it on a single look.
      const views = patched('majority-grow-waits-for-agreement')
        ? await waitForAgreement(target, joined)
        : await change.observeEtcd({ target, members: joined });
      const ids = new Set(views.flatMap((v) => (v.clusterId ? [v.clusterId] : [])));
      if (views.some((v) => !v.healthy) || ids.size !== 1) {
        throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: `after adding ${m.name}: ${views.filter((v) => !v.healthy).map((v) => v.name).join(', ') || 'all healthy'}; cluster IDs ${[...ids].join(', ')}` });
      }
      return added;
    }, (a) => `member ${a.id}, voting`);
  }

  await rb.step('verify', async () => {
    const endpoints = joined.map((j) => `https://${j.ip}:${inv.etcd.clientPort}`);
    const views = await change.observeEtcd({ target, members: joined });
    const problems: string[] = [];
    if (views.some((v) => !v.healthy)) problems.push(`unhealthy: ${views.filter((v) => !v.healthy).map((v) => v.name).join(', ')}`);
    if (new Set(views.map((v) => v.clusterId)).size !== 1) problems.push('members disagree on the cluster ID');
    const revision = Math.max(...views.map((v) => v.revision ?? 0));
    if (revision < picked.revision) problems.push(`revision ${revision} is below the snapshot's ${picked.revision}`);
    if (input.canary) {
      const got = await change.etcdCanary({ target, via: first, endpoints, op: 'get', key: input.canary.key });
      if (got.value !== input.canary.value) problems.push(`canary ${input.canary.key} reads ${JSON.stringify(got.value)}, expected ${JSON.stringify(input.canary.value)}`);
    }
    if (problems.length) throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: problems.join('; ') });
    return { members: joined.length, revision };
  }, (r) => `${r.members} members healthy in one cluster at revision ${r.revision}${input.canary ? ', canary intact' : ''}`);

  // The API servers' caches hold revisions from before the restore: restart the control plane
  // (guarded: runs recorded before this step existed replay without it).
  let controlPlane: string | undefined;
  if (patched('majority-control-plane-restart')) {
    const describe = (r: ControlPlaneRestart[]) => r.map((x) => `${x.host}: ${x.skipped ?? `restarted ${[...x.stopped, ...(x.alreadyRestarted ?? [])].map((c) => c.split(' ')[0]).join(', ')}${x.readyz ? `, /readyz ${x.readyz}` : ''}`}`).join('; ');
    const restarted = await rb.step('control-plane', async () => {
      if (!patched('control-plane-rolling-restart')) return Promise.all(masterRefsOf(inv).map((m) => change.restartControlPlane({ ssh: target.ssh, host: m })));
      // One master at a time, so the others keep serving the API: the next one only once this one's
      // apiserver answers /readyz. The IDs are taken first (and kept in history) so a retried
      // restart finishes the job instead of stopping the new containers.
      const done: ControlPlaneRestart[] = [];
      for (const m of masterRefsOf(inv)) {
        const seen = await change.controlPlaneContainers({ ssh: target.ssh, host: m });
        done.push(seen.skipped ? { host: m.name, stopped: [], skipped: seen.skipped }
          : await change.restartControlPlane.executeWithOptions({ summary: `restart the control plane on ${m.name}` }, [{ ssh: target.ssh, host: m, before: seen.containers, apiserverReadiness: inv.kubernetes.apiserverReadiness }]));
      }
      return done;
    }, describe);
    controlPlane = describe(restarted);
  }
  const movedList = moved.flatMap((x, i) => (x.movedTo ? [`${fenceable[i]!.name}:${x.movedTo}`] : []));
  rb.setReport(`${plan}\n\n**Done.** ${restore.note}. Old data dirs kept: ${movedList.join(', ') || 'none'}.${skipped.length ? ` Not re-added (unreachable): ${skipped.join(', ')} — run \`mooring recover etcd follower\` for each when it is back.` : ''}\n${controlPlane ? `Kubernetes control plane restarted so its caches do not hold revisions from before the restore: ${controlPlane}.` : 'Restart the Kubernetes control plane (kube-apiserver) so its caches do not hold revisions from before the restore.'}`);
  rb.finish();
  return { cluster: inv.cluster.name, plan, planOnly: false, snapshot: picked, ...(skipped.length ? { skippedMembers: skipped } : {}), recovered: joined.map((j) => j.name).join(',') };
}

function majorityPlan(inv: Inventory, a: ClusterAssessment, c: SnapshotChoice, first: EtcdMemberRef, others: EtcdMemberRef[], skipped: string[], dir: string, tag: string, token: string): string {
  return [
    `Cluster ${inv.cluster.name}: quorum lost (${a.healthy.length} of ${a.size} healthy: ${a.healthy.join(', ') || 'none'}).`,
    `Snapshot: ${c.path} on ${c.host}, revision ${c.revision}, ${c.totalKeys} keys, hash ${c.hash}${c.remoteKey ? ` (fetched from the bucket: ${c.remoteKey})` : ''}.`,
    ...c.rejected.map((r) => `  Not used: ${r.path} on ${r.host} (${r.error}); it is ${r.newerBySeconds}s newer than the chosen one.`),
    `1. Stop etcd on ${[first, ...others].map((m) => m.name).join(', ')} and confirm it is stopped.`,
    `2. Move ${inv.etcd.dataDir} aside to ${inv.etcd.dataDir}.${tag} on each (kept; ${inv.etcd.configPath} and /etc/etcd/ssl untouched).`,
    `3. Restore the snapshot on ${first.name} (hash checked) as a one-member cluster with the new token ${token}; start it.`,
    `4. Add back ${others.map((m) => m.name).join(', ') || 'no other member'} one by one: member add --learner, config with initial-cluster-state existing, start, promote, check agreement.`,
    ...(skipped.length ? [`   Unreachable, left out: ${skipped.join(', ')}.`] : []),
    `5. Verify all members healthy in one cluster at revision ≥ ${c.revision}, and the canary key when one was given.`,
    `6. Restart the Kubernetes control plane on ${inv.masters.map((m) => m.name).join(', ')}, one master at a time (stop its kube-apiserver, kube-controller-manager and kube-scheduler containers, wait until the kubelet runs new ones, then the next master).`,
    `Data written after ${dir}/${c.path.split('/').pop()} was taken is lost.`,
  ].join('\n');
}
