// The network half of the cloud phase: network, subnet, router with its external gateway and the
// subnet plugged in, security groups from the port table, ports with the inventory's addresses,
// the VIP port, floating IPs. Each activity looks up before it creates (ensure.ts) and returns the
// ids the run records; none returns or logs a secret.
import type { CloudPlan, HostPlan } from '../plan/cloud-plan.js';
import { ruleKey, type RuleSpec } from '../plan/port-table.js';
import type { Role } from '../plan/names.js';
import { CloudInventoryError } from '../errors.js';
import { assertMayCreate, ensureByName } from '../ensure.js';
import { floatingIpKey } from '../plan/approved.js';
import type { OpenStackClient } from '../client.js';
import { createNetwork, listNetworks } from '../network/networks.js';
import { createSubnet, listSubnets } from '../network/subnets.js';
import { addRouterInterface, createRouter, listRouters, setRouterGateway } from '../network/routers.js';
import { createSecurityGroup, createSecurityGroupRule, listSecurityGroups, type SecurityGroupRule } from '../network/security-groups.js';
import { createPort, listPorts, updatePort, type Port } from '../network/ports.js';
import { createFloatingIp, listFloatingIps } from '../network/floating-ips.js';
import { setTags } from '../network/tags.js';
import { withCloud, type CloudTarget, type OpenStackDeps } from './context.js';

export interface Created { id: string; created: boolean }

/** The external network by name (router gateway, floating IPs); `field` names the inventory field. */
export async function externalNetworkId(c: OpenStackClient, name: string, field: string): Promise<string> {
  const nets = (await listNetworks(c, { name, 'router:external': 'true' })).filter((n) => n.name === name);
  if (nets.length === 1) return nets[0]!.id;
  if (nets.length === 0) throw new CloudInventoryError(`${field}: no external network named "${name}" in cloud ${c.cloudName}: check \`openstack network list --external\``);
  throw new CloudInventoryError(`${field}: ${nets.length} external networks are named "${name}": name a unique one`);
}

const PROTOCOL_NUMBER: Record<RuleSpec['protocol'], string> = { tcp: 'tcp', udp: 'udp', vrrp: 'vrrp', ipip: 'ipip' };

function matches(existing: SecurityGroupRule, want: RuleSpec, groupIds: Record<string, string>): boolean {
  if (existing.direction !== 'ingress' || existing.ethertype !== 'IPv4') return false;
  const proto = existing.protocol === '112' ? 'vrrp' : existing.protocol === '4' ? 'ipip' : existing.protocol;
  const from = existing.remote_group_id
    ? { role: Object.entries(groupIds).find(([, id]) => id === existing.remote_group_id)?.[0] as Role }
    : { cidr: existing.remote_ip_prefix ?? '0.0.0.0/0' };
  const ports = existing.port_range_min !== null && existing.port_range_max !== null ? [existing.port_range_min, existing.port_range_max] as [number, number] : undefined;
  return ruleKey({ protocol: proto as RuleSpec['protocol'], ...(ports ? { ports } : {}), from }) === ruleKey(want);
}

async function ensurePortFor(c: OpenStackClient, o: { name: string; ip: string; ipField: string; networkId: string; subnetId: string; securityGroups: string[]; pairs?: string[]; tag: string; approved?: readonly string[] }): Promise<Port> {
  const { resource: port } = await ensureByName({
    kind: 'port', name: o.name, tag: o.tag,
    find: () => listPorts(c, { name: o.name, network_id: o.networkId }),
    create: async () => {
      // An address another port holds is an inventory contradiction only the cloud can reveal.
      const holders = await listPorts(c, { network_id: o.networkId, fixed_ips: [`ip_address=${o.ip}`] });
      const other = holders.find((p) => p.name !== o.name);
      if (other) throw new CloudInventoryError(`${o.ipField}: ${o.ip} is already held by port ${other.id}${other.name ? ` (${other.name})` : ''}${other.device_owner ? `, owner ${other.device_owner}` : ''}: free that address or give this host another`);
      return createPort(c, {
        name: o.name, network_id: o.networkId, fixed_ips: [{ subnet_id: o.subnetId, ip_address: o.ip }], security_groups: o.securityGroups,
        ...(o.pairs?.length ? { allowed_address_pairs: o.pairs.map((ip_address) => ({ ip_address })) } : {}),
      });
    },
    setTags: (p, tags) => setTags(c, 'ports', p.id, tags),
    ...(o.approved ? { approved: o.approved } : {}),
  });
  if (!port.fixed_ips.some((f) => f.ip_address === o.ip)) {
    throw new CloudInventoryError(`${o.ipField}: port ${o.name} exists with ${port.fixed_ips.map((f) => f.ip_address).join(', ') || 'no address'}, not ${o.ip}: delete the port or fix the inventory`);
  }
  // Security groups and the VIP pair are state the cloud phase owns: bring an existing port in line.
  const pairsWanted = (o.pairs ?? []).filter((ip) => !port.allowed_address_pairs.some((p) => p.ip_address === ip));
  const sgMissing = o.securityGroups.some((id) => !port.security_groups.includes(id));
  if (pairsWanted.length || sgMissing) {
    return updatePort(c, port.id, {
      security_groups: [...new Set([...port.security_groups, ...o.securityGroups])],
      allowed_address_pairs: [...port.allowed_address_pairs, ...pairsWanted.map((ip_address) => ({ ip_address }))],
    });
  }
  return port;
}

export function createNetworkActivities(deps: OpenStackDeps) {
  return {
    async ensureNetwork(i: { target: CloudTarget; tag: string; network: CloudPlan['network']; approved?: readonly string[] }): Promise<Created> {
      return withCloud(`network ${i.network.name}`, i.target, deps, async (c) => {
        const r = await ensureByName({
          kind: 'network', name: i.network.name, tag: i.tag,
          find: () => listNetworks(c, { name: i.network.name }),
          create: () => createNetwork(c, { name: i.network.name, description: `Mooring cluster network (${i.tag})` }),
          setTags: (n, tags) => setTags(c, 'networks', n.id, tags),
          ...(i.approved ? { approved: i.approved } : {}),
        });
        return { id: r.resource.id, created: r.created };
      });
    },

    async ensureSubnet(i: { target: CloudTarget; tag: string; networkId: string; subnet: CloudPlan['subnet']; approved?: readonly string[] }): Promise<Created> {
      return withCloud(`subnet ${i.subnet.name}`, i.target, deps, async (c) => {
        const r = await ensureByName({
          kind: 'subnet', name: i.subnet.name, tag: i.tag,
          find: () => listSubnets(c, { name: i.subnet.name, network_id: i.networkId }),
          create: () => createSubnet(c, {
            name: i.subnet.name, network_id: i.networkId, ip_version: 4, cidr: i.subnet.cidr, gateway_ip: i.subnet.gatewayIp,
            allocation_pools: [i.subnet.allocationPool], enable_dhcp: true, ...(i.subnet.dnsNameservers.length ? { dns_nameservers: i.subnet.dnsNameservers } : {}),
          }),
          setTags: (s, tags) => setTags(c, 'subnets', s.id, tags),
          ...(i.approved ? { approved: i.approved } : {}),
        });
        if (r.resource.cidr !== i.subnet.cidr) throw new CloudInventoryError(`provider.openstack.network.cidr: subnet ${i.subnet.name} exists with ${r.resource.cidr}, not ${i.subnet.cidr}: fix the inventory or delete the subnet`);
        return { id: r.resource.id, created: r.created };
      });
    },

    async ensureRouter(i: { target: CloudTarget; tag: string; router: CloudPlan['router']; subnetId: string; approved?: readonly string[] }): Promise<Created & { externalNetworkId: string }> {
      return withCloud(`router ${i.router.name}`, i.target, deps, async (c) => {
        const ext = await externalNetworkId(c, i.router.externalNetwork, 'provider.openstack.floatingNetwork');
        const r = await ensureByName({
          kind: 'router', name: i.router.name, tag: i.tag,
          find: () => listRouters(c, { name: i.router.name }),
          create: () => createRouter(c, { name: i.router.name, external_gateway_info: { network_id: ext } }),
          setTags: (x, tags) => setTags(c, 'routers', x.id, tags),
          ...(i.approved ? { approved: i.approved } : {}),
        });
        if (r.resource.external_gateway_info?.network_id !== ext) await setRouterGateway(c, r.resource.id, ext);
        // Plugged in already? The router's interface port on the subnet says so.
        const ifaces = await listPorts(c, { device_id: r.resource.id });
        if (!ifaces.some((p) => p.fixed_ips.some((f) => f.subnet_id === i.subnetId))) await addRouterInterface(c, r.resource.id, i.subnetId);
        return { id: r.resource.id, created: r.created, externalNetworkId: ext };
      });
    },

    /** Every group first (rules name each other as remotes), then each missing rule. */
    async ensureSecurityGroups(i: { target: CloudTarget; tag: string; groups: CloudPlan['securityGroups']; approved?: readonly string[] }): Promise<{ ids: Record<string, string>; rulesCreated: number }> {
      return withCloud('security groups', i.target, deps, async (c) => {
        const ids: Record<string, string> = {};
        const existing: Record<string, SecurityGroupRule[]> = {};
        for (const g of i.groups) {
          const r = await ensureByName({
            kind: 'security group', name: g.name, tag: i.tag,
            find: () => listSecurityGroups(c, { name: g.name }),
            create: () => createSecurityGroup(c, { name: g.name, description: `Mooring ${g.role} hosts (${i.tag})` }),
            setTags: (x, tags) => setTags(c, 'security-groups', x.id, tags),
            ...(i.approved ? { approved: i.approved } : {}),
          });
          ids[g.role] = r.resource.id;
          existing[g.role] = r.resource.security_group_rules;
        }
        let rulesCreated = 0;
        for (const g of i.groups) {
          for (const rule of g.rules) {
            if (existing[g.role]!.some((e) => matches(e, rule, ids))) continue;
            const remote = 'role' in rule.from ? { remote_group_id: ids[rule.from.role]!, remote_ip_prefix: null } : { remote_group_id: null, remote_ip_prefix: rule.from.cidr };
            await createSecurityGroupRule(c, {
              security_group_id: ids[g.role]!, direction: 'ingress', ethertype: 'IPv4', protocol: PROTOCOL_NUMBER[rule.protocol],
              port_range_min: rule.ports?.[0] ?? null, port_range_max: rule.ports?.[1] ?? null, ...remote, description: rule.why,
            });
            rulesCreated += 1;
          }
        }
        return { ids, rulesCreated };
      });
    },

    /** The VIP: a port nobody boots on, holding the address so Neutron never hands it out. */
    async ensureVipPort(i: { target: CloudTarget; tag: string; vip: NonNullable<CloudPlan['vip']>; networkId: string; subnetId: string; securityGroupId: string; approved?: readonly string[] }): Promise<{ id: string }> {
      return withCloud(`VIP port ${i.vip.port}`, i.target, deps, async (c) => {
        const p = await ensurePortFor(c, { name: i.vip.port, ip: i.vip.ip, ipField: 'loadBalancer.vip', networkId: i.networkId, subnetId: i.subnetId, securityGroups: [i.securityGroupId], tag: i.tag, ...(i.approved ? { approved: i.approved } : {}) });
        return { id: p.id };
      });
    },

    /** A host's port with its inventory address; a VIP holder's port allows the VIP as well. */
    async ensureHostPort(i: { target: CloudTarget; tag: string; host: HostPlan; networkId: string; subnetId: string; securityGroupId: string; vipIp?: string; approved?: readonly string[] }): Promise<{ id: string; mac: string }> {
      return withCloud(`port ${i.host.port}`, i.target, deps, async (c) => {
        const p = await ensurePortFor(c, {
          name: i.host.port, ip: i.host.ip, ipField: i.host.ipField, networkId: i.networkId, subnetId: i.subnetId, securityGroups: [i.securityGroupId],
          ...(i.vipIp ? { pairs: [i.vipIp] } : {}), tag: i.tag, ...(i.approved ? { approved: i.approved } : {}),
        });
        return { id: p.id, mac: p.mac_address };
      });
    },

    /**
     * One floating IP per port: the port is the key, so a retry never allocates a second.
     * `portName` names it in the approved list (the check's "floating IP for <port>").
     */
    async ensureFloatingIp(i: { target: CloudTarget; tag: string; name: string; portId: string; externalNetworkId: string; portName?: string; approved?: readonly string[] }): Promise<{ id: string; address: string; created: boolean }> {
      return withCloud(`floating IP ${i.name}`, i.target, deps, async (c) => {
        const found = await listFloatingIps(c, { port_id: i.portId });
        let fip = found[0];
        const created = fip === undefined;
        if (created) assertMayCreate(i.approved, floatingIpKey(i.portName ?? i.name));
        fip ??= await createFloatingIp(c, { floating_network_id: i.externalNetworkId, port_id: i.portId, description: i.name });
        if (!(fip.tags ?? []).includes(i.tag)) await setTags(c, 'floatingips', fip.id, [...new Set([...(fip.tags ?? []), i.tag])]);
        return { id: fip.id, address: fip.floating_ip_address, created };
      });
    },
  };
}
