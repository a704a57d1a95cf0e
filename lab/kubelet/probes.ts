// SIMULATED kubelet (lab only): the manifests' HTTP probes, run for real against the running
// processes (kubeadm's control-plane manifests probe /livez, /readyz, /healthz over HTTP(S)). A
// container is ready when its startup probe has passed once and its readiness probe passes (no
// probe: ready while running), like the kubelet's prober. Liveness failures are only reported in
// the log: restarting a process the lab's loaded machine answers slowly would do more harm than
// the kubelet's restart does in production. Timeouts are at least 3 s for the same reason.
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { ContainerSpec, ProbeSpec } from './manifests.js';

export function probeOnce(p: ProbeSpec, spec: ContainerSpec, podIp: string): Promise<boolean> {
  const h = p.httpGet;
  if (!h) return Promise.resolve(true); // exec and tcp probes: not simulated, counted as passing
  let port = h.port;
  if (typeof port === 'string' && !/^\d+$/.test(port)) {
    const named = (spec.ports as { name?: string; containerPort: number }[] | undefined)?.find((x) => x.name === port);
    if (!named) return Promise.resolve(false);
    port = named.containerPort;
  }
  const https = (h.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const timeout = Math.max(3, p.timeoutSeconds ?? 1) * 1000;
  const options = { host: h.host || podIp, port: Number(port), path: h.path ?? '/', timeout, rejectUnauthorized: false, headers: { 'user-agent': 'kube-probe/mooring-simulated' } };
  return new Promise((resolve) => {
    const req = (https ? httpsGet : httpGet)(options, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

interface Track { started: boolean; ready: boolean; failures: number; busy: boolean; next: number }

/** Probe results per container ID; `tick` runs the probes that are due. */
export class Prober {
  private readonly byId = new Map<string, Track>();

  result(id: string): { started: boolean; ready: boolean } {
    const t = this.byId.get(id);
    return { started: t?.started ?? false, ready: t?.ready ?? false };
  }

  /** Probes each running container that is due; returns true when a result changed. */
  async tick(running: { id: string; spec: ContainerSpec; startedAt: string }[], podIp: string): Promise<boolean> {
    const live = new Set(running.map((r) => r.id));
    for (const id of this.byId.keys()) if (!live.has(id)) this.byId.delete(id);
    const changes = await Promise.all(running.map(async ({ id, spec, startedAt }) => {
      const t = this.byId.get(id) ?? { started: !spec.startupProbe, ready: false, failures: 0, busy: false, next: 0 };
      this.byId.set(id, t);
      const probe = !t.started ? spec.startupProbe : spec.readinessProbe;
      if (!probe) {
        const changed = !t.ready;
        t.ready = true;
        return changed;
      }
      const now = Date.now();
      if (t.busy || now < t.next || now < Date.parse(startedAt) + (probe.initialDelaySeconds ?? 0) * 1000) return false;
      t.busy = true;
      const ok = await probeOnce(probe, spec, podIp).finally(() => { t.busy = false; });
      t.next = Date.now() + Math.min(5, probe.periodSeconds ?? 10) * 1000;
      const before = `${t.started}${t.ready}`;
      if (ok) {
        t.failures = 0;
        if (!t.started) t.started = true;
        else t.ready = true;
        if (t.started && !spec.readinessProbe) t.ready = true;
      } else if (++t.failures >= (probe.failureThreshold ?? 3) && t.started) t.ready = false;
      return before !== `${t.started}${t.ready}`;
    }));
    return changes.some(Boolean);
  }
}
