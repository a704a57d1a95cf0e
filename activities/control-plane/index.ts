// After etcd is restored from a snapshot, the Kubernetes control plane must be restarted: the API
// servers' watch caches hold revisions from before the restore. On kubeadm masters the control
// plane runs as static pods, so stopping their containers makes the kubelet start fresh ones.
// (In the lab, crictl is a SIMULATED stand-in: there is no kubelet.)
import { heartbeatWhile } from '../heartbeat.js';
import { withSession, type HostRef, type SshAccess, type SshDeps } from '../ssh/access.js';
import { sh } from '../ssh/quote.js';

export const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export interface ControlPlaneRestart {
  host: string;
  /** Containers stopped, as `name id`. */
  stopped: string[];
  /** Why nothing was restarted (no crictl, no control-plane containers). */
  skipped?: string;
}

export function createControlPlaneActivities(deps: SshDeps) {
  return {
    /** Stops the control-plane containers on a master, then waits until the kubelet runs new ones. */
    async restartControlPlane(input: { ssh: SshAccess; host: HostRef }): Promise<ControlPlaneRestart> {
      return heartbeatWhile(`restart the control plane on ${input.host.name}`, (signal) => withSession(deps, input.ssh, input.host, signal, async (s) => {
        const name = CONTROL_PLANE.join('|');
        if ((await s.exec('command -v crictl >/dev/null', { timeoutMs: 15_000, signal })).code !== 0) {
          return { host: input.host.name, stopped: [], skipped: 'crictl not found: restart kube-apiserver, kube-controller-manager and kube-scheduler by hand' };
        }
        const list = async () => (await s.run(sh`crictl ps --name ${name}`, { timeoutMs: 30_000, signal })).split('\n')
          .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && (CONTROL_PLANE as readonly string[]).includes(f[1]!)).map((f) => ({ id: f[0]!, name: f[1]! }));
        const before = await list();
        if (before.length === 0) return { host: input.host.name, stopped: [], skipped: 'no control-plane containers run here' };
        await s.run(sh`crictl stop ${before.map((c) => c.id)}`, { timeoutMs: 120_000, signal });
        // The kubelet brings each static pod back with a new container; wait for all of them.
        for (let i = 0; ; i++) {
          const now = await list();
          if (before.every((b) => now.some((n) => n.name === b.name && n.id !== b.id))) break;
          if (i >= 60) throw new Error(`${input.host.name}: the kubelet did not start new control-plane containers within 2 minutes (still: ${now.map((n) => n.name).join(', ') || 'none'})`);
          await new Promise((r) => setTimeout(r, 2000));
        }
        return { host: input.host.name, stopped: before.map((c) => `${c.name} ${c.id}`) };
      }));
    },
  };
}
