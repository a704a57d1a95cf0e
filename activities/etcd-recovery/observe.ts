// Observing the cluster from each member's own host: is SSH up, is etcd healthy there, who does it
// think leads, in which cluster and term. Read-only; one SSH session per member, in parallel.
import type { MemberView } from './context.js';
import type { SshDeps } from '../ssh/access.js';
import { withSession } from '../ssh/access.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseEndpointStatus } from './etcdctl.js';
import { unlessRefused, wasRefused } from './port-probe.js';
import type { EtcdMemberRef, EtcdTarget } from './context.js';

export async function observeMember(deps: SshDeps, t: EtcdTarget, m: EtcdMemberRef, signal: AbortSignal): Promise<MemberView> {
  const base: MemberView = { name: m.name, ip: m.ip, reachable: false, healthy: false, isLeader: false };
  try {
    return await withSession(deps, { ...t.ssh, connectTimeoutSeconds: Math.min(t.ssh.connectTimeoutSeconds, 5) }, m, signal, async (s) => {
      const endpoint = clientUrl(m.ip, t.etcd.clientPort);
      // Health, then status only when healthy, in one exec (one round trip): the output of each
      // is split at a marker line no JSON contains. A refused client port answers "not healthy"
      // at once instead of after etcdctl's 3 s dial timeout (port-probe.ts).
      const both = await s.exec(unlessRefused(m.ip, t.etcd.clientPort, `h=$(${etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 })}); rc=$?; printf '%s\n' "$h"; echo ${SPLIT}; if [ "$rc" = 0 ]; then ${etcdctl(t.etcd.tls, [endpoint], ['endpoint', 'status', '-w', 'json'], { timeoutSeconds: 3 })}; fi`), { timeoutMs: 25_000, signal });
      if (wasRefused(both.stdout)) return { ...base, reachable: true };
      const [health = '', status = ''] = both.stdout.split(`\n${SPLIT}\n`);
      const healthy = parseLenient(() => parseEndpointHealth(health)[0]?.healthy) === true;
      if (!healthy) return { ...base, reachable: true };
      const st = parseLenient(() => parseEndpointStatus(status)[0]);
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

const SPLIT = '--mooring-endpoint-status--';

function parseLenient<T>(fn: () => T): T | undefined {
  try { return fn(); } catch { return undefined; }
}
