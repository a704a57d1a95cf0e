// One etcd hop (e.g. 3.4.30 → 3.5.35) member by member: followers first and the leader last,
// leadership moved away before a leader is stopped. For each member: install the release's
// binaries (the old ones kept), restart, wait until it is healthy on the new release, check every
// member agrees. A member already on the release (a retry after a crash) is only checked. A
// member that does not come back stops the run: its old binary and its data stay where they are.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { EtcdBinaries, EtcdMemberVersion } from '../../activities/etcd-upgrade/index.js';
import type { EtcdMemberRef, EtcdTarget } from '../../activities/etcd-recovery/context.js';
import { messageOf, rootCause, type Runbook } from '../runbook/runbook.js';
import { compareCodePoints } from '../runbook/order.js';
import { CHANGE, COME_BACK, INSTALL, OBSERVE } from './options.js';

const observe = proxyActivities<MooringActivities>(OBSERVE);
const install = proxyActivities<MooringActivities>(INSTALL);
const change = proxyActivities<MooringActivities>(CHANGE);
const wait = proxyActivities<MooringActivities>(COME_BACK);

export interface EtcdHopContext {
  target: EtcdTarget;
  members: EtcdMemberRef[];
  binaries: EtcdBinaries;
  /** Written by the agreement check (its value names the run). */
  probeKey: string;
  probeValue: string;
}

/** Followers first (by name), the leader last. */
export function memberOrder(views: readonly EtcdMemberVersion[]): string[] {
  return [...views].sort((a, b) => Number(a.isLeader) - Number(b.isLeader) || compareCodePoints(a.name, b.name)).map((v) => v.name);
}

export interface HopOutcome { to: string; kept: Record<string, string>; clusterId: string; revision: number }

export async function upgradeEtcdHop(rb: Runbook, ctx: EtcdHopContext, hop: { index: number; from: string; to: string }): Promise<HopOutcome> {
  const id = `etcd-${hop.index}`;
  const minor = hop.to.split('.').slice(0, 2).join('.');
  const views = await rb.step(`${id}:order`, () => observe.observeEtcdVersions({ target: ctx.target, members: ctx.members }),
    (v) => `order ${memberOrder(v).join(', ')} (${v.map((x) => `${x.name} ${x.version ?? '?'}${x.isLeader ? ', leader' : ''}`).join('; ')})`);
  const order = memberOrder(views);
  order.forEach((n, i) => rb.addStep(`${id}:${n}`, `etcd ${hop.to} on ${n}`, i === 0 ? `${id}:order` : `${id}:${order[i - 1]}`));
  rb.addStep(`${id}:cluster-version`, `Cluster version ${minor}`, `${id}:${order.at(-1)}`);

  const done: string[] = views.filter((v) => v.version === hop.to).map((v) => v.name);
  const kept: Record<string, string> = {};
  let agreed = { clusterId: '', revision: 0 };
  for (const name of order) {
    const host = ctx.members.find((m) => m.name === name)!;
    const on = { target: ctx.target, host };
    agreed = await rb.step(`${id}:${name}`, async () => {
      const notes: string[] = [];
      const now = (await observe.observeEtcdVersions({ target: ctx.target, members: [host] }))[0];
      const needed = now?.version !== hop.to;
      if (!needed) {
        notes.push(`already on ${hop.to}`);
      } else {
        const inst = await install.installEtcdRelease.executeWithOptions({ summary: `install etcd ${hop.to} on ${name}` }, [{ ...on, binaries: ctx.binaries, version: hop.to }]);
        if (inst.keptAt) kept[name] = inst.keptAt;
        notes.push(inst.alreadyInstalled ? `${hop.to} installed earlier` : `installed ${hop.to}${inst.keptAt ? ` (${inst.previous} kept at ${inst.keptAt})` : ''}`);
        const lead = await change.moveEtcdLeaderAway.executeWithOptions({ summary: `move leadership away from ${name}` }, [{ ...on, members: ctx.members, prefer: done }]);
        if (lead.moved) notes.push(`leadership moved to ${lead.leader}`);
      }
      try {
        if (needed) {
          const r = await change.restartEtcdAt.executeWithOptions({ summary: `restart etcd on ${name}` }, [{ ...on, version: hop.to }]);
          notes.push(r.restarted ? 'restarted' : `already running ${r.was}`);
        }
        await wait.expectEtcdMemberAt.executeWithOptions({ summary: `wait for ${name} on ${hop.to}` }, [{ ...on, version: hop.to, installDir: ctx.binaries.installDir }]);
      } catch (err) {
        throw ApplicationFailure.create({
          type: 'EtcdMemberNotBack', nonRetryable: true,
          message: `${name} did not come back healthy on etcd ${hop.to}; the upgrade stopped here. Its data is untouched in ${ctx.target.etcd.dataDir}`
            + `${kept[name] ? ` and its old binaries are kept in ${kept[name]}` : ', and its old etcd binary is where its package put it (not in the install dir)'}`
            + `; the members done (${done.join(', ') || 'none'}) run ${hop.to}. Look at ${name}'s etcd log, fix it, and run the upgrade again: members already on ${hop.to} are skipped (last error: ${messageOf(rootCause(err))})`,
        });
      }
      done.push(name);
      const a = await wait.checkEtcdAgreement.executeWithOptions({ summary: 'members agree' }, [{ target: ctx.target, via: host, members: ctx.members, key: ctx.probeKey, value: `${ctx.probeValue} ${name}` }]);
      notes.push(`healthy on ${hop.to}; cluster ${a.clusterId}, all voting, revision ${a.revision} on every member, leader ${a.leader}`);
      return { clusterId: a.clusterId, revision: a.revision, detail: notes.join('; ') };
    }, (r) => r.detail);
  }
  const first = ctx.members[0]!;
  await rb.step(`${id}:cluster-version`, () => wait.expectEtcdClusterVersion({ target: ctx.target, host: first, minor }), (v) => `etcdcluster ${v.cluster} (server ${v.server})`);
  return { to: hop.to, kept, clusterId: agreed.clusterId, revision: agreed.revision };
}
