// Observing the cluster from each member's own host: is SSH up, is etcd healthy there, who does it
// think leads, in which cluster and term. Read-only; one SSH session per member, in parallel.
import type { MemberView } from './context.js';
import type { SshDeps } from '../ssh/access.js';
import { withSession } from '../ssh/access.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseEndpointStatus } from './etcdctl.js';
import { unlessRefused, wasRefused } from './port-probe.js';
import type { EtcdMemberRef, EtcdTarget } from './context.js';

export interface ObserveOptions {
  /**
   * Name a member that itself reports no leader (`endpoint status`: leader 0) unhealthy at once,
   * instead of letting `endpoint health` (a linearizable read, which a member without a leader
   * cannot serve) wait out its 3 s command timeout. Only for a caller that confirms a loss by
   * probes spaced by etcd's election timeout (the majority's confirmation): a single probe would
   * lose the 3 s in which health gives a member between leaders the chance to elect one.
   */
  leaderlessAtOnce?: boolean;
  /** Only `endpoint status` (bounded to 2 s), never health: see observeBelowQuorum. */
  statusOnly?: boolean;
}

export async function observeMember(deps: SshDeps, t: EtcdTarget, m: EtcdMemberRef, signal: AbortSignal, opts: ObserveOptions = {}): Promise<MemberView> {
  const base: MemberView = { name: m.name, ip: m.ip, reachable: false, healthy: false, isLeader: false };
  try {
    return await withSession(deps, { ...t.ssh, connectTimeoutSeconds: Math.min(t.ssh.connectTimeoutSeconds, 5) }, m, signal, async (s) => {
      const r = await s.exec(observeCommand(t, m, opts), { timeoutMs: 25_000, signal });
      return judgeObservation(base, r.stdout);
    });
  } catch (err) {
    throwIfNotDown(err);
    return base;
  }
}

/** A host-key mismatch (or bad credentials, bad input) must stop the run, not look like a dead member. */
function throwIfNotDown(err: unknown): void {
  if ((err as Error).name === 'ApplicationFailure' && /HostKeyMismatch|AuthenticationFailed|InvalidInput/.test(String((err as { type?: string }).type))) throw err;
}

const SPLIT = '--mooring-endpoint-status--';
/** First line of the output when the member answered `endpoint status` with leader 0. */
export const NO_LEADER_MARKER = '--mooring-member-has-no-leader--';
/** First line of the output of a status-only observation (below quorum: never healthy). */
const STATUS_ONLY_MARKER = '--mooring-status-only--';
/** What the port check prints when the client port accepted (or could not be judged). */
const PORT_OPEN_MARKER = '--mooring-client-port-not-refused--';

/**
 * The one command that observes a member on its host. Health, then status only when healthy, in
 * one exec (one round trip): the output of each is split at a marker line no JSON contains. A
 * refused client port answers "not healthy" at once instead of after etcdctl's 3 s dial timeout
 * (port-probe.ts).
 *
 * With `leaderlessAtOnce`, status comes first, bounded to 2 s (a local, serializable answer: etcd
 * serves it with or without a leader). Only a status that was answered (exit 0) and names leader 0
 * ends the probe there; every other outcome — status slow, timed out, refused by TLS, a leader
 * named — runs `endpoint health` with its 3 s bound exactly as without the option. So a member that
 * is merely slow is judged by the same health check as before and never taken for lost: only a
 * member that itself says it has no leader is, and the caller's second probe a few election
 * timeouts later gives a cluster that was only between leaders the time to elect one.
 */
export function observeCommand(t: EtcdTarget, m: EtcdMemberRef, opts: ObserveOptions = {}): string {
  const endpoint = clientUrl(m.ip, t.etcd.clientPort);
  const health = etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 });
  const status = (seconds: number) => etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'status', '-w', 'json'], { timeoutSeconds: seconds });
  if (opts.statusOnly) return `echo ${STATUS_ONLY_MARKER}; ${status(2)}`;
  if (!opts.leaderlessAtOnce) {
    // Status after health, not beside it: health (a linearizable read) waits for an election in
    // progress, so the status read after it names the new leader. Run side by side (tried in
    // perf15), status saw "no leader" and the leader runbook's election loop needed a second probe.
    return unlessRefused(m.ip, t.etcd.clientPort, `h=$(${health}); rc=$?; printf '%s\n' "$h"; echo ${SPLIT}; if [ "$rc" = 0 ]; then ${status(3)}; fi`);
  }
  // etcdctl's JSON is compact, and a zero leader (raft's None) is left out ("omitempty": etcd 3.4
  // prints `"errors":["etcdserver: no leader"]` and no "leader" field): an answered status with a
  // "Status" object but no non-zero "leader" is a member without a leader (IDs never start with
  // 0). The healthy path prints the status taken just before the health check, or asks again when
  // that first status failed, so its output is the same as above.
  const healthPath = `h=$(${health}); rc=$?; printf '%s\\n' "$h"; echo ${SPLIT}; if [ "$rc" = 0 ]; then if [ "$src" = 0 ]; then printf '%s\\n' "$st"; else ${status(3)}; fi; fi`;
  return unlessRefused(m.ip, t.etcd.clientPort, [
    `st=$(${status(2)}); src=$?`,
    `case "$src:$st" in 0:*'"leader":'[1-9]*) ${healthPath} ;; 0:*'"Status":{'*) echo ${NO_LEADER_MARKER}; printf '%s\\n' "$st" ;; *) ${healthPath} ;; esac`,
  ].join('; '));
}

/** What the output of observeCommand says about the member (reachable: SSH worked). */
export function judgeObservation(base: MemberView, stdout: string): MemberView {
  const reached = { ...base, reachable: true };
  if (wasRefused(stdout)) return reached;
  if (stdout.split('\n', 1)[0] === STATUS_ONLY_MARKER) {
    const st = parseLenient(() => parseEndpointStatus(stdout.slice(STATUS_ONLY_MARKER.length + 1))[0]);
    if (!st) return reached;
    const noLeader = !st.leaderId || st.leaderId === '0';
    return { ...reached, ...(noLeader ? { noLeader: true } : {}), raftTerm: st.raftTerm, memberId: st.memberId, clusterId: st.clusterId, revision: st.revision };
  }
  if (stdout.split('\n', 1)[0] === NO_LEADER_MARKER) {
    const st = parseLenient(() => parseEndpointStatus(stdout.slice(NO_LEADER_MARKER.length + 1))[0]);
    // Kept with its term and cluster ID for the history; never healthy (it cannot serve a linearizable read).
    return st && (!st.leaderId || st.leaderId === '0') ? { ...reached, noLeader: true, raftTerm: st.raftTerm, memberId: st.memberId, clusterId: st.clusterId, revision: st.revision } : reached;
  }
  const [health = '', status = ''] = stdout.split(`\n${SPLIT}\n`);
  const healthy = parseLenient(() => parseEndpointHealth(health)[0]?.healthy) === true;
  if (!healthy) return reached;
  const st = parseLenient(() => parseEndpointStatus(status)[0]);
  if (!st) return reached;
  return {
    ...reached, healthy: true, isLeader: st.leaderId === st.memberId,
    raftTerm: st.raftTerm, memberId: st.memberId, clusterId: st.clusterId, revision: st.revision,
  };
}

function parseLenient<T>(fn: () => T): T | undefined {
  try { return fn(); } catch { return undefined; }
}

/**
 * Every voting member of the cluster at once (the caller passes the whole voting membership: a
 * learner does not count for quorum, and a subset would miscount it). When fewer than a quorum of members have a client port
 * that is not refusing connections, no member can serve a linearizable read (a leader needs a
 * quorum behind it to confirm one), so every health check could only wait out its 3 s and fail:
 * each listening member is then asked `endpoint status` only (its term, ID and the leader it
 * names, for the history) and judged not healthy at once. The verdict is the one health would
 * give: fewer members than a quorum could answer healthy, so quorum is lost either way. It covers
 * the live member of a majority loss, whose status names a dead leader for an election timeout
 * and then no leader, whose health waited 3 s in the confirmation's first probe. Only a refused connect counts as not listening: a
 * member whose SSH fails, or whose port check times out, may be serving, and with a quorum of
 * those the members are observed exactly as before (observeMember with the caller's options).
 */
export async function observeCluster(deps: SshDeps, t: EtcdTarget, members: EtcdMemberRef[], signal: AbortSignal, opts: ObserveOptions = {}): Promise<MemberView[]> {
  const ports = await Promise.all(members.map((m) => portOf(deps, t, m, signal)));
  if (!belowQuorum(ports)) return Promise.all(members.map((m) => observeMember(deps, t, m, signal, opts)));
  return Promise.all(members.map((m, i) => ports[i] === 'refused'
    ? { name: m.name, ip: m.ip, reachable: true, healthy: false, isLeader: false }
    : observeMember(deps, t, m, signal, { statusOnly: true })));
}

export type PortState = 'refused' | 'not refused' | 'unknown';

/** Fewer members than a quorum may be serving: only a refused connect counts as surely not. */
export function belowQuorum(ports: PortState[]): boolean {
  return ports.filter((p) => p !== 'refused').length < Math.floor(ports.length / 2) + 1;
}

/** Whether the member's own host finds its client port refusing ('unknown': SSH failed). */
async function portOf(deps: SshDeps, t: EtcdTarget, m: EtcdMemberRef, signal: AbortSignal): Promise<PortState> {
  try {
    return await withSession(deps, { ...t.ssh, connectTimeoutSeconds: Math.min(t.ssh.connectTimeoutSeconds, 5) }, m, signal, async (s) => {
      const r = await s.exec(unlessRefused(m.ip, t.etcd.clientPort, `echo ${PORT_OPEN_MARKER}`), { timeoutMs: 10_000, signal });
      return wasRefused(r.stdout) ? 'refused' : 'not refused';
    });
  } catch (err) {
    throwIfNotDown(err);
    return 'unknown';
  }
}
