// Neutron security groups and rules: GET/POST /v2.0/security-groups, GET/POST
// /v2.0/security-group-rules. A group is created with Neutron's two default egress rules; Mooring
// adds the ingress rules of its port table (plan/port-table.ts), each only if absent.
import type { OpenStackClient } from '../client.js';

export interface SecurityGroupRule {
  id: string; security_group_id: string; direction: 'ingress' | 'egress'; ethertype: 'IPv4' | 'IPv6'; protocol: string | null;
  port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; remote_group_id: string | null; description?: string;
}
export interface SecurityGroup { id: string; name: string; description: string; tags: string[]; security_group_rules: SecurityGroupRule[] }
export interface SecurityGroupCreate { name: string; description?: string }
export type SecurityGroupRuleCreate = Omit<SecurityGroupRule, 'id'>;

export async function listSecurityGroups(c: OpenStackClient, filter: { name?: string; tags?: string }): Promise<SecurityGroup[]> {
  return (await c.request<{ security_groups: SecurityGroup[] }>('network', 'GET', '/security-groups', { query: { ...filter } })).body.security_groups;
}

export async function createSecurityGroup(c: OpenStackClient, g: SecurityGroupCreate): Promise<SecurityGroup> {
  return (await c.request<{ security_group: SecurityGroup }>('network', 'POST', '/security-groups', { body: { security_group: g } })).body.security_group;
}

export async function createSecurityGroupRule(c: OpenStackClient, r: SecurityGroupRuleCreate): Promise<SecurityGroupRule> {
  return (await c.request<{ security_group_rule: SecurityGroupRule }>('network', 'POST', '/security-group-rules', { body: { security_group_rule: r } })).body.security_group_rule;
}
