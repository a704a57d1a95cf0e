// Observing the cluster from each member's own host: is SSH up, is etcd healthy there, who does it
// think leads, in which cluster and term. Read-only; one SSH session per member, in parallel.
import type { MemberView } from './context.js';
import type { SshDeps } from '../ssh/access.js';
import { withSession } from '../ssh/access.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseEndpointStatus } from './etcdctl.js';
import type { EtcdMemberRef, EtcdTarget } from './context.js';

export async function observeMember(deps: SshDeps, t: EtcdTarget, m: EtcdMemberRef, signal: AbortSignal): Promise<MemberView> {
  const base: MemberView = { name: m.name, ip: m.ip, reachable: false, healthy: false, isLeader: false };
  try {
    return await withSession(deps, { ...t.ssh, connectTimeoutSeconds: Math.min(t.ssh.connectTimeoutSeconds, 5) }, m, signal, async (s) => {
      const endpoint = clientUrl(m.ip, t.etcd.clientPort);
      const health = await s.exec(etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
      const healthy = parseLenient(() => parseEndpointHealth(health.stdout)[0]?.healthy) === true;
      if (!healthy) return { ...base, reachable: true };
      const status = await s.exec(etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'status', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
      const st = parseLenient(() => parseEndpointStatus(status.stdout)[0]);
      if (!st) return { ...base, reachable: true };
      return {
        ...base, reachable: true, healthy: true, isLeader: st.leaderId === st.memberId,
        raftTerm: st.raftTerm, memberId: st.memberId, clusterId: st.clusterId, revision: st.revision,
      };
    });
  } catch (err) {
    // A host-key mismatch must stop the run, not look like a dead member.
    if ((err as Error).name === 'ApplicationFailure' && /HostKeyMismatch|AuthenticationFailed|InvalidInput/.test(String((err as { type?: string }).type))) throw err;
    return base;
  }
}

function parseLenient<T>(fn: () => T): T | undefined {
  try { return fn(); } catch { return undefined; }
}
