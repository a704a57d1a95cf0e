// What the etcd upgrade asks the cluster, with etcdctl (TLS) on a member's host: each member's
// running version, who leads (and moving leadership away), whether the members agree after a
// member came back, and the cluster version etcd has settled on.
import { ApplicationFailure } from '@temporalio/activity';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import type { EtcdMemberRef, EtcdSettings } from '../etcd-recovery/context.js';
import { clientUrl, etcdctl, parseEndpointStatus, parseMemberList, type EndpointStatus } from '../etcd-recovery/etcdctl.js';

const endpointsOf = (etcd: EtcdSettings, members: readonly EtcdMemberRef[]) => members.map((m) => clientUrl(m.ip, etcd.clientPort));

/** Each member's status as it reports it; a member that does not answer is absent. */
export async function statuses(s: SshSession, etcd: EtcdSettings, members: readonly EtcdMemberRef[], signal: AbortSignal): Promise<Map<string, EndpointStatus>> {
  // One etcdctl per member: with several endpoints etcdctl prints nothing for any of them when one fails.
  const out = new Map<string, EndpointStatus>();
  await Promise.all(members.map(async (m) => {
    const r = await s.exec(etcdctl(etcd.tls, [clientUrl(m.ip, etcd.clientPort)], ['endpoint', 'status', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
    if (r.code !== 0) return;
    try {
      const st = parseEndpointStatus(r.stdout)[0];
      if (st) out.set(m.name, st);
    } catch { /* no answer */ }
  }));
  return out;
}

/**
 * Hands leadership to another voting member when `member` leads (etcd's `move-leader`, sent to the
 * leader). Prefers members in `prefer` (already on the new release). A retry finds it moved.
 */
export async function moveLeaderAway(s: SshSession, etcd: EtcdSettings, members: readonly EtcdMemberRef[], member: string, prefer: readonly string[], signal: AbortSignal): Promise<{ moved: boolean; leader: string }> {
  const st = await statuses(s, etcd, members, signal);
  const mine = st.get(member);
  if (!mine) throw ApplicationFailure.retryable(`${member} does not answer endpoint status: cannot tell who leads`, 'EtcdNotAnswering');
  const leaderName = [...st].find(([, x]) => x.memberId === mine.leaderId)?.[0];
  if (!leaderName) throw ApplicationFailure.retryable('no member reports a leader (an election in progress?)', 'NoLeader');
  if (leaderName !== member) return { moved: false, leader: leaderName };
  const others = members.filter((m) => m.name !== member && st.has(m.name));
  const to = others.find((m) => prefer.includes(m.name)) ?? others[0];
  if (!to) throw ApplicationFailure.nonRetryable(`${member} leads and no other member answers: moving leadership away is impossible, so it is not stopped`, 'PreconditionFailed');
  const self = members.find((m) => m.name === member)!;
  await s.run(etcdctl(etcd.tls, [clientUrl(self.ip, etcd.clientPort)], ['move-leader', st.get(to.name)!.memberId], { timeoutSeconds: 10 }), { timeoutMs: 30_000, signal });
  const after = (await statuses(s, etcd, [self], signal)).get(member);
  if (after && after.leaderId === after.memberId) throw ApplicationFailure.retryable(`${member} still leads after move-leader`, 'LeaderNotMoved');
  return { moved: true, leader: to.name };
}

export interface Agreement {
  clusterId: string;
  revision: number;
  versions: Record<string, string>;
  leader: string;
}

/**
 * Every member answers with one cluster ID, every one is a started voting member, and after a
 * write every member reaches the same revision (followers apply asynchronously: a short wait).
 */
export async function checkAgreement(s: SshSession, etcd: EtcdSettings, members: readonly EtcdMemberRef[], key: string, value: string, signal: AbortSignal): Promise<Agreement> {
  const problems: string[] = [];
  const list = parseMemberList(await s.run(etcdctl(etcd.tls, endpointsOf(etcd, members), ['member', 'list', '-w', 'json']), { timeoutMs: 20_000, signal }));
  if (list.members.length !== members.length) problems.push(`${list.members.length} members listed, ${members.length} in the inventory`);
  for (const m of list.members) {
    if (!m.name) problems.push(`member ${m.id} was added but never started`);
    if (m.isLearner) problems.push(`${m.name || m.id} is a learner, not voting`);
  }
  await s.run(etcdctl(etcd.tls, endpointsOf(etcd, members), ['put', key, value]), { timeoutMs: 20_000, signal });
  let st = new Map<string, EndpointStatus>();
  for (let i = 0; i < 20; i++) {
    st = await statuses(s, etcd, members, signal);
    const revs = new Set([...st.values()].map((x) => x.revision));
    if (st.size === members.length && revs.size === 1) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const silent = members.filter((m) => !st.has(m.name)).map((m) => m.name);
  if (silent.length) problems.push(`not answering: ${silent.join(', ')}`);
  const ids = new Set([...st.values()].map((x) => x.clusterId));
  if (ids.size > 1) problems.push(`members disagree on the cluster ID: ${[...st].map(([n, x]) => `${n} ${x.clusterId}`).join(', ')}`);
  const revs = new Set([...st.values()].map((x) => x.revision));
  if (revs.size > 1) problems.push(`members are at different revisions after a write: ${[...st].map(([n, x]) => `${n} ${x.revision}`).join(', ')}`);
  const leaders = new Set([...st.values()].map((x) => x.leaderId));
  if (leaders.size > 1) problems.push('members name different leaders');
  if (problems.length) throw ApplicationFailure.retryable(problems.join('; '), 'EtcdDisagreement');
  const first = [...st.values()][0]!;
  return {
    clusterId: first.clusterId, revision: first.revision,
    versions: Object.fromEntries([...st].map(([n, x]) => [n, x.version])),
    leader: [...st].find(([, x]) => x.memberId === first.leaderId)?.[0] ?? first.leaderId,
  };
}

/** The cluster version etcd agreed on (`/version`'s etcdcluster), asked of one member. */
export async function clusterVersion(s: SshSession, etcd: EtcdSettings, m: EtcdMemberRef, signal: AbortSignal): Promise<{ server: string; cluster: string }> {
  const out = await s.run(sh`curl -sS --max-time 5 --cacert ${etcd.tls.caCert} --cert ${etcd.tls.clientCert} --key ${etcd.tls.clientKey} ${`${clientUrl(m.ip, etcd.clientPort)}/version`}`, { timeoutMs: 15_000, signal });
  const j = JSON.parse(out) as { etcdserver?: string; etcdcluster?: string };
  return { server: j.etcdserver ?? '', cluster: j.etcdcluster ?? '' };
}
