// SIMULATED: Proxmox VE worker tasks. Every long operation (clone, start, stop, destroy, POST
// config) answers at once with a UPID string and runs on; GET /nodes/{node}/tasks/{upid}/status
// says "running" until the task stops, then "stopped" with exitstatus "OK" or the error message.
// The operation's effect lands when the task stops, so a client that does not wait sees it missing.
import { Router, type FakeRequest } from '../http.js';
import { Progression } from '../progress.js';
import { pveError } from './errors.js';
import { API, authenticate } from './auth.js';
import { finishTask, type ProxmoxState, type Task } from './state.js';

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

/** UPID:node:pid:pstart:starttime:type:id:user: with pid, pstart and starttime in hex. */
export function startTask(state: ProxmoxState, node: string, type: string, id: string, user: string, work: () => void, undo?: () => void): Task {
  const pid = state.newPid();
  const pstart = Math.floor(process.uptime() * 100) + 1_000_000;
  const starttime = Math.floor(Date.now() / 1000);
  const upid = `UPID:${node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
  const i = state.taskFailures.findIndex((f) => f.type === undefined || f.type === type);
  const failWith = i >= 0 ? state.taskFailures.splice(i, 1)[0]?.message : undefined;
  const w = state.taskWarnings.findIndex((f) => f.type === undefined || f.type === type);
  const warnings = w >= 0 && failWith === undefined ? state.taskWarnings.splice(w, 1)[0]?.count : undefined;
  const task: Task = {
    upid, node, pid, pstart, starttime, type, id, user, status: 'running', progress: new Progression(state.timing.task), log: [`starting ${type} ${id}`], work,
    ...(undo ? { undo } : {}), ...(failWith !== undefined ? { failWith } : {}), ...(warnings ? { warnings } : {}),
  };
  state.tasks.set(upid, task);
  return task;
}

/** PVE reports a token's task with `user` and `tokenid` apart (the UPID keeps user@realm!tokenid). */
function who(t: Task): Record<string, string> {
  const bang = t.user.indexOf('!');
  return bang < 0 ? { user: t.user } : { user: t.user.slice(0, bang), tokenid: t.user.slice(bang + 1) };
}

function view(t: Task): Record<string, unknown> {
  return {
    upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, ...who(t), status: t.status,
    ...(t.status === 'stopped' ? { exitstatus: t.exitstatus } : {}),
  };
}

function find(state: ProxmoxState, req: FakeRequest): Task {
  authenticate(state, req);
  const upid = req.params.upid as string;
  const t = state.tasks.get(upid);
  if (!/^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[^:]+:[^:]*:[^:]+:$/.test(upid)) throw pveError(400, `unable to parse worker upid '${upid}'`);
  if (!t || t.node !== req.params.node) throw pveError(500, `no such task`);
  return t;
}

export function taskRoutes(state: ProxmoxState): Router {
  return new Router()
    .on('GET', `${API}/nodes/:node/tasks`, (req) => {
      authenticate(state, req);
      const list = [...state.tasks.values()].filter((t) => t.node === req.params.node).reverse()
        .map((t) => ({ upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, ...who(t), ...(t.status === 'stopped' ? { status: t.exitstatus, endtime: t.endtime } : {}) }));
      return { status: 200, body: { data: list } };
    })
    .on('GET', `${API}/nodes/:node/tasks/:upid/status`, (req) => {
      const t = find(state, req);
      if (t.status === 'running' && t.progress.observe()) finishTask(t);
      return { status: 200, body: { data: view(t) } };
    })
    .on('GET', `${API}/nodes/:node/tasks/:upid/log`, (req) => {
      const t = find(state, req);
      return { status: 200, body: { data: t.log.map((line, n) => ({ n: n + 1, t: line })), total: t.log.length } };
    });
}
