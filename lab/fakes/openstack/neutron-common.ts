// SIMULATED: what every resource of the Neutron fake shares: the request-body rules Neutron applies
// (resource key required, unknown attributes refused, required attributes named), its error types,
// list filters, timestamps and IP allocation on a subnet.
import type { FakeRequest } from '../http.js';
import { osError } from './errors.js';
import { allocate, inCidr, isIPv4, parseCidr } from '../ipam.js';
import { isoNow, type OpenStackState, type Subnet } from './state.js';

export const NEUTRON = '/network/v2.0';

export function nErr(status: number, type: string, message: string): Error {
  return osError('network', status, message, type);
}

export function notFound(kind: string, id: string): Error {
  return nErr(404, `${kind.replace(/ /g, '')}NotFound`, `${kind} ${id} could not be found.`);
}

/** Neutron's create/update body: `{"<key>": {...}}`, only known attributes, required ones present. */
export function resourceBody(req: FakeRequest, key: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
  const body = req.body as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw nErr(400, 'HTTPBadRequest', 'Resource body required');
  const attrs = body[key];
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) throw nErr(400, 'HTTPBadRequest', `Unable to find '${key}' in request body`);
  const a = attrs as Record<string, unknown>;
  const unknown = Object.keys(a).filter((k) => !allowed.includes(k));
  if (unknown.length) throw nErr(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const r of required) if (a[r] === undefined) throw nErr(400, 'HTTPBadRequest', `Failed to parse request. Required attribute '${r}' not specified`);
  return a;
}

/** Type checks with Neutron's wording: "Invalid input for name. Reason: ...". */
export function expect(a: Record<string, unknown>, field: string, type: 'string' | 'boolean' | 'integer' | 'array' | 'object' | 'string|null'): void {
  const v = a[field];
  if (v === undefined) return;
  const ok = type === 'string' ? typeof v === 'string'
    : type === 'string|null' ? typeof v === 'string' || v === null
    : type === 'boolean' ? typeof v === 'boolean'
    : type === 'integer' ? Number.isInteger(v)
    : type === 'array' ? Array.isArray(v)
    : typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!ok) throw nErr(400, 'HTTPBadRequest', `Invalid input for ${field}. Reason: '${JSON.stringify(v)}' is not a valid ${type === 'string|null' ? 'string' : type}.`);
}

/** The project may only touch its own resources; others look absent, as Neutron makes them. */
export function own<T extends { project_id: string }>(map: Map<string, T>, id: string, kind: string, projectId: string): T {
  const r = map.get(id);
  if (!r || r.project_id !== projectId) throw notFound(kind, id);
  return r;
}

const PAGING = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);

/** Neutron list filters: `?name=a&name=b` is name in (a, b); an unknown attribute is a 400. */
export function filterList<T extends object>(items: T[], query: URLSearchParams, filterable: readonly string[]): T[] {
  let out = items;
  for (const key of new Set(query.keys())) {
    if (PAGING.has(key)) continue;
    // Tag filters (tag extension): `tags=a,b` all of them, `tags-any=a,b` at least one.
    if (key === 'tags' || key === 'tags-any') {
      const wanted = query.getAll(key).flatMap((v) => v.split(','));
      out = out.filter((it) => {
        const have = ((it as { tags?: string[] }).tags ?? []);
        return key === 'tags' ? wanted.every((w) => have.includes(w)) : wanted.some((w) => have.includes(w));
      });
      continue;
    }
    if (!filterable.includes(key)) throw nErr(400, 'HTTPBadRequest', `[${key}] is invalid attribute for filtering`);
    const wanted = query.getAll(key).map((v) => v.toLowerCase());
    out = out.filter((it) => {
      const v = (it as Record<string, unknown>)[key];
      const values = Array.isArray(v) ? v.map(String) : [String(v)];
      return values.some((x) => wanted.includes(x.toLowerCase()));
    });
  }
  return out;
}

export function stamps(projectId: string): { project_id: string; tenant_id: string; created_at: string; updated_at: string; revision_number: number; tags: string[] } {
  const now = isoNow();
  return { project_id: projectId, tenant_id: projectId, created_at: now, updated_at: now, revision_number: 1, tags: [] };
}

export function touch(r: { updated_at: string; revision_number: number }): void {
  r.updated_at = isoNow();
  r.revision_number++;
}

/** Every address of the subnet held by a port or a floating IP. */
export function usedIps(state: OpenStackState, subnet: Subnet): Set<string> {
  const used = new Set<string>();
  for (const p of state.ports.values()) for (const f of p.fixed_ips) if (f.subnet_id === subnet.id) used.add(f.ip_address);
  const cidr = parseCidr(subnet.cidr);
  for (const f of state.floatingIps.values()) if (cidr && inCidr(f.floating_ip_address, cidr)) used.add(f.floating_ip_address);
  for (const r of state.routers.values()) for (const f of r.external_gateway_info?.external_fixed_ips ?? []) if (f.subnet_id === subnet.id) used.add(f.ip_address);
  return used;
}

/** A requested address must lie in the subnet and be free; otherwise the lowest free pool address. */
export function allocateIp(state: OpenStackState, subnet: Subnet, requested?: string): string {
  const used = usedIps(state, subnet);
  if (requested !== undefined) {
    const cidr = parseCidr(subnet.cidr);
    if (!isIPv4(requested) || !cidr || !inCidr(requested, cidr)) throw nErr(400, 'InvalidIpForSubnet', `IP address ${requested} is not a valid IP for the specified subnet.`);
    if (used.has(requested)) throw nErr(409, 'IpAddressAlreadyAllocated', `IP address ${requested} already allocated in subnet ${subnet.id}`);
    return requested;
  }
  const ip = allocate(subnet.allocation_pools, used);
  if (!ip) throw nErr(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${subnet.network_id}.`);
  return ip;
}
