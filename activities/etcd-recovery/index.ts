// Activities of the etcd recovery runbooks. Every one heartbeats, opens one SSH session, checks
// before it acts, and returns what it found or did for the run's history.
import { ApplicationFailure } from '@temporalio/activity';
import type { MemberView } from './context.js';
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../heartbeat.js';
import { withSession, type SshDeps } from '../ssh/access.js';
import { sh } from '../ssh/quote.js';
import type { EtcdMemberRef, EtcdTarget } from './context.js';
import { etcdctl } from './etcdctl.js';
import { addLearner, memberList, promoteLearner, removeMember } from './membership.js';
import { moveAside, startEtcd, stopEtcd, writeConfig } from './host-ops.js';
import { observeCluster, observeMember } from './observe.js';
import { waitEtcdHealthy } from './health-wait.js';
import { renderMemberConfig, type MemberConfigInput } from './member-config.js';
import { clusterCa, layDownCerts } from './certs.js';
import { checkSnapshot, listSnapshots, restoreSnapshot, type RestoreSpec, type SnapshotCheck } from './snapshots.js';

/** One host's snapshot files: the checks made, newest first, and how many older files were not checked. */
export interface SnapshotSearch { host: string; checks: SnapshotCheck[]; notChecked?: number; error?: string }

interface Via { target: EtcdTarget; via: EtcdMemberRef; endpoints: string[] }
interface On { target: EtcdTarget; host: EtcdMemberRef }

export function createEtcdRecoveryActivities(deps: SshDeps) {
  const on = <T>(what: string, t: EtcdTarget, host: EtcdMemberRef, fn: (s: Parameters<Parameters<typeof withSession>[4]>[0], signal: AbortSignal) => Promise<T>) =>
    heartbeatWhile(what, (signal) => withSession(deps, t.ssh, host, signal, (s) => fn(s, signal)));

  return {
    /**
     * Every member seen from its own host; `leaderlessAtOnce`: see ObserveOptions (observe.ts).
     * `wholeCluster` (implied by leaderlessAtOnce): `members` is the cluster's whole voting
     * membership, so below a quorum of listening members the health checks are skipped
     * (observeCluster). Other callers may pass a cluster still growing, whose learners do not
     * count for its quorum.
     */
    async observeEtcd(input: { target: EtcdTarget; members: EtcdMemberRef[]; leaderlessAtOnce?: boolean; wholeCluster?: boolean }): Promise<MemberView[]> {
      if (input.leaderlessAtOnce || input.wholeCluster) {
        const opts = input.leaderlessAtOnce ? { leaderlessAtOnce: true } : {};
        return heartbeatWhile('observing etcd members', (signal) => observeCluster(deps, input.target, input.members, signal, opts));
      }
      return heartbeatWhile('observing etcd members', (signal) => Promise.all(input.members.map((m) => observeMember(deps, input.target, m, signal))));
    },

    /**
     * Waits until every member answers healthy and all name one cluster ID. A member that has just
     * been promoted may still be applying the leader's snapshot (gigabytes at production size) and
     * miss a 3-second health check: that is retried. Two cluster IDs never heal by waiting: that
     * stops the run at once.
     */
    async expectEtcdAgreement(input: { target: EtcdTarget; members: EtcdMemberRef[] }): Promise<MemberView[]> {
      const views = await heartbeatWhile('checking the members agree', (signal) => Promise.all(input.members.map((m) => observeMember(deps, input.target, m, signal))));
      const ids = new Set(views.flatMap((v) => (v.clusterId ? [v.clusterId] : [])));
      if (ids.size > 1) throw ApplicationFailure.create({ type: 'VerificationFailed', nonRetryable: true, message: `members disagree on the cluster: ${views.map((v) => `${v.name} ${v.clusterId ?? '?'}`).join(', ')}` });
      const unhealthy = views.filter((v) => !v.healthy).map((v) => v.name);
      if (unhealthy.length) throw ApplicationFailure.retryable(`not healthy yet: ${unhealthy.join(', ')}`, 'NotHealthyYet');
      return views;
    },

    async etcdMembers(input: Via) {
      return on('member list', input.target, input.via, (s, signal) => memberList(s, input.target.etcd, input.endpoints, signal));
    },

    async removeEtcdMember(input: Via & { who: { name: string; ip: string } }) {
      return on(`member remove ${input.who.name}`, input.target, input.via, (s, signal) => removeMember(s, input.target.etcd, input.endpoints, input.who, signal));
    },

    async addEtcdLearner(input: Via & { who: { name: string; ip: string } }) {
      return on(`member add ${input.who.name}`, input.target, input.via, (s, signal) => addLearner(s, input.target.etcd, input.endpoints, input.who, signal));
    },

    async promoteEtcdLearner(input: Via & { id: string }) {
      return on(`member promote ${input.id}`, input.target, input.via, (s, signal) => promoteLearner(s, input.target.etcd, input.endpoints, input.id, signal));
    },

    async stopEtcdOn(input: On) {
      return on(`stop etcd on ${input.host.name}`, input.target, input.host, (s, signal) => stopEtcd(s, signal));
    },

    async startEtcdOn(input: On) {
      return on(`start etcd on ${input.host.name}`, input.target, input.host, (s, signal) => startEtcd(s, signal));
    },

    async moveEtcdDataAside(input: On & { tag: string }) {
      return on(`move ${input.target.etcd.dataDir} aside on ${input.host.name}`, input.target, input.host, (s, signal) => moveAside(s, input.target.etcd.dataDir, input.tag, signal));
    },

    async writeEtcdConfigOn(input: On & { config: MemberConfigInput }) {
      return on(`write ${input.target.etcd.configPath} on ${input.host.name}`, input.target, input.host, async (s, signal) => {
        await writeConfig(s, input.target.etcd.configPath, renderMemberConfig(input.target.etcd, input.config), signal);
        return { path: input.target.etcd.configPath };
      });
    },

    /** Healthy now or within HEALTH_WAIT_MS (health-wait.ts), else a retryable failure (Temporal's retry policy goes on waiting). */
    async expectEtcdHealthy(input: On) {
      return on(`health of ${input.host.name}`, input.target, input.host, (s, signal) => waitEtcdHealthy(s, input.target.etcd, input.host, signal));
    },

    /** Writes or reads the canary key the runbooks use to prove data survived. */
    async etcdCanary(input: Via & { op: 'put' | 'get'; key: string; value?: string }) {
      return on(`canary ${input.op}`, input.target, input.via, async (s, signal) => {
        if (input.op === 'put') {
          await s.run(etcdctl(input.target.etcd.tls, input.endpoints, ['put', input.key, input.value ?? '']), { timeoutMs: 20_000, signal });
          return { value: input.value ?? '' };
        }
        const out = await s.run(`${etcdctl(input.target.etcd.tls, input.endpoints, ['get', input.key, '--print-value-only'])}`, { timeoutMs: 20_000, signal });
        return { value: out.replace(/\n$/, '') };
      });
    },

    /**
     * Snapshot files in `dir` on each host, newest first, integrity-checked until one passes: an
     * older file on the same host can never be chosen over it, and with retention keeping dozens
     * of multi-GB files, checking them all would take far longer than the recovery itself. Each
     * finished check goes into the heartbeat, so a retry (a killed worker) skips the files already
     * checked, unchanged. Unreachable hosts are reported, not fatal.
     */
    async findEtcdSnapshots(input: { target: EtcdTarget; hosts: EtcdMemberRef[]; dir: string }): Promise<SnapshotSearch[]> {
      const done = new Map<string, SnapshotCheck[]>(Object.entries(lastHeartbeat<{ checked: Record<string, SnapshotCheck[]> }>()?.checked ?? {}));
      const record = () => reportProgress({ checked: Object.fromEntries(done) }, { now: true });
      return heartbeatWhile(`snapshots in ${input.dir}`, (signal) => Promise.all(input.hosts.map(async (h): Promise<SnapshotSearch> => {
        try {
          return await withSession(deps, input.target.ssh, h, signal, async (s) => {
            const checks: SnapshotCheck[] = [];
            const listed = await listSnapshots(s, input.dir, signal);
            const earlier = done.get(h.name) ?? [];
            for (const c of listed) {
              const known = earlier.find((e) => e.path === c.path && e.mtime === c.mtime && e.size === c.size);
              checks.push(known ?? await checkSnapshot(s, c, signal));
              done.set(h.name, [...checks]);
              record();
              if (checks.at(-1)!.ok) break;
            }
            const notChecked = listed.length - checks.length;
            return { host: h.name, checks, ...(notChecked ? { notChecked } : {}) };
          });
        } catch (err) {
          return { host: h.name, checks: [], error: (err as Error).message };
        }
      })));
    },

    async restoreEtcdSnapshot(input: On & { spec: RestoreSpec; etcdVersion: string }) {
      return on(`restore ${input.spec.snapshot} on ${input.host.name}`, input.target, input.host, (s, signal) => restoreSnapshot(s, input.spec, input.etcdVersion, signal));
    },

    /** One write attempt with a short timeout: does the cluster accept writes right now? Never throws for a refusal. */
    async probeEtcdWrite(input: Via & { key: string; value: string }): Promise<{ ok: boolean; error?: string }> {
      return on('write probe', input.target, input.via, async (s, signal) => {
        const r = await s.exec(etcdctl(input.target.etcd.tls, input.endpoints, ['put', input.key, input.value], { timeoutSeconds: 2 }), { timeoutMs: 10_000, signal });
        return r.code === 0 ? { ok: true } : { ok: false, error: r.stderr.trim().split('\n').pop() ?? `exit ${r.code}` };
      });
    },

    /** Issues a replaced node's certificates from the cluster's CA (key by reference) and writes them there. */
    async layDownEtcdCerts(input: On & { via: EtcdMemberRef }) {
      return heartbeatWhile(`certificates for ${input.host.name}`, async (signal) => {
        const ca = await withSession(deps, input.target.ssh, input.via, signal, (s) => clusterCa(input.target.etcd, s, signal));
        const paths = await withSession(deps, input.target.ssh, input.host, signal, (s) => layDownCerts(s, input.target.etcd, ca, input.host, signal));
        return { paths };
      });
    },

    /** Whether the member's certificates are on its host (a replaced node needs them laid down). */
    async etcdCertsPresent(input: On) {
      return on(`certificates on ${input.host.name}`, input.target, input.host, async (s, signal) => {
        const e = input.target.etcd;
        const r = await s.exec(sh`test -s ${e.tls.caCert} && test -s ${e.serverCert} && test -s ${e.serverKey} && test -s ${e.peerCert} && test -s ${e.peerKey}`, { timeoutMs: 15_000, signal });
        return { present: r.code === 0 };
      });
    },
  };
}

export type EtcdRecoveryActivities = ReturnType<typeof createEtcdRecoveryActivities>;
