// After etcd is restored from a snapshot, the Kubernetes control plane must be restarted: the API
// servers' watch caches hold revisions from before the restore. On kubeadm masters the control
// plane runs as static pods, so stopping their containers makes the kubelet start fresh ones.
// The runbook restarts one master at a time (the others keep the API up) and records each
// master's container IDs before stopping anything, so a retried restart finishes the job instead
// of stopping the containers the kubelet has just started.
// A master counts as restarted once its new kube-apiserver answers GET /readyz with 200 (readyz.ts),
// not merely when its container runs.
// (In the lab, crictl is a SIMULATED stand-in: there is no kubelet, and no apiserver to probe.)
import { ApplicationFailure, Context } from '@temporalio/activity';
import { heartbeatWhile } from '../heartbeat.js';
import { withSession, type HostRef, type SshAccess, type SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { waitForReadyz } from './readyz.js';

export const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export interface ControlPlaneContainer { name: string; id: string }

export interface ControlPlaneRestart {
  host: string;
  /** Containers this attempt stopped, as `name id`. */
  stopped: string[];
  /** Containers an earlier attempt had already restarted (their ID had changed), as `name id`. */
  alreadyRestarted?: string[];
  /** Why nothing was restarted (no crictl, no control-plane containers). */
  skipped?: string;
  /** How the new kube-apiserver was found ready ("200 after 12 s (https://…:6443/readyz)"), or why it was not probed. */
  readyz?: string;
}

/**
 * How a restart learns the apiserver is back (inventory kubernetes.apiserverReadiness). Absent
 * means `readyz`: only a lab that says it has no apiserver skips the probe, never by default.
 */
export type ApiserverReadiness = 'readyz' | 'none-simulated';

export const NOT_PROBED_SIMULATED = 'not probed: this master runs no kube-apiserver (SIMULATED lab, kubernetes.apiserverReadiness: none-simulated)';

const NO_CRICTL = 'crictl not found: restart kube-apiserver, kube-controller-manager and kube-scheduler by hand';

/** The running control-plane containers, from `crictl ps -o json` (the table's columns differ between crictl versions). */
async function runningContainers(s: SshSession, signal: AbortSignal): Promise<ControlPlaneContainer[]> {
  const out = await s.run('crictl ps -o json', { timeoutMs: 30_000, signal });
  let parsed: { containers?: { id?: unknown; metadata?: { name?: unknown }; state?: unknown }[] };
  try {
    parsed = JSON.parse(out) as typeof parsed;
  } catch {
    throw new Error(`crictl ps -o json did not print JSON: ${out.slice(0, 200)}`);
  }
  return (parsed.containers ?? []).flatMap((c) => {
    const name = c.metadata?.name;
    const running = c.state === undefined || c.state === 'CONTAINER_RUNNING';
    return typeof c.id === 'string' && typeof name === 'string' && running && (CONTROL_PLANE as readonly string[]).includes(name) ? [{ id: c.id, name }] : [];
  });
}

const hasCrictl = async (s: SshSession, signal: AbortSignal) => (await s.exec('command -v crictl >/dev/null', { timeoutMs: 15_000, signal })).code === 0;

/** How long one attempt waits for the kubelet before failing; the retry goes on waiting, it never stops again. */
const WAIT_PER_ATTEMPT_MS = 90_000;
/** How long one attempt waits for /readyz after the container runs (a retry asks again, it stops nothing). */
const READYZ_PER_ATTEMPT_MS = 120_000;

export function createControlPlaneActivities(deps: SshDeps) {
  return {
    /** The master's running control-plane containers: recorded in history before any restart. */
    async controlPlaneContainers(input: { ssh: SshAccess; host: HostRef }): Promise<{ host: string; containers: ControlPlaneContainer[]; skipped?: string }> {
      return heartbeatWhile(`list the control plane on ${input.host.name}`, (signal) => withSession(deps, input.ssh, input.host, signal, async (s) => {
        if (!(await hasCrictl(s, signal))) return { host: input.host.name, containers: [], skipped: NO_CRICTL };
        return { host: input.host.name, containers: await runningContainers(s, signal) };
      }));
    },

    /**
     * Restarts the containers listed in `before` (taken by controlPlaneContainers) on one master and
     * waits until the kubelet runs a new one for each, the kube-apiserver included, then until that
     * apiserver answers GET /readyz with 200 (unless `apiserverReadiness` says the master has none,
     * SIMULATED; absent means probe). A container whose
     * ID already differs from `before` was restarted by an earlier attempt and is not stopped again.
     * Without `before` (runs started before it existed) the IDs are taken now and kept in the
     * heartbeat, which a retry reads back.
     */
    async restartControlPlane(input: { ssh: SshAccess; host: HostRef; before?: ControlPlaneContainer[]; apiserverReadiness?: ApiserverReadiness; readyzTimeoutSeconds?: number }): Promise<ControlPlaneRestart> {
      const ctx = Context.current();
      const host = input.host.name;
      const signal = ctx.cancellationSignal;
      let before = input.before ?? (ctx.info.heartbeatDetails as { before?: ControlPlaneContainer[] } | undefined)?.before;
      let readyz: string | undefined;
      // Every heartbeat carries the IDs taken before the stop (details are last-write-wins).
      const beat = () => ctx.heartbeat({ what: `restart the control plane on ${host}`, ...(before ? { before } : {}), ...(readyz ? { readyz } : {}) });
      beat();
      const timer = setInterval(beat, 1000);
      try {
        return await withSession(deps, input.ssh, input.host, signal, async (s) => {
          if (!(await hasCrictl(s, signal))) return { host, stopped: [], skipped: NO_CRICTL };
          const now = await runningContainers(s, signal);
          before ??= now;
          beat();
          if (before.length === 0) return { host, stopped: [], skipped: 'no control-plane containers run here' };
          const toStop = before.filter((b) => now.some((n) => n.id === b.id));
          const done = before.filter((b) => !toStop.includes(b));
          if (toStop.length) await s.run(sh`crictl stop ${toStop.map((c) => c.id)}`, { timeoutMs: 60_000, signal });
          // The kubelet brings each static pod back with a new container; wait until all of them run.
          const started = Date.now();
          for (;;) {
            const seen = await runningContainers(s, signal);
            const missing = before.filter((b) => !seen.some((n) => n.name === b.name && n.id !== b.id));
            if (missing.length === 0) break;
            if (Date.now() - started > WAIT_PER_ATTEMPT_MS) {
              // Retryable: the next attempt finds these stopped and goes on waiting.
              throw ApplicationFailure.create({ type: 'ControlPlaneNotBack', message: `${host}: the kubelet has not started new ${missing.map((m) => m.name).join(', ')} containers within ${WAIT_PER_ATTEMPT_MS / 1000}s` });
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
          let ready: string | undefined;
          if (before.some((b) => b.name === 'kube-apiserver')) {
            if (input.apiserverReadiness === 'none-simulated') ready = NOT_PROBED_SIMULATED;
            else {
              readyz = 'asking /readyz';
              const r = await waitForReadyz(s, { host, ip: input.host.ip }, {
                timeoutMs: (input.readyzTimeoutSeconds ?? READYZ_PER_ATTEMPT_MS / 1000) * 1000, signal, onAnswer: (a) => { readyz = a; },
              });
              ready = `200 after ${Math.round(r.waitedMs / 1000)} s (${r.url.replace(/\?verbose$/, '')})`;
            }
          }
          return {
            host, stopped: toStop.map((c) => `${c.name} ${c.id}`),
            ...(done.length ? { alreadyRestarted: done.map((c) => `${c.name} ${c.id}`) } : {}),
            ...(ready ? { readyz: ready } : {}),
          };
        });
      } finally {
        clearInterval(timer);
      }
    },
  };
}
