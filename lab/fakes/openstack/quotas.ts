// SIMULATED: the project's quotas, as Nova and Neutron report and enforce them. Nova's
// `GET /v2.1/limits` (absolute limits with the project's usage; the network fields go away at
// microversion 2.36, the personality ones at 2.57), Neutron's `GET /v2.0/quotas/{project_id}` and
// `/details` (quota_details extension: {used, limit, reserved} per resource). A create beyond a
// limit is refused as the services refuse it: Nova 403 "Quota exceeded for instances: Requested 1,
// but already used 10 of 10 instances", Neutron 409 OverQuota "Quota exceeded for resources:
// ['port'].". -1 means unlimited. Tests change a limit with `state.quotas` (or the control route).
import { Router, type FakeRequest } from '../http.js';
import { osError } from './errors.js';
import { requireToken } from './keystone.js';
import { COMPUTE, microversion, mv, versionHeaders } from './nova-resources.js';
import { nErr, NEUTRON } from './neutron-common.js';
import type { OpenStackState } from './state.js';
import type { ComputeQuotas, NetworkQuotas, Quotas } from './quota-defaults.js';

export { defaultQuotas, type ComputeQuotas, type NetworkQuotas, type Quotas } from './quota-defaults.js';

/** What the project uses now, counted from the fake's own records. */
export function computeUsage(state: OpenStackState, projectId: string): Record<keyof ComputeQuotas, number> {
  const servers = [...state.servers.values()].filter((s) => s.projectId === projectId);
  const flavor = (id: string) => state.flavors.find((f) => f.id === id);
  return {
    instances: servers.length,
    cores: servers.reduce((a, s) => a + (flavor(s.flavorId)?.vcpus ?? 0), 0),
    ram: servers.reduce((a, s) => a + (flavor(s.flavorId)?.ram ?? 0), 0),
    key_pairs: state.keypairs.size,
    server_groups: [...state.serverGroups.values()].filter((g) => g.projectId === projectId).length,
    server_group_members: 0,
    metadata_items: 0,
  };
}

export function networkUsage(state: OpenStackState, projectId: string): Record<keyof NetworkQuotas, number> {
  const mine = <T extends { project_id: string }>(m: Map<string, T>) => [...m.values()].filter((x) => x.project_id === projectId).length;
  return {
    network: mine(state.networks), subnet: mine(state.subnets), port: mine(state.ports), router: mine(state.routers),
    floatingip: mine(state.floatingIps), security_group: mine(state.securityGroups), security_group_rule: mine(state.securityGroupRules),
  };
}

/** Throws the service's quota error when `more` of `resource` would exceed the limit. */
export function enforceNetworkQuota(state: OpenStackState, projectId: string, resource: keyof NetworkQuotas, more = 1): void {
  const limit = state.quotas.network[resource];
  if (limit >= 0 && networkUsage(state, projectId)[resource] + more > limit) throw nErr(409, 'OverQuota', `Quota exceeded for resources: ['${resource}'].`);
}

export function enforceComputeQuota(state: OpenStackState, projectId: string, want: Partial<Record<'instances' | 'cores' | 'ram' | 'server_groups' | 'key_pairs', number>>): void {
  const used = computeUsage(state, projectId);
  for (const [k, n] of Object.entries(want) as [keyof ComputeQuotas, number][]) {
    const limit = state.quotas.compute[k];
    if (limit < 0 || used[k] + n <= limit) continue;
    if (k === 'server_groups') throw osError('compute', 403, 'Quota exceeded, too many server groups.');
    if (k === 'key_pairs') throw osError('compute', 403, 'Quota exceeded, too many key pairs.');
    throw osError('compute', 403, `Quota exceeded for ${k}: Requested ${n}, but already used ${used[k]} of ${limit} ${k}`);
  }
}

const NETWORK_KEYS = ['network', 'subnet', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule'] as const;

function checkUpdate(q: Quotas, body: unknown): void {
  const b = body as { compute?: Record<string, unknown>; network?: Record<string, unknown> } | undefined;
  if (typeof b !== 'object' || b === null) throw new Error('body: {"compute": {...}, "network": {...}}');
  for (const [group, values] of [['compute', b.compute], ['network', b.network]] as const) {
    if (values === undefined) continue;
    for (const [k, v] of Object.entries(values)) {
      if (!(k in q[group])) throw new Error(`${group}.${k}: unknown quota (${Object.keys(q[group]).join(', ')})`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) throw new Error(`${group}.${k}: ${JSON.stringify(v)} must be an integer >= -1`);
      (q[group] as unknown as Record<string, number>)[k] = v;
    }
  }
}

/** `PUT /_fake/openstack/quotas` for a process other than the test's. */
export function quotaControlRoutes(state: OpenStackState): Router {
  return new Router()
    .on('GET', '/_fake/openstack/quotas', () => ({ status: 200, body: state.quotas }))
    .on('PUT', '/_fake/openstack/quotas', (req) => {
      try { checkUpdate(state.quotas, req.body); } catch (e) { return { status: 400, body: { error: (e as Error).message } }; }
      return { status: 200, body: state.quotas };
    });
}

export function quotaRoutes(state: OpenStackState): Router {
  const neutronProject = (req: FakeRequest) => {
    const own = requireToken(state, req, 'network').projectId;
    const asked = (req.params.project as string).replace(/\.json$/, '');
    // Default policy: a member reads its own project's quota only.
    if (asked !== own) throw nErr(403, 'PolicyNotAuthorized', 'rule:get_quota is disallowed by policy');
    return own;
  };
  const details = (req: FakeRequest) => {
    const used = networkUsage(state, neutronProject(req));
    return { status: 200, body: { quota: Object.fromEntries(NETWORK_KEYS.map((k) => [k, { used: used[k], limit: state.quotas.network[k], reserved: 0 }])) } };
  };
  return new Router()
    .on('GET', `${COMPUTE}/limits`, (req) => {
      const v = microversion(req);
      const t = requireToken(state, req, 'compute');
      const q = state.quotas.compute;
      const used = computeUsage(state, t.projectId);
      const absolute: Record<string, number> = {
        maxImageMeta: q.metadata_items, maxServerMeta: q.metadata_items, maxTotalCores: q.cores, maxTotalInstances: q.instances, maxTotalKeypairs: q.key_pairs,
        maxTotalRAMSize: q.ram, maxServerGroups: q.server_groups, maxServerGroupMembers: q.server_group_members,
        totalCoresUsed: used.cores, totalInstancesUsed: used.instances, totalRAMUsed: used.ram, totalServerGroupsUsed: used.server_groups,
      };
      if (v.n < mv(2, 36)) {
        const n = networkUsage(state, t.projectId);
        Object.assign(absolute, {
          maxSecurityGroups: state.quotas.network.security_group, maxSecurityGroupRules: state.quotas.network.security_group_rule, maxTotalFloatingIps: state.quotas.network.floatingip,
          totalSecurityGroupsUsed: n.security_group, totalFloatingIpsUsed: n.floatingip,
        });
      }
      if (v.n < mv(2, 57)) Object.assign(absolute, { maxPersonality: 5, maxPersonalitySize: 10240 });
      return { status: 200, headers: versionHeaders(v.text), body: { limits: { rate: [], absolute } } };
    })
    .on('GET', `${NEUTRON}/quotas/:project`, (req) => {
      neutronProject(req);
      const q = state.quotas.network;
      return { status: 200, body: { quota: Object.fromEntries(NETWORK_KEYS.map((k) => [k, q[k]])) } };
    })
    // The API reference spells it `/details.json`; Neutron answers both.
    .on('GET', `${NEUTRON}/quotas/:project/details`, details)
    .on('GET', `${NEUTRON}/quotas/:project/details.json`, details);
}
