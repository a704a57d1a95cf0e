// Activities of the upgrade runbook's etcd part (and the version observation the plan starts
// from). Every one heartbeats, opens its SSH sessions itself, looks before it acts, and returns
// what it found or did for the run's history.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile } from '../heartbeat.js';
import { withSession, type HostRef, type SshAccess, type SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import type { EtcdMemberRef, EtcdTarget } from '../etcd-recovery/context.js';
import { clientUrl, etcdctl, parseEndpointHealth } from '../etcd-recovery/etcdctl.js';
import { startEtcd, stopEtcd } from '../etcd-recovery/host-ops.js';
import { probeMember } from '../etcd/status.js';
import { nodeVersions, type NodeVersions } from '../kubernetes-versions/observe.js';
import { installRelease, releasesIn, binaryVersion, type EtcdBinaries } from './binaries.js';
import { checkAgreement, clusterVersion, moveLeaderAway, statuses } from './cluster.js';

export type { EtcdBinaries } from './binaries.js';

/** Further probes of a member that did not report its version, and the pause before each. */
const OBSERVE_AGAIN = 2;
const OBSERVE_AGAIN_MS = 3000;

export interface EtcdMemberVersion { name: string; reachable: boolean; healthy: boolean; isLeader: boolean; version?: string; memberId?: string }

interface On { target: EtcdTarget; host: EtcdMemberRef }

export function createEtcdUpgradeActivities(deps: SshDeps) {
  const on = <T>(what: string, t: { ssh: SshAccess }, host: HostRef, fn: (s: SshSession, signal: AbortSignal) => Promise<T>) =>
    heartbeatWhile(what, (signal) => withSession(deps, t.ssh, host, signal, (s) => fn(s, signal)));
  /** The server version the member itself reports, or undefined when it does not answer. */
  const runningVersion = async (s: SshSession, input: On, signal: AbortSignal) =>
    (await statuses(s, input.target.etcd, [input.host], signal)).get(input.host.name)?.version;

  return {
    /** Kubernetes versions on every node, in parallel (read-only). */
    async observeKubernetesVersions(input: { ssh: SshAccess; nodes: (HostRef & { role: NodeVersions['role'] })[] }): Promise<NodeVersions[]> {
      return heartbeatWhile('reading Kubernetes versions', (signal) => Promise.all(input.nodes.map((n) => nodeVersions(deps, input.ssh, n, n.role, signal))));
    },

    /** Each member's running version, health and leadership, from its own host (read-only). */
    async observeEtcdVersions(input: { target: EtcdTarget; members: EtcdMemberRef[] }): Promise<EtcdMemberVersion[]> {
      const probe = async (m: EtcdMemberRef, signal: AbortSignal): Promise<EtcdMemberVersion> => {
        try {
          const p = await withSession(deps, input.target.ssh, m, signal, (s) => probeMember(s, input.target, m, signal));
          return { name: m.name, reachable: true, healthy: p.healthy, isLeader: p.isLeader, ...(p.version ? { version: p.version } : {}), ...(p.memberId ? { memberId: p.memberId } : {}) };
        } catch (err) {
          if ((err as Error).name === 'ApplicationFailure' && /HostKeyMismatch|AuthenticationFailed|InvalidInput/.test(String((err as { type?: string }).type))) throw err;
          return { name: m.name, reachable: false, healthy: false, isLeader: false };
        }
      };
      // A member that does not answer is asked again before it is reported without a version: the
      // plan refuses the whole upgrade on one, and on a loaded host one etcdctl call past its
      // deadline is not a member down (the Kubernetes lab's run was refused on such a miss).
      return heartbeatWhile('reading etcd versions', (signal) => Promise.all(input.members.map(async (m) => {
        let v = await probe(m, signal);
        for (let again = 0; again < OBSERVE_AGAIN && !v.version; again++) {
          await sleep(OBSERVE_AGAIN_MS, undefined, { signal });
          v = await probe(m, signal);
        }
        return v;
      })));
    },

    /** The releases a `{version}` directory source offers on a host (those holding every `required` program). */
    async releasesOffered(input: { ssh: SshAccess; host: HostRef; source: string; required: string[] }): Promise<string[]> {
      return on(`releases in ${input.source} on ${input.host.name}`, input, input.host, (s, signal) => releasesIn(s, input.source, input.required, signal));
    },

    async installEtcdRelease(input: On & { binaries: EtcdBinaries; version: string }) {
      return on(`install etcd ${input.version} on ${input.host.name}`, input.target, input.host, (s, signal) => installRelease(s, input.binaries, input.version, signal));
    },

    async moveEtcdLeaderAway(input: On & { members: EtcdMemberRef[]; prefer: string[] }) {
      return on(`move leadership away from ${input.host.name}`, input.target, input.host, (s, signal) => moveLeaderAway(s, input.target.etcd, input.members, input.host.name, input.prefer, signal));
    },

    /**
     * Restarts etcd so it runs the installed release, unless it already runs `version` (a retry
     * after a crash). A member found stopped (a crash between stop and start) is started.
     */
    async restartEtcdAt(input: On & { version: string }) {
      return on(`restart etcd on ${input.host.name}`, input.target, input.host, async (s, signal) => {
        const before = await runningVersion(s, input, signal);
        if (before === input.version) return { restarted: false, was: before };
        await stopEtcd(s, signal);
        await startEtcd(s, signal);
        return { restarted: true, ...(before ? { was: before } : {}) };
      });
    },

    /** Healthy and running `version`, else a retryable failure: the retry policy is the wait. */
    async expectEtcdMemberAt(input: On & { version: string; installDir: string }) {
      return on(`${input.host.name} back on ${input.version}`, input.target, input.host, async (s, signal) => {
        const h = await s.exec(etcdctl(input.target.etcd.tls, [clientUrl(input.host.ip, input.target.etcd.clientPort)], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
        let healthy = false;
        try { healthy = parseEndpointHealth(h.stdout)[0]?.healthy === true; } catch { healthy = false; }
        const running = await runningVersion(s, input, signal);
        if (healthy && running === input.version) return { version: running };
        if (healthy && running) {
          const installed = await binaryVersion(s, `${input.installDir}/etcd`, signal);
          if (installed === input.version) {
            // It came back, on the old release: the unit does not run what was installed.
            throw ApplicationFailure.nonRetryable(`${input.host.name} restarted but runs etcd ${running}, while ${input.installDir}/etcd is ${input.version}: the etcd unit's ExecStart does not run ${input.installDir}/etcd; set etcd.binaries.installDir to the directory it runs`, 'PreconditionFailed');
          }
        }
        throw ApplicationFailure.retryable(`${input.host.name} is ${healthy ? `healthy but runs ${running ?? 'an unknown version'}` : 'not healthy yet'}`, 'EtcdNotBack');
      });
    },

    async checkEtcdAgreement(input: { target: EtcdTarget; via: EtcdMemberRef; members: EtcdMemberRef[]; key: string; value: string }) {
      return on(`agreement of the members (via ${input.via.name})`, input.target, input.via, (s, signal) => checkAgreement(s, input.target.etcd, input.members, input.key, input.value, signal));
    },

    /** The cluster version reached `minor` (etcd raises it once every member runs the new release). */
    async expectEtcdClusterVersion(input: On & { minor: string }) {
      return on(`cluster version ${input.minor}`, input.target, input.host, async (s, signal) => {
        const v = await clusterVersion(s, input.target.etcd, input.host, signal);
        if (v.cluster === input.minor || v.cluster.startsWith(`${input.minor}.`)) return v;
        throw ApplicationFailure.retryable(`the cluster version is ${v.cluster || 'unknown'}, not ${input.minor} yet`, 'ClusterVersionBehind');
      });
    },
  };
}
