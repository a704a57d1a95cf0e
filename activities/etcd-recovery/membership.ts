// Membership changes, run with etcdctl on a healthy member. Each one looks before it acts, so a
// retry after a crash finds its own earlier work done and does nothing twice.
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { reportProgress } from '../heartbeat.js';
import type { SshSession } from '../ssh/session.js';
import { etcdctl, parseMemberAdd, parseMemberList, peerUrl, type Member } from './etcdctl.js';
import type { EtcdSettings } from './context.js';

export async function memberList(s: SshSession, etcd: EtcdSettings, endpoints: string[], signal: AbortSignal): Promise<{ clusterId: string; members: Member[] }> {
  return parseMemberList(await s.run(etcdctl(etcd.tls, endpoints, ['member', 'list', '-w', 'json']), { timeoutMs: 20_000, signal }));
}

const matches = (m: Member, name: string, url: string) => m.name === name || m.peerURLs.includes(url);

/** Removes the member with this name or peer URL; already gone is fine. */
export async function removeMember(s: SshSession, etcd: EtcdSettings, endpoints: string[], who: { name: string; ip: string }, signal: AbortSignal): Promise<{ removedId?: string }> {
  const url = peerUrl(who.ip, etcd.peerPort);
  const found = (await memberList(s, etcd, endpoints, signal)).members.find((m) => matches(m, who.name, url));
  if (!found) return {};
  await s.run(etcdctl(etcd.tls, endpoints, ['member', 'remove', found.id]), { timeoutMs: 20_000, signal });
  return { removedId: found.id };
}

/**
 * How long one attempt waits for a learner to catch up, re-asking every LEARNER_POLL_MS, before
 * it fails retryably into Temporal's backoff. A learner that has just started needs a few hundred
 * milliseconds to receive the leader's log or snapshot: failing at once cost a failed attempt
 * plus a retry backoff (the majority's grow:etcd-2 "waited 4.05 s (1 retries)" on the quiet lab,
 * 0.00 s with this wait); polling inside keeps the wait in the same attempt. Bounded well
 * under WAIT's start-to-close (30 s) together with one promote command's own timeout. The same
 * bound serves `member add` refused as "unhealthy cluster" right after an election.
 */
export const LEARNER_CATCH_UP_MS = 8_000;
export const LEARNER_POLL_MS = 250;

/** Adds the member as a learner unless a member with its peer URL exists already (a retried add). */
export async function addLearner(s: SshSession, etcd: EtcdSettings, endpoints: string[], who: { name: string; ip: string }, signal: AbortSignal, catchUpMs = LEARNER_CATCH_UP_MS): Promise<{ id: string; alreadyPresent: boolean; isLearner: boolean }> {
  const url = peerUrl(who.ip, etcd.peerPort);
  const existing = (await memberList(s, etcd, endpoints, signal)).members.find((m) => m.peerURLs.includes(url));
  if (existing) return { id: existing.id, alreadyPresent: true, isLearner: existing.isLearner };
  const until = Date.now() + catchUpMs;
  for (let attempt = 1; ; attempt++) {
    const r = await s.exec(etcdctl(etcd.tls, endpoints, ['member', 'add', who.name, '--learner', `--peer-urls=${url}`, '-w', 'json']), { timeoutMs: 20_000, signal });
    if (r.code === 0) return { id: parseMemberAdd(r.stdout).id, alreadyPresent: false, isLearner: true };
    // etcd's strict reconfiguration check (ErrUnhealthy) refuses a change until the leader has been
    // connected to every voting member for its health interval (5 s): right after an election or a
    // removal. The refusal is made before anything is proposed, so asking again is harmless; any
    // other failure (a timeout may have added it) goes to the retry, which looks before it acts.
    if (!/etcdserver: unhealthy cluster/i.test(r.stderr)) throw new Error(`member add ${who.name} failed: ${r.stderr.trim()}`);
    if (Date.now() + LEARNER_POLL_MS > until) {
      throw ApplicationFailure.retryable(`etcd refuses to add ${who.name} until its leader has heard from every member for a while ("unhealthy cluster", ${attempt} tries in this attempt); the add will be retried`, 'ClusterNotReady');
    }
    reportProgress({ waiting: `etcd to accept a new member (${who.name})`, tries: attempt });
    await delay(LEARNER_POLL_MS, undefined, { signal });
  }
}

/**
 * Promotes a learner to voting member. etcd refuses while the learner is behind the leader: that
 * refusal is polled for up to LEARNER_CATCH_UP_MS, then retryable (Temporal retries the activity
 * with backoff until it catches up). The refusal changes nothing, so asking again is harmless.
 */
export async function promoteLearner(s: SshSession, etcd: EtcdSettings, endpoints: string[], id: string, signal: AbortSignal, catchUpMs = LEARNER_CATCH_UP_MS): Promise<{ promoted: boolean }> {
  const member = (await memberList(s, etcd, endpoints, signal)).members.find((m) => m.id === id);
  if (!member) throw ApplicationFailure.nonRetryable(`member ${id} is no longer in the cluster: someone removed it during the recovery`, 'PreconditionFailed');
  if (!member.isLearner) return { promoted: false };
  const until = Date.now() + catchUpMs;
  for (let attempt = 1; ; attempt++) {
    const r = await s.exec(etcdctl(etcd.tls, endpoints, ['member', 'promote', id]), { timeoutMs: 20_000, signal });
    if (r.code === 0) return { promoted: true };
    // etcd says "can only promote a learner member which is in sync with leader" (ErrLearnerNotReady).
    if (!/in sync with leader|not in sync|learner.*not.*ready|too many requests/i.test(r.stderr)) throw new Error(`member promote ${id} failed: ${r.stderr.trim()}`);
    if (Date.now() + LEARNER_POLL_MS > until) {
      throw ApplicationFailure.retryable(`learner ${id} is not yet in sync with the leader (${attempt} tries in this attempt); promotion will be retried`, 'LearnerNotReady');
    }
    reportProgress({ waiting: `learner ${id} to catch up`, tries: attempt });
    await delay(LEARNER_POLL_MS, undefined, { signal });
  }
}
