// SIMULATED: stand-in for Neutron ports and floating IPs (Networking API v2.0). The keepalived VIP
// lives here: an unbound port holds the VIP address, each gateway's port lists it in
// allowed_address_pairs, and a floating IP points at the VIP port. So the fake checks what Neutron
// checks: addresses free and inside the subnet, pairs well formed and not the port's own address,
// port security on, and a router from the port's subnet to the external network for a floating IP.
import { randomUUID } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { requireToken } from './keystone.js';
import { inCidr, intToIp, ipToInt, isIPv4, parseCidr } from '../ipam.js';
import { allocateIp, expect, filterList, nErr, NEUTRON, notFound, own, resourceBody, stamps, touch, usedIps } from './neutron-common.js';
import { visibleNetwork } from './neutron.js';
import { defaultSecurityGroupId } from './neutron-security.js';
import { macAddress, type FixedIp, type FloatingIp, type OpenStackState, type Port, type Subnet } from './state.js';
import { Progression } from '../progress.js';
import { enforceNetworkQuota } from './quotas.js';

const PORT_CREATE = ['network_id', 'name', 'description', 'admin_state_up', 'mac_address', 'fixed_ips', 'device_id', 'device_owner', 'security_groups', 'allowed_address_pairs', 'port_security_enabled', 'project_id', 'tenant_id', 'binding:vnic_type', 'dns_name'];
const PORT_UPDATE = ['name', 'description', 'admin_state_up', 'fixed_ips', 'device_id', 'device_owner', 'security_groups', 'allowed_address_pairs', 'port_security_enabled', 'dns_name'];
const FIP_CREATE = ['floating_network_id', 'port_id', 'fixed_ip_address', 'floating_ip_address', 'description', 'project_id', 'tenant_id', 'subnet_id', 'dns_name', 'dns_domain'];
const MAX_PAIRS = 10; // Neutron's default max_allowed_address_pair

function fixedIps(state: OpenStackState, networkId: string, requested: unknown, keep: FixedIp[] = []): FixedIp[] {
  const network = state.networks.get(networkId);
  const subnets = (network?.subnets ?? []).map((id) => state.subnets.get(id)).filter((s) => s !== undefined);
  if (requested === undefined) {
    const first = subnets[0];
    return first ? [{ subnet_id: first.id, ip_address: allocateIp(state, first) }] : [];
  }
  if (!Array.isArray(requested)) throw nErr(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(requested)}'.`);
  const out: FixedIp[] = [];
  for (const r of requested as unknown[]) {
    const f = r as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || Object.keys(f).some((k) => k !== 'subnet_id' && k !== 'ip_address')) throw nErr(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${JSON.stringify(r)}'.`);
    const ip = f.ip_address as string | undefined;
    if (ip !== undefined && (typeof ip !== 'string' || !isIPv4(ip))) throw nErr(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: '${String(ip)}' is not a valid IP address.`);
    let subnet = typeof f.subnet_id === 'string' ? subnets.find((s) => s.id === f.subnet_id) : undefined;
    if (typeof f.subnet_id === 'string' && !subnet) throw nErr(400, 'InvalidInput', `Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${f.subnet_id}.`);
    if (!subnet && ip) subnet = subnets.find((s) => { const c = parseCidr(s.cidr); return c !== undefined && inCidr(ip, c); });
    if (!subnet) throw nErr(400, 'InvalidIpForNetwork', `IP address ${ip ?? ''} is not a valid IP for any of the subnets on the specified network.`);
    const kept = keep.find((k) => k.subnet_id === subnet.id && (ip === undefined || k.ip_address === ip));
    out.push(kept ?? { subnet_id: subnet.id, ip_address: allocateIp(state, subnet, ip) });
  }
  return out;
}

function addressPairs(value: unknown, port: { mac_address: string; fixed_ips: FixedIp[]; port_security_enabled: boolean }): Port['allowed_address_pairs'] {
  if (!Array.isArray(value)) throw nErr(400, 'HTTPBadRequest', 'Invalid input for allowed_address_pairs. Reason: not a list.');
  if (value.length > MAX_PAIRS) throw nErr(400, 'AllowedAddressPairExhausted', `The number of allowed address pair exceeds the maximum ${MAX_PAIRS}.`);
  if (value.length && !port.port_security_enabled) throw nErr(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  const seen = new Set<string>();
  return value.map((raw: unknown) => {
    const p = raw as Record<string, unknown>;
    if (typeof p !== 'object' || p === null) throw nErr(400, 'HTTPBadRequest', `Invalid input for allowed_address_pairs. Reason: '${JSON.stringify(raw)}' is not a dictionary.`);
    const extra = Object.keys(p).filter((k) => k !== 'ip_address' && k !== 'mac_address');
    if (extra.length) throw nErr(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${extra.join(', ')}'`);
    if (p.ip_address === undefined) throw nErr(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const ip = p.ip_address;
    if (typeof ip !== 'string' || !(isIPv4(ip) || parseCidr(ip, { strict: false }))) throw nErr(400, 'HTTPBadRequest', `Invalid input for operation: '${String(ip)}' is not a valid IP address.`);
    const mac = p.mac_address ?? port.mac_address;
    if (typeof mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw nErr(400, 'HTTPBadRequest', `Invalid input for mac_address. Reason: '${String(mac)}' is not a valid MAC address.`);
    const key = `${ip}|${mac.toLowerCase()}`;
    if (seen.has(key)) throw nErr(400, 'DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${mac} ip_address ${ip}.`);
    seen.add(key);
    if (mac.toLowerCase() === port.mac_address && port.fixed_ips.some((f) => f.ip_address === ip)) throw nErr(400, 'AddressPairMatchesPortFixedIPAndMac', "Port's Fixed IP and Mac Address match an address pair entry.");
    return { ip_address: ip, mac_address: mac.toLowerCase() };
  });
}

function securityGroups(state: OpenStackState, projectId: string, value: unknown, portSecurity: boolean): string[] {
  if (value === undefined) {
    const d = defaultSecurityGroupId(state, projectId);
    return portSecurity && d ? [d] : [];
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw nErr(400, 'HTTPBadRequest', 'Invalid input for security_groups. Reason: not a list of security group ids.');
  for (const id of value as string[]) own(state.securityGroups, id, 'Security group', projectId);
  if (value.length && !portSecurity) throw nErr(409, 'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
  return [...new Set(value as string[])];
}

/** Also used by Nova for `networks: [{"uuid": ...}]`, where Nova creates the port itself. */
export function createPort(state: OpenStackState, projectId: string, a: Record<string, unknown>): Port {
  for (const f of ['network_id', 'name', 'description', 'device_id', 'device_owner', 'mac_address']) expect(a, f, 'string');
  for (const f of ['admin_state_up', 'port_security_enabled']) expect(a, f, 'boolean');
  const network = visibleNetwork(state, a.network_id as string, projectId);
  if (network.project_id !== projectId && !network.shared) throw nErr(403, 'PolicyNotAuthorized', 'rule:create_port is disallowed by policy');
  enforceNetworkQuota(state, projectId, 'port');
  const mac = ((a.mac_address as string | undefined) ?? macAddress()).toLowerCase();
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) throw nErr(400, 'HTTPBadRequest', `Invalid input for mac_address. Reason: '${mac}' is not a valid MAC address.`);
  if ([...state.ports.values()].some((p) => p.network_id === network.id && p.mac_address === mac)) throw nErr(409, 'MacAddressInUse', `Unable to complete operation for network ${network.id}. The mac address ${mac} is in use.`);
  const portSecurity = (a.port_security_enabled as boolean | undefined) ?? network.port_security_enabled;
  const sgs = securityGroups(state, projectId, a.security_groups, portSecurity);
  const ips = fixedIps(state, network.id, a.fixed_ips);
  const pairs = a.allowed_address_pairs === undefined ? [] : addressPairs(a.allowed_address_pairs, { mac_address: mac, fixed_ips: ips, port_security_enabled: portSecurity });
  const port: Port = {
    id: randomUUID(), name: (a.name as string | undefined) ?? '', description: (a.description as string | undefined) ?? '', ...stamps(projectId), network_id: network.id,
    admin_state_up: (a.admin_state_up as boolean | undefined) ?? true, status: 'DOWN', mac_address: mac, fixed_ips: ips, device_id: (a.device_id as string | undefined) ?? '',
    device_owner: (a.device_owner as string | undefined) ?? '', security_groups: sgs, allowed_address_pairs: pairs, port_security_enabled: portSecurity, 'binding:vnic_type': 'normal',
  };
  state.ports.set(port.id, port);
  return port;
}

function updatePort(state: OpenStackState, port: Port, projectId: string, a: Record<string, unknown>): void {
  for (const f of ['name', 'description', 'device_id', 'device_owner']) expect(a, f, 'string');
  for (const f of ['admin_state_up', 'port_security_enabled']) expect(a, f, 'boolean');
  const portSecurity = (a.port_security_enabled as boolean | undefined) ?? port.port_security_enabled;
  if (a.fixed_ips !== undefined) port.fixed_ips = fixedIps(state, port.network_id, a.fixed_ips, port.fixed_ips);
  const sgs = a.security_groups !== undefined ? securityGroups(state, projectId, a.security_groups, portSecurity) : port.security_groups;
  if (!portSecurity && sgs.length) throw nErr(409, 'PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
  const pairs = a.allowed_address_pairs !== undefined ? addressPairs(a.allowed_address_pairs, { ...port, port_security_enabled: portSecurity }) : port.allowed_address_pairs;
  if (!portSecurity && pairs.length) throw nErr(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  Object.assign(port, { security_groups: sgs, allowed_address_pairs: pairs, port_security_enabled: portSecurity });
  for (const f of ['name', 'description', 'admin_state_up', 'device_id', 'device_owner'] as const) if (a[f] !== undefined) Object.assign(port, { [f]: a[f] });
  touch(port);
}

/** Deleting a port disassociates its floating IPs, as Neutron does. */
export function deletePort(state: OpenStackState, port: Port): void {
  for (const f of state.floatingIps.values()) if (f.port_id === port.id) associate(state, f, null);
  for (const s of state.servers.values()) s.portIds = s.portIds.filter((p) => p !== port.id);
  state.ports.delete(port.id);
}

function fipStatus(state: OpenStackState): void {
  for (const f of state.floatingIps.values()) if (f.activation?.done) { f.status = 'ACTIVE'; delete f.activation; }
}

/** Points a floating IP at a port (or nowhere); the port's subnet must reach the external network. */
function associate(state: OpenStackState, fip: FloatingIp, portId: string | null, fixedIp?: unknown): void {
  if (portId === null) {
    Object.assign(fip, { port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN' });
    delete fip.activation;
    touch(fip);
    return;
  }
  const port = own(state.ports, portId, 'Port', fip.project_id);
  const v4 = port.fixed_ips.filter((f) => isIPv4(f.ip_address));
  let chosen: FixedIp | undefined;
  if (fixedIp !== undefined) {
    chosen = v4.find((f) => f.ip_address === fixedIp);
    if (!chosen) throw nErr(400, 'BadRequest', `Bad floatingip request: Port ${port.id} does not have fixed ip ${String(fixedIp)}.`);
  } else {
    if (v4.length > 1) throw nErr(400, 'BadRequest', `Bad floatingip request: Port ${port.id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP.`);
    chosen = v4[0];
    if (!chosen) throw nErr(400, 'BadRequest', `Bad floatingip request: Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses.`);
  }
  const router = [...state.routers.values()].find((r) => r.external_gateway_info?.network_id === fip.floating_network_id
    && [...state.ports.values()].some((p) => p.device_id === r.id && p.device_owner === 'network:router_interface' && p.fixed_ips.some((x) => x.subnet_id === chosen.subnet_id)));
  if (!router) throw nErr(404, 'ExternalGatewayForFloatingIPNotFound', `External network ${fip.floating_network_id} is not reachable from subnet ${chosen.subnet_id}. Therefore, cannot associate Port ${port.id} with a Floating IP.`);
  const taken = [...state.floatingIps.values()].find((o) => o.id !== fip.id && o.port_id === port.id && o.fixed_ip_address === chosen.ip_address);
  if (taken) throw nErr(409, 'FloatingIPPortAlreadyAssociated', `Cannot associate floating IP ${fip.floating_ip_address} (${fip.id}) with port ${port.id} using fixed IP ${chosen.ip_address}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`);
  Object.assign(fip, { port_id: port.id, fixed_ip_address: chosen.ip_address, router_id: router.id, status: 'DOWN' });
  // The L3 agent wires the NAT a moment later; clients poll for ACTIVE.
  fip.activation = new Progression(state.timing.floatingIp);
  touch(fip);
}

/**
 * SIMULATED lab address plan (`externalNetwork.hostPartFromFixedIp`): the external address with
 * the host part of the port's fixed IP, when it is free and not the subnet's gateway; otherwise
 * undefined (the pool decides, as Neutron does).
 */
function labFloatingAddress(state: OpenStackState, external: Subnet, portId: unknown): string | undefined {
  if (!state.externalNetwork.hostPartFromFixedIp || typeof portId !== 'string') return undefined;
  const fixed = state.ports.get(portId)?.fixed_ips.find((f) => isIPv4(f.ip_address))?.ip_address;
  const cidr = parseCidr(external.cidr);
  if (!fixed || !cidr) return undefined;
  const candidate = intToIp(cidr.base + (ipToInt(fixed) % cidr.size));
  return usedIps(state, external).has(candidate) || candidate === external.gateway_ip || candidate === intToIp(cidr.base) ? undefined : candidate;
}

function renderFip(state: OpenStackState, f: FloatingIp, observed: boolean): unknown {
  if (observed && f.activation?.observe()) { f.status = 'ACTIVE'; delete f.activation; }
  const rest: Partial<FloatingIp> = { ...f };
  delete rest.activation; // internal: the L3 agent's pending work, not an API attribute
  const p = f.port_id ? state.ports.get(f.port_id) : undefined;
  return { ...rest, port_details: p ? { name: p.name, network_id: p.network_id, mac_address: p.mac_address, admin_state_up: p.admin_state_up, status: p.status, device_id: p.device_id, device_owner: p.device_owner } : null };
}

export function neutronPortRoutes(state: OpenStackState): Router {
  state.settlers.push(() => fipStatus(state));
  const auth = (req: FakeRequest) => requireToken(state, req, 'network').projectId;
  const portFilters = ['id', 'name', 'network_id', 'device_id', 'device_owner', 'mac_address', 'status', 'admin_state_up', 'project_id', 'tenant_id', 'description'];
  return new Router()
    .on('GET', `${NEUTRON}/ports`, (req) => {
      const p = auth(req);
      const q = new URLSearchParams(req.query);
      const wanted = q.getAll('fixed_ips');
      q.delete('fixed_ips');
      let ports = filterList([...state.ports.values()].filter((x) => x.project_id === p), q, portFilters);
      // `fixed_ips=ip_address=10.0.0.5` and `fixed_ips=subnet_id=...`, Neutron's special filter.
      for (const w of wanted) {
        const [k, v] = w.split('=');
        if ((k !== 'ip_address' && k !== 'subnet_id') || v === undefined) throw nErr(400, 'HTTPBadRequest', `Invalid input for fixed_ips filter: '${w}'`);
        ports = ports.filter((x) => x.fixed_ips.some((f) => f[k] === v));
      }
      return { status: 200, body: { ports } };
    })
    .on('POST', `${NEUTRON}/ports`, (req) => ({ status: 201, body: { port: createPort(state, auth(req), resourceBody(req, 'port', PORT_CREATE, ['network_id'])) } }))
    .on('GET', `${NEUTRON}/ports/:id`, (req) => ({ status: 200, body: { port: own(state.ports, req.params.id as string, 'Port', auth(req)) } }))
    .on('PUT', `${NEUTRON}/ports/:id`, (req) => {
      const p = auth(req);
      const port = own(state.ports, req.params.id as string, 'Port', p);
      updatePort(state, port, p, resourceBody(req, 'port', PORT_UPDATE));
      return { status: 200, body: { port } };
    })
    .on('DELETE', `${NEUTRON}/ports/:id`, (req) => {
      const port = own(state.ports, req.params.id as string, 'Port', auth(req));
      if (port.device_owner === 'network:router_interface' || port.device_owner === 'network:router_gateway') {
        throw nErr(409, 'L3PortInUse', `Port ${port.id} has owner ${port.device_owner} and therefore cannot be deleted directly via the port API.`);
      }
      deletePort(state, port);
      return { status: 204 };
    })
    .on('GET', `${NEUTRON}/floatingips`, (req) => {
      const p = auth(req);
      const fips = filterList([...state.floatingIps.values()].filter((f) => f.project_id === p), req.query,
        ['id', 'floating_ip_address', 'floating_network_id', 'port_id', 'fixed_ip_address', 'router_id', 'status', 'project_id', 'tenant_id', 'description']);
      return { status: 200, body: { floatingips: fips.map((f) => renderFip(state, f, true)) } };
    })
    .on('POST', `${NEUTRON}/floatingips`, (req) => {
      const projectId = auth(req);
      const a = resourceBody(req, 'floatingip', FIP_CREATE, ['floating_network_id']);
      for (const f of ['floating_network_id', 'port_id', 'fixed_ip_address', 'description']) expect(a, f, 'string|null');
      const net = state.networks.get(a.floating_network_id as string);
      if (!net) throw notFound('Network', a.floating_network_id as string);
      if (!net['router:external']) throw nErr(400, 'BadRequest', `Bad floatingip request: Network ${net.id} is not a valid external network.`);
      enforceNetworkQuota(state, projectId, 'floatingip');
      if (a.floating_ip_address !== undefined) throw nErr(403, 'PolicyNotAuthorized', 'rule:create_floatingip:floating_ip_address is disallowed by policy');
      const subnet = state.subnets.get(net.subnets[0] ?? '');
      if (!subnet) throw nErr(400, 'ExternalIpAddressExhausted', `Unable to find any IP address on external network ${net.id}.`);
      let address: string;
      try { address = allocateIp(state, subnet, labFloatingAddress(state, subnet, a.port_id)); } catch { throw nErr(400, 'ExternalIpAddressExhausted', `Unable to find any IP address on external network ${net.id}.`); }
      const fip: FloatingIp = {
        id: randomUUID(), floating_ip_address: address, floating_network_id: net.id, router_id: null, port_id: null, fixed_ip_address: null, status: 'DOWN',
        description: (a.description as string | undefined) ?? '', ...stamps(projectId),
      };
      if (typeof a.port_id === 'string') associate(state, fip, a.port_id, a.fixed_ip_address);
      state.floatingIps.set(fip.id, fip);
      return { status: 201, body: { floatingip: renderFip(state, fip, false) } };
    })
    .on('GET', `${NEUTRON}/floatingips/:id`, (req) => ({ status: 200, body: { floatingip: renderFip(state, own(state.floatingIps, req.params.id as string, 'Floating IP', auth(req)), true) } }))
    .on('PUT', `${NEUTRON}/floatingips/:id`, (req) => {
      const fip = own(state.floatingIps, req.params.id as string, 'Floating IP', auth(req));
      const a = resourceBody(req, 'floatingip', ['port_id', 'fixed_ip_address', 'description']);
      for (const f of ['port_id', 'fixed_ip_address', 'description']) expect(a, f, 'string|null');
      if (a.port_id !== undefined) associate(state, fip, a.port_id as string | null, a.fixed_ip_address ?? undefined);
      if (typeof a.description === 'string') fip.description = a.description;
      return { status: 200, body: { floatingip: renderFip(state, fip, false) } };
    })
    .on('DELETE', `${NEUTRON}/floatingips/:id`, (req) => {
      const fip = own(state.floatingIps, req.params.id as string, 'Floating IP', auth(req));
      state.floatingIps.delete(fip.id);
      return { status: 204 };
    });
}
