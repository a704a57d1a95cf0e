// SIMULATED: stand-in for Nova's os-server-groups: create (a `policy` from microversion 2.64, a
// one-element `policies` list before), list, show and delete. Members are the servers booted with
// the scheduler hint `{"os:scheduler_hints": {"group": id}}`. The fake has one hypervisor, so the
// policy is recorded and shown, never enforced (a real anti-affinity group refuses a second member
// on a full set of hosts with "No valid host").
import { randomUUID } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { osError } from './errors.js';
import { requireToken } from './keystone.js';
import { COMPUTE, microversion, mv, versionHeaders } from './nova-resources.js';
import type { OpenStackState, ServerGroup } from './state.js';
import { enforceComputeQuota } from './quotas.js';

const POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;

function render(g: ServerGroup, v: number): unknown {
  const base = { id: g.id, name: g.name, members: g.members, metadata: {} };
  if (v >= mv(2, 64)) return { ...base, policy: g.policy, rules: g.rules, project_id: g.projectId, user_id: g.userId };
  return { ...base, policies: [g.policy], ...(v >= mv(2, 13) ? { project_id: g.projectId, user_id: g.userId } : {}) };
}

function create(state: OpenStackState, req: FakeRequest, v: number, projectId: string, userId: string): ServerGroup {
  const a = (req.body as { server_group?: Record<string, unknown> } | undefined)?.server_group;
  const bad = (m: string) => osError('compute', 400, `Invalid input for field/attribute server_group. ${m}`);
  if (typeof a !== 'object' || a === null) throw bad("'server_group' is a required property");
  const allowed = v >= mv(2, 64) ? ['name', 'policy', 'rules'] : ['name', 'policies'];
  const extra = Object.keys(a).filter((k) => !allowed.includes(k));
  if (extra.length) throw bad(`Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} was unexpected)`);
  if (typeof a.name !== 'string' || a.name.length < 1 || a.name.length > 255) throw bad("'name' must be a string of 1-255 characters");
  const policy = v >= mv(2, 64) ? a.policy : Array.isArray(a.policies) && a.policies.length === 1 ? a.policies[0] : undefined;
  if (!POLICIES.includes(policy as (typeof POLICIES)[number])) throw bad(`policy ${JSON.stringify(policy)} is not one of ${POLICIES.join(', ')}`);
  enforceComputeQuota(state, projectId, { server_groups: 1 });
  const rules = (a.rules ?? {}) as Record<string, number>;
  const g: ServerGroup = { id: randomUUID(), name: a.name, policy: policy as ServerGroup['policy'], rules, members: [], projectId, userId };
  state.serverGroups.set(g.id, g);
  return g;
}

export function novaServerGroupRoutes(state: OpenStackState): Router {
  const G = `${COMPUTE}/os-server-groups`;
  const run = (req: FakeRequest, f: (v: number, t: ReturnType<typeof requireToken>) => { status: number; body?: unknown }) => {
    const v = microversion(req);
    const t = requireToken(state, req, 'compute');
    return { ...f(v.n, t), headers: versionHeaders(v.text) };
  };
  const find = (id: string, projectId: string) => {
    const g = state.serverGroups.get(id);
    if (!g || g.projectId !== projectId) throw osError('compute', 404, `Instance group ${id} could not be found.`);
    return g;
  };
  return new Router()
    .on('GET', G, (req) => run(req, (v, t) => ({ status: 200, body: { server_groups: [...state.serverGroups.values()].filter((g) => g.projectId === t.projectId).map((g) => render(g, v)) } })))
    .on('POST', G, (req) => run(req, (v, t) => ({ status: 200, body: { server_group: render(create(state, req, v, t.projectId, t.userId), v) } })))
    .on('GET', `${G}/:id`, (req) => run(req, (v, t) => ({ status: 200, body: { server_group: render(find(req.params.id as string, t.projectId), v) } })))
    .on('DELETE', `${G}/:id`, (req) => run(req, (_v, t) => { state.serverGroups.delete(find(req.params.id as string, t.projectId).id); return { status: 204 }; }));
}
