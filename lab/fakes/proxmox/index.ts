// SIMULATED: stand-in for a Proxmox VE cluster's REST API (/api2/json) on a loopback HTTP port.
// Real PVE listens with TLS on 8006; the fake speaks plain HTTP so the lab needs no certificates,
// and a client must therefore take the base URL (scheme included) from configuration.
import { Router, startFakeServer, type FakeResponse, type RunningFake } from '../http.js';
import { agentRoutes } from './agent.js';
import { clusterRoutes } from './cluster.js';
import { accessRoutes, API } from './auth.js';
import { pveErrorResponse } from './errors.js';
import { qemuRoutes } from './qemu.js';
import { ProxmoxState, type ProxmoxFakeOptions } from './state.js';
import { taskRoutes } from './tasks.js';

export { PROXMOX_FAKE_DEFAULTS, ProxmoxState, type ProxmoxFakeOptions } from './state.js';

export interface ProxmoxFake extends RunningFake {
  /** http://127.0.0.1:PORT/api2/json */
  apiUrl: string;
  /** The simulated cluster: users, tokens, VMs, tasks, failNextTask(). */
  state: ProxmoxState;
}

function errorResponse(status: number, message: string): FakeResponse {
  return pveErrorResponse(status, message);
}

/** PVE has no 404/405 for API paths: an unknown path or method is "not implemented". */
function unrouted(method: string, path: string): FakeResponse {
  return pveErrorResponse(501, `Method '${method} ${path.replace(API, '')}' not implemented`);
}

export async function startProxmoxFake(opts: ProxmoxFakeOptions = {}): Promise<ProxmoxFake> {
  const state = new ProxmoxState(opts);
  const router = new Router().mount(accessRoutes(state)).mount(clusterRoutes(state)).mount(qemuRoutes(state)).mount(agentRoutes(state)).mount(taskRoutes(state));
  // Task failures (exitstatus other than OK) for a process other than the test's.
  const control = new Router()
    .on('POST', '/_fake/proxmox/fail-next-task', (req) => {
      const b = (req.body ?? {}) as { message?: unknown; type?: unknown };
      if (typeof b.message !== 'string' || (b.type !== undefined && typeof b.type !== 'string')) return { status: 400, body: { error: 'message: required string (the exitstatus); type: optional task type such as "qmclone"' } };
      state.failNextTask(b.message, b.type as string | undefined);
      return { status: 201, body: { pendingFailures: state.taskFailures.length } };
    })
    // The faults the clone path must survive, for a process other than the test's.
    .on('POST', '/_fake/proxmox/fault', (req) => {
      const b = (req.body ?? {}) as { kind?: unknown; times?: unknown; count?: unknown; type?: unknown; node?: unknown; online?: unknown };
      const times = typeof b.times === 'number' && b.times > 0 ? b.times : 1;
      if (b.kind === 'clone-lock-timeout') state.cloneLockTimeouts += times;
      else if (b.kind === 'vmid-race') state.vmidRaces += times;
      else if (b.kind === 'warnings' && typeof b.count === 'number' && b.count > 0) state.warnNextTask(b.count, typeof b.type === 'string' ? b.type : undefined);
      else if (b.kind === 'node-online' && typeof b.node === 'string' && typeof b.online === 'boolean' && state.nodes.includes(b.node)) state.setOnline(b.node, b.online);
      else return { status: 400, body: { error: 'kind: clone-lock-timeout|vmid-race [times]; warnings {count, type?}; node-online {node, online}' } };
      return { status: 201, body: { cloneLockTimeouts: state.cloneLockTimeouts, vmidRaces: state.vmidRaces } };
    })
    .on('GET', '/_fake/proxmox/state', () => {
      state.tick();
      return {
        status: 200,
        body: {
          vms: [...state.vms.values()].map((v) => ({ vmid: v.vmid, node: v.node, name: v.config.name, status: v.status, lock: v.lock ?? null, template: Boolean(v.config.template), tags: v.config.tags ?? null })),
          tasks: [...state.tasks.values()].map((t) => ({ upid: t.upid, status: t.status, exitstatus: t.exitstatus ?? null })),
        },
      };
    });
  const running = await startFakeServer({
    name: 'Proxmox VE fake',
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    router,
    errorResponse,
    unrouted,
    beforeEach: () => state.tick(),
    headers: () => ({ 'content-type': 'application/json;charset=UTF-8' }),
    control,
  });
  return { ...running, apiUrl: `${running.url}${API}`, state };
}
