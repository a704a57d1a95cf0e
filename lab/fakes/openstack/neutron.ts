// SIMULATED: stand-in for OpenStack Neutron (Networking API v2.0): networks, subnets and routers
// (external gateway, add/remove_router_interface). Ports and floating IPs are in neutron-ports.ts,
// security groups in neutron-security.ts. The external network floating IPs come from is seeded,
// owned by another (admin) project, as a provider network is in a real cloud.
import { randomUUID } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { requireToken } from './keystone.js';
import { defaultGateway, defaultPools, inCidr, intToIp, ipToInt, isIPv4, overlaps, parseCidr } from '../ipam.js';
import { allocateIp, expect, filterList, nErr, NEUTRON, notFound, own, resourceBody, stamps, touch } from './neutron-common.js';
import { enforceNetworkQuota } from './quotas.js';
import { hexId, macAddress, type Network, type OpenStackState, type Port, type Subnet, type Router as OsRouter } from './state.js';

const ADMIN_PROJECT = hexId();

export function seedExternalNetwork(state: OpenStackState): void {
  const cidr = parseCidr(state.externalNetwork.cidr);
  if (!cidr) throw new Error(`externalNetwork.cidr: "${state.externalNetwork.cidr}" is not an IPv4 CIDR such as 203.0.113.0/24`);
  const subnetId = randomUUID();
  state.networks.set(state.externalNetworkId, {
    id: state.externalNetworkId, name: state.externalNetwork.name, description: '', ...stamps(ADMIN_PROJECT),
    admin_state_up: true, status: 'ACTIVE', subnets: [subnetId], shared: false, 'router:external': true, mtu: 1500, port_security_enabled: true, availability_zones: ['nova'],
  });
  const gw = defaultGateway(cidr);
  const pool = state.externalNetwork.allocationPool;
  if (pool && !(isIPv4(pool.start) && isIPv4(pool.end) && inCidr(pool.start, cidr) && inCidr(pool.end, cidr) && ipToInt(pool.start) <= ipToInt(pool.end))) {
    throw new Error(`externalNetwork.allocationPool: ${pool.start}-${pool.end} must be a range of ${state.externalNetwork.cidr}`);
  }
  state.subnets.set(subnetId, {
    id: subnetId, name: `${state.externalNetwork.name}-subnet`, description: '', ...stamps(ADMIN_PROJECT), network_id: state.externalNetworkId, ip_version: 4,
    cidr: state.externalNetwork.cidr, gateway_ip: gw, allocation_pools: pool ? [{ ...pool }] : defaultPools(cidr, gw), enable_dhcp: false, dns_nameservers: [], host_routes: [], subnetpool_id: null,
  });
}

/** Readable networks: the project's own, shared ones and external ones. */
export function visibleNetwork(state: OpenStackState, id: string, projectId: string): Network {
  const n = state.networks.get(id);
  if (!n || (n.project_id !== projectId && !n.shared && !n['router:external'])) throw notFound('Network', id);
  return n;
}

const NETWORK_CREATE = ['name', 'description', 'admin_state_up', 'port_security_enabled', 'mtu', 'project_id', 'tenant_id', 'availability_zone_hints', 'dns_domain', 'shared', 'router:external'];
const SUBNET_CREATE = ['network_id', 'ip_version', 'cidr', 'name', 'description', 'gateway_ip', 'allocation_pools', 'enable_dhcp', 'dns_nameservers', 'host_routes', 'project_id', 'tenant_id', 'subnetpool_id', 'prefixlen', 'ipv6_ra_mode', 'ipv6_address_mode', 'service_types', 'segment_id', 'use_default_subnetpool'];
const ROUTER_CREATE = ['name', 'description', 'admin_state_up', 'external_gateway_info', 'project_id', 'tenant_id', 'availability_zone_hints'];

function createNetwork(state: OpenStackState, projectId: string, req: FakeRequest): Network {
  const a = resourceBody(req, 'network', NETWORK_CREATE);
  for (const f of ['name', 'description']) expect(a, f, 'string');
  for (const f of ['admin_state_up', 'port_security_enabled']) expect(a, f, 'boolean');
  expect(a, 'mtu', 'integer');
  // Default policy: only an admin may create shared or external networks.
  if (a.shared === true || a['router:external'] === true) throw nErr(403, 'PolicyNotAuthorized', `(rule:create_network and rule:create_network:${a.shared === true ? 'shared' : 'router:external'}) is disallowed by policy`);
  enforceNetworkQuota(state, projectId, 'network');
  const n: Network = {
    id: randomUUID(), name: (a.name as string | undefined) ?? '', description: (a.description as string | undefined) ?? '', ...stamps(projectId),
    admin_state_up: (a.admin_state_up as boolean | undefined) ?? true, status: 'ACTIVE', subnets: [], shared: false, 'router:external': false,
    mtu: (a.mtu as number | undefined) ?? 1450, port_security_enabled: (a.port_security_enabled as boolean | undefined) ?? true, availability_zones: ['nova'],
  };
  state.networks.set(n.id, n);
  return n;
}

function createSubnet(state: OpenStackState, projectId: string, req: FakeRequest): Subnet {
  const a = resourceBody(req, 'subnet', SUBNET_CREATE, ['network_id', 'ip_version', 'cidr']);
  for (const f of ['name', 'description', 'cidr', 'network_id']) expect(a, f, 'string');
  expect(a, 'gateway_ip', 'string|null');
  expect(a, 'enable_dhcp', 'boolean');
  for (const f of ['allocation_pools', 'dns_nameservers', 'host_routes']) expect(a, f, 'array');
  if (a.ip_version !== 4 && a.ip_version !== 6) throw nErr(400, 'HTTPBadRequest', `Invalid input for ip_version. Reason: ${JSON.stringify(a.ip_version)} is not in [4, 6].`);
  if (a.ip_version === 6) throw nErr(400, 'HTTPBadRequest', 'SIMULATED: the Neutron fake implements IPv4 subnets only.');
  const network = visibleNetwork(state, a.network_id as string, projectId);
  enforceNetworkQuota(state, projectId, 'subnet');
  if (network.project_id !== projectId) throw nErr(403, 'HTTPForbidden', `Tenant ${projectId} not allowed to create subnet on this network`);
  const cidrText = a.cidr as string;
  const cidr = parseCidr(cidrText);
  if (!cidr) {
    const loose = parseCidr(cidrText, { strict: false });
    throw nErr(400, 'HTTPBadRequest', loose ? `Invalid input for cidr. Reason: '${cidrText}' isn't a recognized IP subnet cidr, '${intToIp(loose.base)}/${loose.prefix}' is recommended.` : `Invalid input for cidr. Reason: '${cidrText}' is not a valid IP subnet.`);
  }
  for (const sid of network.subnets) {
    const other = state.subnets.get(sid);
    const oc = other && parseCidr(other.cidr);
    if (oc && overlaps(oc, cidr)) throw nErr(400, 'InvalidInput', `Invalid input for operation: Requested subnet with cidr: ${cidrText} for network: ${network.id} overlaps with another subnet.`);
  }
  let gateway: string | null = defaultGateway(cidr);
  if (a.gateway_ip !== undefined) {
    gateway = a.gateway_ip as string | null;
    if (gateway !== null && (!isIPv4(gateway) || !inCidr(gateway, cidr))) throw nErr(400, 'InvalidInput', `Invalid input for operation: Gateway IP ${gateway} is not in subnet ${cidrText}.`);
  }
  let pools = defaultPools(cidr, gateway);
  if (a.allocation_pools !== undefined) {
    pools = (a.allocation_pools as unknown[]).map((p) => {
      const pool = p as { start?: unknown; end?: unknown };
      if (typeof pool.start !== 'string' || typeof pool.end !== 'string' || !isIPv4(pool.start) || !isIPv4(pool.end) || !inCidr(pool.start, cidr) || !inCidr(pool.end, cidr) || ipToInt(pool.start) > ipToInt(pool.end)) {
        throw nErr(400, 'InvalidAllocationPool', `The allocation pool ${JSON.stringify(p)} spans beyond the subnet cidr ${cidrText}.`);
      }
      if (gateway && ipToInt(gateway) >= ipToInt(pool.start) && ipToInt(gateway) <= ipToInt(pool.end)) {
        throw nErr(409, 'GatewayConflictWithAllocationPools', `Gateway ip ${gateway} conflicts with allocation pool ${pool.start}-${pool.end}.`);
      }
      return { start: pool.start, end: pool.end };
    });
  }
  const dns = (a.dns_nameservers as unknown[] | undefined) ?? [];
  for (const d of dns) if (typeof d !== 'string' || !isIPv4(d)) throw nErr(400, 'HTTPBadRequest', `Invalid input for dns_nameservers. Reason: '${String(d)}' is not a valid nameserver.`);
  const s: Subnet = {
    id: randomUUID(), name: (a.name as string | undefined) ?? '', description: (a.description as string | undefined) ?? '', ...stamps(projectId), network_id: network.id, ip_version: 4,
    cidr: cidrText, gateway_ip: gateway, allocation_pools: pools, enable_dhcp: (a.enable_dhcp as boolean | undefined) ?? true, dns_nameservers: dns as string[],
    host_routes: (a.host_routes as Subnet['host_routes'] | undefined) ?? [], subnetpool_id: null,
  };
  state.subnets.set(s.id, s);
  network.subnets.push(s.id);
  touch(network);
  // Neutron's DHCP agent takes the first pool address, so the client's first port gets the next one.
  if (s.enable_dhcp) addSystemPort(state, network, s, 'network:dhcp', `dhcp${randomUUID()}-${network.id}`);
  return s;
}

function addSystemPort(state: OpenStackState, network: Network, subnet: Subnet, owner: string, deviceId: string, ip?: string): Port {
  const p: Port = {
    id: randomUUID(), name: '', description: '', ...stamps(network.project_id), network_id: network.id, admin_state_up: true, status: 'ACTIVE', mac_address: macAddress(),
    fixed_ips: [{ subnet_id: subnet.id, ip_address: allocateIp(state, subnet, ip) }], device_id: deviceId, device_owner: owner, security_groups: [],
    allowed_address_pairs: [], port_security_enabled: false, 'binding:vnic_type': 'normal',
  };
  state.ports.set(p.id, p);
  return p;
}

function externalGateway(state: OpenStackState, router: OsRouter, info: unknown): OsRouter['external_gateway_info'] {
  if (info === null || info === undefined) {
    const inUse = [...state.floatingIps.values()].some((f) => f.router_id === router.id);
    if (inUse) throw nErr(409, 'RouterExternalGatewayInUseByFloatingIp', `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${router.external_gateway_info?.network_id ?? ''} is required by one or more floating IPs.`);
    return null;
  }
  if (typeof info !== 'object' || Array.isArray(info)) throw nErr(400, 'HTTPBadRequest', 'Invalid input for external_gateway_info. Reason: not a dictionary.');
  const g = info as Record<string, unknown>;
  const unknown = Object.keys(g).filter((k) => !['network_id', 'enable_snat', 'external_fixed_ips'].includes(k));
  if (unknown.length) throw nErr(400, 'HTTPBadRequest', `Invalid input for external_gateway_info. Reason: Unexpected keys supplied: ${unknown.join(', ')}.`);
  if (typeof g.network_id !== 'string') throw nErr(400, 'HTTPBadRequest', 'Invalid input for external_gateway_info. Reason: network_id is required.');
  const net = state.networks.get(g.network_id);
  if (!net) throw notFound('Network', g.network_id);
  if (!net['router:external']) throw nErr(400, 'BadRequest', `Bad router request: Network ${net.id} is not an external network.`);
  if (router.external_gateway_info?.network_id === net.id) return { ...router.external_gateway_info, enable_snat: (g.enable_snat as boolean | undefined) ?? router.external_gateway_info.enable_snat };
  const subnet = state.subnets.get(net.subnets[0] ?? '');
  if (!subnet) throw nErr(400, 'BadRequest', `Bad router request: No subnets on external network ${net.id}.`);
  return { network_id: net.id, enable_snat: (g.enable_snat as boolean | undefined) ?? true, external_fixed_ips: [{ subnet_id: subnet.id, ip_address: allocateIp(state, subnet) }] };
}

function interfaceBody(req: FakeRequest): { subnet_id?: string; port_id?: string } {
  const b = req.body as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null) throw nErr(400, 'HTTPBadRequest', 'Resource body required');
  const hasSubnet = typeof b.subnet_id === 'string';
  const hasPort = typeof b.port_id === 'string';
  if (hasSubnet === hasPort) throw nErr(400, 'BadRequest', 'Bad router request: Either subnet_id or port_id must be specified.');
  return hasSubnet ? { subnet_id: b.subnet_id as string } : { port_id: b.port_id as string };
}

function interfaceInfo(router: OsRouter, port: Port): unknown {
  const subnetIds = port.fixed_ips.map((f) => f.subnet_id);
  return { id: router.id, tenant_id: router.project_id, project_id: router.project_id, subnet_id: subnetIds[0], subnet_ids: subnetIds, port_id: port.id, network_id: port.network_id };
}

function addInterface(state: OpenStackState, router: OsRouter, req: FakeRequest, projectId: string): unknown {
  const b = interfaceBody(req);
  const existing = [...state.ports.values()].filter((p) => p.device_id === router.id && p.device_owner === 'network:router_interface');
  if (b.port_id) {
    const port = own(state.ports, b.port_id, 'Port', projectId);
    if (port.device_id) throw nErr(409, 'PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
    port.device_id = router.id;
    port.device_owner = 'network:router_interface';
    port.status = 'ACTIVE';
    touch(port);
    return interfaceInfo(router, port);
  }
  const subnet = own(state.subnets, b.subnet_id as string, 'Subnet', projectId);
  if (existing.some((p) => p.fixed_ips.some((f) => f.subnet_id === subnet.id))) throw nErr(400, 'BadRequest', `Bad router request: Router already has a port on subnet ${subnet.id}.`);
  if (!subnet.gateway_ip) throw nErr(400, 'BadRequest', `Bad router request: Subnet ${subnet.id} does not have a gateway IP.`);
  const network = state.networks.get(subnet.network_id) as Network;
  const port = addSystemPort(state, network, subnet, 'network:router_interface', router.id, subnet.gateway_ip);
  touch(router);
  return interfaceInfo(router, port);
}

function removeInterface(state: OpenStackState, router: OsRouter, req: FakeRequest): unknown {
  const b = interfaceBody(req);
  const port = [...state.ports.values()].find((p) => p.device_id === router.id && p.device_owner === 'network:router_interface' && (b.port_id ? p.id === b.port_id : p.fixed_ips.some((f) => f.subnet_id === b.subnet_id)));
  if (!port) throw b.port_id ? nErr(404, 'RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${b.port_id}`) : nErr(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${b.subnet_id ?? ''}`);
  const subnetIds = new Set(port.fixed_ips.map((f) => f.subnet_id));
  for (const f of state.floatingIps.values()) {
    const target = f.port_id ? state.ports.get(f.port_id) : undefined;
    if (f.router_id === router.id && target?.fixed_ips.some((x) => subnetIds.has(x.subnet_id))) {
      throw nErr(409, 'RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${[...subnetIds].join(',')} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`);
    }
  }
  const info = interfaceInfo(router, port);
  state.ports.delete(port.id);
  touch(router);
  return info;
}

export function neutronNetworkRoutes(state: OpenStackState): Router {
  const auth = (req: FakeRequest) => requireToken(state, req, 'network').projectId;
  const visibleNetworks = (p: string) => [...state.networks.values()].filter((n) => n.project_id === p || n.shared || n['router:external']);
  return new Router()
    .on('GET', '/network', () => ({ status: 200, body: { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${state.baseUrl}/network/v2.0/` }] }] } }))
    .on('GET', `${NEUTRON}/networks`, (req) => ({ status: 200, body: { networks: filterList(visibleNetworks(auth(req)), req.query, ['id', 'name', 'status', 'shared', 'router:external', 'admin_state_up', 'project_id', 'tenant_id', 'mtu', 'description']) } }))
    .on('POST', `${NEUTRON}/networks`, (req) => ({ status: 201, body: { network: createNetwork(state, auth(req), req) } }))
    .on('GET', `${NEUTRON}/networks/:id`, (req) => ({ status: 200, body: { network: visibleNetwork(state, req.params.id as string, auth(req)) } }))
    .on('PUT', `${NEUTRON}/networks/:id`, (req) => {
      const n = own(state.networks, req.params.id as string, 'Network', auth(req));
      const a = resourceBody(req, 'network', ['name', 'description', 'admin_state_up', 'mtu', 'port_security_enabled']);
      for (const f of ['name', 'description']) expect(a, f, 'string');
      Object.assign(n, a);
      touch(n);
      return { status: 200, body: { network: n } };
    })
    .on('DELETE', `${NEUTRON}/networks/:id`, (req) => {
      const n = own(state.networks, req.params.id as string, 'Network', auth(req));
      const blocking = [...state.ports.values()].filter((p) => p.network_id === n.id && p.device_owner !== 'network:dhcp');
      if (blocking.length) throw nErr(409, 'NetworkInUse', `Unable to complete operation on network ${n.id}. There are one or more ports still in use on the network.`);
      for (const p of [...state.ports.values()]) if (p.network_id === n.id) state.ports.delete(p.id);
      for (const s of n.subnets) state.subnets.delete(s);
      state.networks.delete(n.id);
      return { status: 204 };
    })
    .on('GET', `${NEUTRON}/subnets`, (req) => {
      const p = auth(req);
      const nets = new Set(visibleNetworks(p).map((n) => n.id));
      return { status: 200, body: { subnets: filterList([...state.subnets.values()].filter((s) => nets.has(s.network_id)), req.query, ['id', 'name', 'network_id', 'cidr', 'ip_version', 'gateway_ip', 'enable_dhcp', 'project_id', 'tenant_id']) } };
    })
    .on('POST', `${NEUTRON}/subnets`, (req) => ({ status: 201, body: { subnet: createSubnet(state, auth(req), req) } }))
    .on('GET', `${NEUTRON}/subnets/:id`, (req) => {
      const s = state.subnets.get(req.params.id as string);
      if (!s) throw notFound('Subnet', req.params.id as string);
      visibleNetwork(state, s.network_id, auth(req));
      return { status: 200, body: { subnet: s } };
    })
    .on('PUT', `${NEUTRON}/subnets/:id`, (req) => {
      const s = own(state.subnets, req.params.id as string, 'Subnet', auth(req));
      const a = resourceBody(req, 'subnet', ['name', 'description', 'dns_nameservers', 'host_routes']);
      for (const f of ['name', 'description']) expect(a, f, 'string');
      Object.assign(s, a);
      touch(s);
      return { status: 200, body: { subnet: s } };
    })
    .on('DELETE', `${NEUTRON}/subnets/:id`, (req) => {
      const s = own(state.subnets, req.params.id as string, 'Subnet', auth(req));
      const users = [...state.ports.values()].filter((p) => p.device_owner !== 'network:dhcp' && p.fixed_ips.some((f) => f.subnet_id === s.id));
      if (users.length) throw nErr(409, 'SubnetInUse', `Unable to complete operation on subnet ${s.id}: One or more ports have an IP allocation from this subnet.`);
      for (const p of [...state.ports.values()]) if (p.device_owner === 'network:dhcp' && p.fixed_ips.some((f) => f.subnet_id === s.id)) state.ports.delete(p.id);
      const n = state.networks.get(s.network_id);
      if (n) n.subnets = n.subnets.filter((x) => x !== s.id);
      state.subnets.delete(s.id);
      return { status: 204 };
    })
    .on('GET', `${NEUTRON}/routers`, (req) => {
      const p = auth(req);
      return { status: 200, body: { routers: filterList([...state.routers.values()].filter((r) => r.project_id === p), req.query, ['id', 'name', 'status', 'admin_state_up', 'project_id', 'tenant_id', 'description']) } };
    })
    .on('POST', `${NEUTRON}/routers`, (req) => {
      const projectId = auth(req);
      const a = resourceBody(req, 'router', ROUTER_CREATE);
      enforceNetworkQuota(state, projectId, 'router');
      for (const f of ['name', 'description']) expect(a, f, 'string');
      const r: OsRouter = { id: randomUUID(), name: (a.name as string | undefined) ?? '', description: (a.description as string | undefined) ?? '', ...stamps(projectId), admin_state_up: (a.admin_state_up as boolean | undefined) ?? true, status: 'ACTIVE', external_gateway_info: null, routes: [] };
      r.external_gateway_info = externalGateway(state, r, a.external_gateway_info);
      state.routers.set(r.id, r);
      return { status: 201, body: { router: r } };
    })
    .on('GET', `${NEUTRON}/routers/:id`, (req) => ({ status: 200, body: { router: own(state.routers, req.params.id as string, 'Router', auth(req)) } }))
    .on('PUT', `${NEUTRON}/routers/:id`, (req) => {
      const r = own(state.routers, req.params.id as string, 'Router', auth(req));
      const a = resourceBody(req, 'router', ['name', 'description', 'admin_state_up', 'external_gateway_info', 'routes']);
      for (const f of ['name', 'description']) expect(a, f, 'string');
      if ('external_gateway_info' in a) r.external_gateway_info = externalGateway(state, r, a.external_gateway_info);
      for (const f of ['name', 'description', 'admin_state_up', 'routes'] as const) if (a[f] !== undefined) Object.assign(r, { [f]: a[f] });
      touch(r);
      return { status: 200, body: { router: r } };
    })
    .on('DELETE', `${NEUTRON}/routers/:id`, (req) => {
      const r = own(state.routers, req.params.id as string, 'Router', auth(req));
      if ([...state.ports.values()].some((p) => p.device_id === r.id)) throw nErr(409, 'RouterInUse', `Router ${r.id} still has ports`);
      if ([...state.floatingIps.values()].some((f) => f.router_id === r.id)) throw nErr(409, 'RouterInUse', `Router ${r.id} still has floating IPs associated through it`);
      state.routers.delete(r.id);
      return { status: 204 };
    })
    .on('PUT', `${NEUTRON}/routers/:id/add_router_interface`, (req) => {
      const p = auth(req);
      return { status: 200, body: addInterface(state, own(state.routers, req.params.id as string, 'Router', p), req, p) };
    })
    .on('PUT', `${NEUTRON}/routers/:id/remove_router_interface`, (req) => ({ status: 200, body: removeInterface(state, own(state.routers, req.params.id as string, 'Router', auth(req)), req) }));
}
