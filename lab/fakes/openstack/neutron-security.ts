// SIMULATED: stand-in for Neutron security groups and security group rules (Networking API v2.0).
// Mooring opens the port table of seed 004 with these, so the fake checks rules the way Neutron
// does: direction and ethertype values, a protocol for any port range, min <= max, one remote at
// most, and duplicates refused with 409 SecurityGroupRuleExists.
import { randomUUID } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { requireToken } from './keystone.js';
import { intToIp, parseCidr } from '../ipam.js';
import { expect, filterList, nErr, NEUTRON, notFound, own, resourceBody, stamps, touch } from './neutron-common.js';
import type { OpenStackState, SecurityGroup, SecurityGroupRule } from './state.js';
import { enforceNetworkQuota } from './quotas.js';

const RULE_CREATE = ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id', 'description', 'project_id', 'tenant_id'];
const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'icmpv6', 'ipv6-icmp', 'sctp', 'gre', 'esp', 'ah', 'vrrp', 'ipip', 'any']);
const PORTED = new Set(['tcp', 'udp', 'sctp', '6', '17', '132']);

function makeRule(sg: SecurityGroup, r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'direction' | 'ethertype'>): SecurityGroupRule {
  return {
    id: randomUUID(), security_group_id: sg.id, protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, description: '',
    ...stamps(sg.project_id), ...r,
  } as SecurityGroupRule;
}

function createGroup(state: OpenStackState, projectId: string, name: string, description: string, isDefault = false): SecurityGroup {
  const sg: SecurityGroup = { id: randomUUID(), name, description, ...stamps(projectId), stateful: true };
  state.securityGroups.set(sg.id, sg);
  const rules = [makeRule(sg, { direction: 'egress', ethertype: 'IPv4' }), makeRule(sg, { direction: 'egress', ethertype: 'IPv6' })];
  // The project's default group also lets its members reach each other, as Neutron seeds it.
  if (isDefault) rules.push(makeRule(sg, { direction: 'ingress', ethertype: 'IPv4', remote_group_id: sg.id }), makeRule(sg, { direction: 'ingress', ethertype: 'IPv6', remote_group_id: sg.id }));
  for (const r of rules) state.securityGroupRules.set(r.id, r);
  return sg;
}

export function seedDefaultSecurityGroup(state: OpenStackState): void {
  createGroup(state, state.project.id, 'default', 'Default security group', true);
}

export function defaultSecurityGroupId(state: OpenStackState, projectId: string): string | undefined {
  return [...state.securityGroups.values()].find((g) => g.project_id === projectId && g.name === 'default')?.id;
}

function render(state: OpenStackState, sg: SecurityGroup): unknown {
  return { ...sg, security_group_rules: [...state.securityGroupRules.values()].filter((r) => r.security_group_id === sg.id) };
}

function createRule(state: OpenStackState, projectId: string, req: FakeRequest): SecurityGroupRule {
  const a = resourceBody(req, 'security_group_rule', RULE_CREATE, ['security_group_id', 'direction']);
  enforceNetworkQuota(state, projectId, 'security_group_rule');
  for (const f of ['security_group_id', 'direction', 'ethertype', 'description']) expect(a, f, 'string');
  expect(a, 'remote_ip_prefix', 'string|null');
  expect(a, 'remote_group_id', 'string|null');
  const sg = own(state.securityGroups, a.security_group_id as string, 'Security group', projectId);
  if (a.direction !== 'ingress' && a.direction !== 'egress') throw nErr(400, 'HTTPBadRequest', `Invalid input for direction. Reason: ${String(a.direction)} is not in valid_values.`);
  const ethertype = (a.ethertype as string | undefined) ?? 'IPv4';
  if (ethertype !== 'IPv4' && ethertype !== 'IPv6') throw nErr(400, 'SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${ethertype}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
  let protocol: string | null = null;
  if (a.protocol !== undefined && a.protocol !== null) {
    const p = String(a.protocol).toLowerCase();
    if (!PROTOCOLS.has(p) && !(/^\d{1,3}$/.test(p) && Number(p) <= 255)) throw nErr(400, 'SecurityGroupRuleInvalidProtocol', `Security group rule protocol ${p} not supported. Only protocol values [${[...PROTOCOLS].join(', ')}] and integer representations [0 to 255] are supported.`);
    protocol = p === 'any' ? null : p;
  }
  const min = a.port_range_min ?? null;
  const max = a.port_range_max ?? null;
  for (const [f, v] of [['port_range_min', min], ['port_range_max', max]] as const) {
    if (v !== null && !Number.isInteger(v)) throw nErr(400, 'HTTPBadRequest', `Invalid input for ${f}. Reason: '${String(v)}' is not an integer.`);
  }
  if ((min !== null || max !== null) && protocol === null) throw nErr(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  if (protocol !== null && PORTED.has(protocol) && (min !== null || max !== null)) {
    if (min === null || max === null || (min as number) > (max as number)) throw nErr(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    for (const v of [min, max] as number[]) if (v < 1 || v > 65535) throw nErr(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${v}`);
  }
  let prefix = (a.remote_ip_prefix as string | null | undefined) ?? null;
  const remoteGroup = (a.remote_group_id as string | null | undefined) ?? null;
  if (prefix !== null && remoteGroup !== null) throw nErr(400, 'SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only remote_ip_prefix or remote_group_id may be provided.');
  if (prefix !== null) {
    if (prefix.includes(':')) throw nErr(400, 'HTTPBadRequest', 'SIMULATED: the Neutron fake checks IPv4 remote_ip_prefix only.');
    if (ethertype === 'IPv6') throw nErr(400, 'EtherTypeConflictWithRemoteIPPrefix', `Conflicting value ethertype IPv6 for CIDR ${prefix}`);
    const c = parseCidr(prefix.includes('/') ? prefix : `${prefix}/32`, { strict: false });
    if (!c) throw nErr(400, 'HTTPBadRequest', `Invalid input for remote_ip_prefix. Reason: '${prefix}' is not a valid IP subnet.`);
    prefix = `${intToIp(c.base)}/${c.prefix}`; // Neutron stores the normalized network address
  }
  if (remoteGroup !== null && !state.securityGroups.has(remoteGroup)) throw notFound('Security group', remoteGroup);
  const candidate = { direction: a.direction, ethertype, protocol, port_range_min: min as number | null, port_range_max: max as number | null, remote_ip_prefix: prefix, remote_group_id: remoteGroup } as const;
  for (const r of state.securityGroupRules.values()) {
    if (r.security_group_id !== sg.id) continue;
    const same = (Object.keys(candidate) as (keyof typeof candidate)[]).every((k) => r[k] === candidate[k]);
    if (same) throw nErr(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${r.id}.`);
  }
  const rule = makeRule(sg, { ...candidate, description: (a.description as string | undefined) ?? '' });
  state.securityGroupRules.set(rule.id, rule);
  touch(sg);
  return rule;
}

export function neutronSecurityRoutes(state: OpenStackState): Router {
  const auth = (req: FakeRequest) => requireToken(state, req, 'network').projectId;
  return new Router()
    .on('GET', `${NEUTRON}/security-groups`, (req) => {
      const p = auth(req);
      const groups = filterList([...state.securityGroups.values()].filter((g) => g.project_id === p), req.query, ['id', 'name', 'description', 'project_id', 'tenant_id', 'stateful']);
      return { status: 200, body: { security_groups: groups.map((g) => render(state, g)) } };
    })
    .on('POST', `${NEUTRON}/security-groups`, (req) => {
      const p = auth(req);
      const a = resourceBody(req, 'security_group', ['name', 'description', 'project_id', 'tenant_id', 'stateful']);
      for (const f of ['name', 'description']) expect(a, f, 'string');
      enforceNetworkQuota(state, p, 'security_group');
      if (a.name === 'default') throw nErr(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      const sg = createGroup(state, p, (a.name as string | undefined) ?? '', (a.description as string | undefined) ?? '');
      return { status: 201, body: { security_group: render(state, sg) } };
    })
    .on('GET', `${NEUTRON}/security-groups/:id`, (req) => ({ status: 200, body: { security_group: render(state, own(state.securityGroups, req.params.id as string, 'Security group', auth(req))) } }))
    .on('PUT', `${NEUTRON}/security-groups/:id`, (req) => {
      const sg = own(state.securityGroups, req.params.id as string, 'Security group', auth(req));
      const a = resourceBody(req, 'security_group', ['name', 'description']);
      for (const f of ['name', 'description']) expect(a, f, 'string');
      Object.assign(sg, a);
      touch(sg);
      return { status: 200, body: { security_group: render(state, sg) } };
    })
    .on('DELETE', `${NEUTRON}/security-groups/:id`, (req) => {
      const sg = own(state.securityGroups, req.params.id as string, 'Security group', auth(req));
      if (sg.name === 'default') throw nErr(409, 'SecurityGroupCannotRemoveDefault', 'Removing default security group not allowed.');
      if ([...state.ports.values()].some((p) => p.security_groups.includes(sg.id))) throw nErr(409, 'SecurityGroupInUse', `Security Group ${sg.id} in use.`);
      // Rules of this group and rules elsewhere that name it as remote group go with it.
      for (const r of [...state.securityGroupRules.values()]) if (r.security_group_id === sg.id || r.remote_group_id === sg.id) state.securityGroupRules.delete(r.id);
      state.securityGroups.delete(sg.id);
      return { status: 204 };
    })
    .on('GET', `${NEUTRON}/security-group-rules`, (req) => {
      const p = auth(req);
      const rules = filterList([...state.securityGroupRules.values()].filter((r) => r.project_id === p), req.query,
        ['id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'project_id', 'tenant_id', 'description']);
      return { status: 200, body: { security_group_rules: rules } };
    })
    .on('POST', `${NEUTRON}/security-group-rules`, (req) => ({ status: 201, body: { security_group_rule: createRule(state, auth(req), req) } }))
    .on('GET', `${NEUTRON}/security-group-rules/:id`, (req) => ({ status: 200, body: { security_group_rule: own(state.securityGroupRules, req.params.id as string, 'Security group rule', auth(req)) } }))
    .on('DELETE', `${NEUTRON}/security-group-rules/:id`, (req) => {
      const r = own(state.securityGroupRules, req.params.id as string, 'Security group rule', auth(req));
      state.securityGroupRules.delete(r.id);
      return { status: 204 };
    });
}
