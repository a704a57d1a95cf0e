// The follower procedure, shared by the follower and leader runbooks: remove the failed member,
// fence it, move its data dir aside, write its config for the existing cluster, add it back as a
// learner, start it, promote it once it has caught up, and check every member agrees.
import { ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { EtcdMemberRef, EtcdTarget } from '../../activities/etcd-recovery/context.js';
import type { Runbook } from '../runbook/runbook.js';
import { CHANGE, WAIT } from './options.js';
import { runTag } from './target.js';
import { waitForAgreement } from './agreement.js';

const change = proxyActivities<MooringActivities>(CHANGE);
const wait = proxyActivities<MooringActivities>(WAIT);

export const REPLACE_STEPS = (name: string) => [
  { id: 'remove', title: `Remove ${name} from the member list` },
  { id: 'fence', title: `Stop etcd on ${name}` },
  { id: 'move-aside', title: `Move ${name}'s data dir aside` },
  { id: 'config', title: `Write ${name}'s config (initial-cluster-state: existing)` },
  { id: 'add-learner', title: `Add ${name} back as a learner` },
  { id: 'start', title: `Start etcd on ${name}` },
  { id: 'promote', title: `Promote ${name} once caught up` },
  { id: 'healthy', title: `Wait until ${name} is healthy` },
  { id: 'verify', title: 'Verify members, cluster ID and canary' },
];

export interface ReplaceContext {
  target: EtcdTarget;
  members: EtcdMemberRef[];
  /** A healthy member to run etcdctl on, and the client URLs of the healthy members. */
  via: EtcdMemberRef;
  endpoints: string[];
  canary?: { key: string; value: string };
}

export async function replaceMember(rb: Runbook, ctx: ReplaceContext, failed: EtcdMemberRef): Promise<{ memberId: string; movedTo?: string }> {
  const via = { target: ctx.target, via: ctx.via, endpoints: ctx.endpoints };
  const on = { target: ctx.target, host: failed };
  const who = { name: failed.name, ip: failed.ip };
  const info = workflowInfo();

  await rb.step('remove', () => change.removeEtcdMember({ ...via, who }), (r) => (r.removedId ? `removed member ${r.removedId}` : 'was not a member any more'));
  await rb.step('fence', () => change.stopEtcdOn(on), (r) => (r.wasActive ? 'etcd was running and is now stopped' : 'etcd was not running'));
  const moved = await rb.step('move-aside', () => change.moveEtcdDataAside({ ...on, tag: runTag(info.workflowId, info.runId) }),
    (r) => (r.movedTo ? `${r.alreadyMoved ? 'already at' : 'moved to'} ${r.movedTo} (kept, not deleted)` : 'no data to move'));

  // Two reads for the next steps (are the certificates there; the current members): side by side
  // since 'replace-member-parallel-reads', one after the other in runs started before it.
  const parallelReads = patched('replace-member-parallel-reads');
  const [certs, listed] = parallelReads
    ? await Promise.all([change.etcdCertsPresent(on), change.etcdMembers(via)])
    : [await change.etcdCertsPresent(on), undefined];
  if (!certs.present) {
    // A replaced node: issue its certificates from the cluster's CA when the inventory gives the
    // CA key (guarded: runs recorded before this existed replay without it).
    if (!ctx.target.etcd.caKey || !patched('lay-down-certificates')) {
      throw ApplicationFailure.create({ type: 'PreconditionFailed', nonRetryable: true, message: `${failed.name} has no etcd certificates at ${ctx.target.etcd.serverCert} and friends: a replaced node needs them laid down before it can rejoin (set etcd.tls.caKey so Mooring can issue them, or copy them there)` });
    }
    rb.addStep('certificates', `Issue and lay down ${failed.name}'s certificates`);
    await rb.step('certificates', () => change.layDownEtcdCerts({ ...on, via: ctx.via }), (r) => `wrote ${r.paths.length} files from the cluster's CA`);
  }
  // The joining member must list the current members plus itself, and join the existing cluster.
  // Laying certificates down does not change the member list: the list read beside them holds.
  const current = listed ?? await change.etcdMembers(via);
  const byUrl = new Map(ctx.members.map((m) => [`https://${m.ip}:${ctx.target.etcd.peerPort}`, m]));
  const initialCluster = [...current.members.flatMap((m) => {
    const ref = m.peerURLs.map((u) => byUrl.get(u)).find(Boolean);
    return ref && ref.name !== failed.name ? [{ name: ref.name, ip: ref.ip }] : [];
  }), who];
  await rb.step('config', () => change.writeEtcdConfigOn({ ...on, config: { name: failed.name, ip: failed.ip, initialCluster, state: 'existing', clusterToken: 'unused-for-existing' } }),
    () => `initial-cluster ${initialCluster.map((m) => m.name).join(', ')}`);

  const added = await rb.step('add-learner', () => change.addEtcdLearner({ ...via, who }), (r) => `${r.alreadyPresent ? 'already present as' : 'added as'} ${r.id}${r.isLearner ? ' (learner)' : ''}`);
  await rb.step('start', () => change.startEtcdOn(on), (r) => (r.wasActive ? 'already running' : 'started'));
  await rb.step('promote', () => wait.promoteEtcdLearner({ ...via, id: added.id }), (r) => (r.promoted ? 'promoted to voting member' : 'already a voting member'));
  await rb.step('healthy', () => wait.expectEtcdHealthy(on), () => 'healthy');

  await rb.step('verify', async () => {
    const endpoints = [...ctx.endpoints, `https://${failed.ip}:${ctx.target.etcd.clientPort}`];
    // The member list, the members' agreement and the canary are independent reads: side by side
    // under 'replace-member-parallel-reads' (the same checks, judged together below).
    const agreement = () => (patched('replace-verify-waits-for-agreement')
      ? waitForAgreement(ctx.target, ctx.members)
      : change.observeEtcd({ target: ctx.target, members: ctx.members }));
    const canaryRead = () => (ctx.canary ? change.etcdCanary({ ...via, endpoints, op: 'get', key: ctx.canary.key }) : Promise.resolve(undefined));
    const [list, views, got] = parallelReads
      ? await Promise.all([change.etcdMembers({ ...via, endpoints }), agreement(), canaryRead()])
      : [await change.etcdMembers({ ...via, endpoints }), await agreement(), undefined];
    const problems: string[] = [];
    if (list.members.length !== ctx.members.length) problems.push(`${list.members.length} members listed, ${ctx.members.length} expected`);
    for (const m of list.members) {
      if (!m.name) problems.push(`member ${m.id} never started`);
      if (m.isLearner) problems.push(`member ${m.name || m.id} is still a learner`);
    }
    // A member that misses one 3 s health check on a loaded host is not a failed recovery: the
    // agreement read waits (bounded by WAIT's retries) for every member healthy and one cluster ID.
    const unhealthy = views.filter((v) => !v.healthy).map((v) => v.name);
    if (unhealthy.length) problems.push(`unhealthy: ${unhealthy.join(', ')}`);
    const ids = new Set(views.flatMap((v) => (v.clusterId ? [v.clusterId] : [])));
    if (ids.size > 1) problems.push(`members disagree on the cluster ID: ${[...ids].join(', ')}`);
    if (ctx.canary) {
      const read = got ?? await change.etcdCanary({ ...via, endpoints, op: 'get', key: ctx.canary.key });
      if (read.value !== ctx.canary.value) problems.push(`canary ${ctx.canary.key} reads ${JSON.stringify(read.value)}, expected ${JSON.stringify(ctx.canary.value)}`);
    }
    if (problems.length) throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: `after re-adding ${failed.name}: ${problems.join('; ')}` });
    return { members: list.members.length, clusterId: [...ids][0] };
  }, (r) => `${r.members} voting members, cluster ${r.clusterId}, all healthy${ctx.canary ? ', canary intact' : ''}`);

  return { memberId: added.id, ...(moved.movedTo ? { movedTo: moved.movedTo } : {}) };
}
