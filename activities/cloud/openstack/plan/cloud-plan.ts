// What the cloud phase will make for an inventory, as data: every resource with its name, and
// the security group table. Pure, so a workflow computes it, shows it (`--plan`) and hands each
// piece to the activity that ensures it.
import type { Inventory } from '../../../../config/schema.js';
import { cidrRange, ipv4ToInt } from '../../../../config/net.js';
import { clusterTag, resourceNames, type Role } from './names.js';
import { portTable, describeRule, type GroupSpec } from './port-table.js';

export interface HostPlan { name: string; role: Role; ip: string; /** The inventory field of its address, for errors. */ ipField: string; server: string; port: string; flavor: string; flavorField: string; securityGroup: string; serverGroup: string; floatingIp?: string }

export interface CloudPlan {
  cluster: string;
  tag: string;
  cloud?: string;
  region: string;
  network: { name: string; cidr: string };
  subnet: { name: string; cidr: string; gatewayIp: string; allocationPool: { start: string; end: string }; dnsNameservers: string[] };
  router: { name: string; externalNetwork: string };
  securityGroups: (GroupSpec & { name: string })[];
  serverGroups: { role: Role; name: string; policy: 'anti-affinity' | 'soft-anti-affinity' }[];
  keypair: { name: string; publicKey?: string };
  image: string;
  vip?: { port: string; ip: string; floatingIp?: string; allowedOn: string[] };
  hosts: HostPlan[];
}

const intToIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/**
 * The subnet's allocation pool: the longest run of addresses that no host, VIP or gateway holds,
 * so Neutron's own ports (DHCP, router interface, a floating IP's internal side) never take an
 * address the inventory gives to something else.
 */
export function allocationPool(cidr: string, reserved: string[]): { start: string; end: string } {
  const [first, last] = cidrRange(cidr);
  const taken = [...new Set(reserved.map(ipv4ToInt).filter((n) => n > first && n < last))].sort((a, b) => a - b);
  let best: [number, number] = [0, -1];
  let from = first + 1;
  for (const t of [...taken, last]) {
    if (t - 1 - from > best[1] - best[0]) best = [from, t - 1];
    from = t + 1;
  }
  if (best[1] < best[0]) throw new Error(`provider.openstack.network.cidr ${cidr} has no free address left for Neutron's own ports: use a larger network`);
  return { start: intToIp(best[0]), end: intToIp(best[1]) };
}

export function planCloud(inv: Inventory): CloudPlan {
  if (inv.provider.type !== 'openstack') throw new Error(`provider.type is ${inv.provider.type}: the OpenStack cloud phase needs provider.type openstack`);
  const os = inv.provider.openstack;
  const cluster = inv.cluster.name;
  const n = resourceNames(cluster);
  const table = portTable(inv);
  const flavorOf = (role: Role): [string, string] => {
    if (role === 'gateway') return [os.flavors.gateway ?? os.flavors.master, os.flavors.gateway ? 'provider.openstack.flavors.gateway' : 'provider.openstack.flavors.master'];
    if (role === 'etcd') return [os.flavors.etcd ?? os.flavors.master, os.flavors.etcd ? 'provider.openstack.flavors.etcd' : 'provider.openstack.flavors.master'];
    return [os.flavors[role], `provider.openstack.flavors.${role}`];
  };
  const members: [Role, string, { name: string; ip: string }[]][] = [['gateway', 'gateways', inv.gateways], ['etcd', 'etcd.members', inv.etcd.topology === 'external' ? inv.etcd.members : []], ['master', 'masters', inv.masters], ['worker', 'workers', inv.workers]];
  const hosts: HostPlan[] = members.flatMap(([role, field, list]) => list.map((h, i) => {
    const [flavor, flavorField] = flavorOf(role);
    return {
      name: h.name, role, ip: h.ip, ipField: `${field}[${i}].ip`, server: n.server(h.name), port: n.port(h.name), flavor, flavorField, securityGroup: n.securityGroup(role), serverGroup: n.serverGroup(role),
      ...(role === 'gateway' && os.floatingIps === 'gateways' ? { floatingIp: n.floatingIp(h.name) } : {}),
    };
  }));
  const gatewayIp = intToIp(cidrRange(os.network.cidr)[0] + 1);
  const vipHolders = hosts.filter((h) => h.role === (inv.loadBalancer.placement === 'gateways' ? 'gateway' : 'master'));
  return {
    cluster, tag: clusterTag(cluster), ...(os.cloud ? { cloud: os.cloud } : {}), region: os.region,
    network: { name: n.network(os.network.name), cidr: os.network.cidr },
    subnet: { name: n.subnet(os.network.name), cidr: os.network.cidr, gatewayIp, allocationPool: allocationPool(os.network.cidr, [gatewayIp, inv.loadBalancer.vip, ...hosts.map((h) => h.ip)]), dnsNameservers: os.dnsNameservers },
    router: { name: n.router, externalNetwork: os.floatingNetwork },
    securityGroups: table.map((g) => ({ ...g, name: n.securityGroup(g.role) })),
    serverGroups: table.map((g) => ({ role: g.role, name: n.serverGroup(g.role), policy: os.serverGroupPolicy })),
    keypair: { name: os.keyName ?? n.keypair, ...(os.publicKey ? { publicKey: os.publicKey } : {}) },
    image: os.image,
    vip: { port: n.vipPort, ip: inv.loadBalancer.vip, allowedOn: vipHolders.map((h) => h.port), ...(os.floatingIps === 'vip' ? { floatingIp: n.floatingIp('vip') } : {}) },
    hosts,
  };
}

/** Counts per kind of resource, for the plan and the quota check. */
export function planCounts(p: CloudPlan): Record<string, number> {
  return {
    networks: 1, subnets: 1, routers: 1, security_groups: p.securityGroups.length,
    security_group_rules: p.securityGroups.reduce((a, g) => a + g.rules.length, 0),
    ports: p.hosts.length + (p.vip ? 1 : 0), floating_ips: p.hosts.filter((h) => h.floatingIp).length + (p.vip?.floatingIp ? 1 : 0),
    server_groups: p.serverGroups.length, instances: p.hosts.length, key_pairs: p.keypair.publicKey ? 1 : 0,
  };
}

/** The plan as lines for the CLI's --plan and the workflow's details. */
export function planLines(p: CloudPlan): string[] {
  const out = [
    `cloud ${p.cloud ?? '(OS_* variables)'} region ${p.region}; every resource tagged ${p.tag}`,
    `network ${p.network.name} ${p.network.cidr}; subnet ${p.subnet.name} (gateway ${p.subnet.gatewayIp}, pool ${p.subnet.allocationPool.start}-${p.subnet.allocationPool.end})`,
    `router ${p.router.name} with external gateway on ${p.router.externalNetwork}`,
  ];
  for (const g of p.securityGroups) {
    out.push(`security group ${g.name} (${g.rules.length} ingress rules)`);
    for (const r of g.rules) out.push(`  ${describeRule(r)}`);
  }
  for (const g of p.serverGroups) out.push(`server group ${g.name} (${g.policy})`);
  out.push(p.keypair.publicKey ? `key pair ${p.keypair.name} (imported)` : `key pair ${p.keypair.name} (must exist)`);
  if (p.vip) out.push(`port ${p.vip.port} reserves VIP ${p.vip.ip}, allowed on ${p.vip.allowedOn.join(', ')}${p.vip.floatingIp ? `; floating IP ${p.vip.floatingIp}` : ''}`);
  for (const h of p.hosts) out.push(`server ${h.server} (${h.role}) ${h.flavor} image ${p.image}, port ${h.port} ${h.ip}, group ${h.serverGroup}${h.floatingIp ? `, floating IP ${h.floatingIp}` : ''}`);
  out.push(`counts: ${Object.entries(planCounts(p)).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return out;
}
