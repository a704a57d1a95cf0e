// The read-only probe behind `etcd-status`: on one member's host, over SSH, etcdctl with the
// member's client TLS files asks its own endpoint for health, status and the member list.
// A dead etcd or an unreachable host is a result, not an error: the runbook reports it.
import { ApplicationFailure } from '@temporalio/activity';
import type { MemberView } from '../etcd-recovery/context.js';
import { heartbeatWhile } from '../heartbeat.js';
import { withSession, type SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import type { EtcdMemberRef, EtcdTarget } from '../etcd-recovery/context.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseEndpointStatus, parseMemberList, type Member } from '../etcd-recovery/etcdctl.js';

export interface EtcdMemberStatus extends MemberView {
  endpoint: string;
  /** etcd answered `endpoint status`: it runs, with or without a quorum behind it. */
  answered: boolean;
  raftIndex?: number;
  dbSize?: number;
  version?: string;
  /** What the member reports as wrong itself (no leader, alarms). */
  errors: string[];
  /** The member list as this member sees it. */
  memberList?: Member[];
  /** Why it is not healthy, in etcdctl's or SSH's words (addresses and errors, never keys). */
  problem?: string;
}

const TIMEOUT_S = 3;

export async function probeMember(s: SshSession, t: EtcdTarget, m: EtcdMemberRef, signal: AbortSignal): Promise<EtcdMemberStatus> {
  const endpoint = clientUrl(m.ip, t.etcd.clientPort);
  const ctl = (args: string[]) => s.exec(etcdctl(t.etcd.tls, [endpoint], args, { timeoutSeconds: TIMEOUT_S }), { timeoutMs: 15_000, signal });
  const out: EtcdMemberStatus = { name: m.name, ip: m.ip, endpoint, reachable: true, healthy: false, isLeader: false, answered: false, errors: [] };

  const health = await ctl(['endpoint', 'health', '-w', 'json']);
  out.healthy = lenient(() => parseEndpointHealth(health.stdout)[0]?.healthy) === true;
  if (!out.healthy) out.problem = reasonOf(health.stdout, health.stderr);

  // Status is answered without quorum too, so a member that runs but cannot reach the others still shows its term and index.
  const status = await ctl(['endpoint', 'status', '-w', 'json']);
  const st = status.code === 0 ? lenient(() => parseEndpointStatus(status.stdout)[0]) : undefined;
  if (!st) {
    // etcdctl's health check only says "context deadline exceeded"; the status call tells why.
    out.problem = reasonOf(health.stdout, `${status.stderr}\n${health.stderr}`);
    return out;
  }
  Object.assign(out, {
    answered: true, memberId: st.memberId, clusterId: st.clusterId, isLeader: !!st.leaderId && st.leaderId === st.memberId,
    raftTerm: st.raftTerm, raftIndex: st.raftIndex, revision: st.revision, dbSize: st.dbSize, version: st.version, errors: st.errors,
  });

  const list = await ctl(['member', 'list', '-w', 'json']);
  const members = list.code === 0 ? lenient(() => parseMemberList(list.stdout).members) : undefined;
  if (members) out.memberList = members;
  return out;
}

/** The short reason etcdctl gives, rather than its retry-interceptor noise. */
export function reasonOf(stdout: string, stderr: string): string {
  const known = /(connect: connection refused|x509: [^"\\\n]+|tls: [^"\\\n]+|etcdserver: [^"\\\n]+)/.exec(stderr)?.[1];
  if (known) return known;
  const fromJson = lenient(() => parseEndpointHealth(stdout)[0]?.error);
  if (fromJson) return fromJson;
  return stderr.trim().split('\n').pop()?.slice(0, 200) || 'no answer';
}

function lenient<T>(fn: () => T): T | undefined {
  try { return fn(); } catch { return undefined; }
}

export function createEtcdStatusActivities(deps: SshDeps) {
  return {
    /**
     * One member's view of itself and the cluster. A host that refuses SSH is reported as
     * unreachable; a session that breaks after it opened is retried (Temporal's retry policy),
     * and a wrong host key or refused key fails the run (no retry can fix those).
     */
    async probeEtcdMember(input: { target: EtcdTarget; member: EtcdMemberRef }): Promise<EtcdMemberStatus> {
      const m = input.member;
      let opened = false;
      return heartbeatWhile(`probe etcd on ${m.name}`, async (signal) => {
        try {
          return await withSession(deps, { ...input.target.ssh, connectTimeoutSeconds: Math.min(input.target.ssh.connectTimeoutSeconds, 5) }, m, signal, (s) => {
            opened = true;
            return probeMember(s, input.target, m, signal);
          });
        } catch (err) {
          if (opened || err instanceof ApplicationFailure || signal.aborted) throw err;
          return {
            name: m.name, ip: m.ip, endpoint: clientUrl(m.ip, input.target.etcd.clientPort), reachable: false, healthy: false, isLeader: false,
            answered: false, errors: [], problem: (err as Error).message,
          };
        }
      });
    },
  };
}
