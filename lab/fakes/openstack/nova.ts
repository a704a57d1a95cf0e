// SIMULATED: stand-in for OpenStack Nova (Compute API v2.1): servers created BUILD→ACTIVE (or ERROR
// with a fault when told to fail), listed, shown, stopped/started and deleted (gone after a while),
// and volume attachments. Network ports come from the Neutron fake, so a server's addresses are the
// ones its ports hold, and a port passed in must be free, as with real Nova.
import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError, Router, type FakeRequest, type FakeResponse } from '../http.js';
import { Progression } from '../progress.js';
import { errorBody, osError } from './errors.js';
import { beginAttach, beginDetach, volumeNotFound } from './cinder.js';
import { isIPv4 } from '../ipam.js';
import { requireToken } from './keystone.js';
import { createPort, deletePort } from './neutron-ports.js';
import { COMPUTE, microversion, mv, versionHeaders } from './nova-resources.js';
import { isoNow, type OpenStackState, type Server, type ServerGroup, type StartedMachine } from './state.js';
import { enforceComputeQuota } from './quotas.js';

const SERVER_KEYS = ['name', 'imageRef', 'flavorRef', 'adminPass', 'metadata', 'networks', 'security_groups', 'key_name', 'user_data', 'availability_zone',
  'block_device_mapping_v2', 'config_drive', 'min_count', 'max_count', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'description', 'tags', 'hostname'];

type Versioned = (req: FakeRequest, v: number) => FakeResponse;

/** Every compute answer, errors included, names the microversion it was served at. */
function versioned(handler: Versioned): (req: FakeRequest) => FakeResponse {
  return (req) => {
    const v = microversion(req);
    try {
      const r = handler(req, v.n);
      return { ...r, headers: { ...versionHeaders(v.text), ...r.headers } };
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.message, { ...e.extra, headers: { ...versionHeaders(v.text), ...e.extra.headers } });
      throw e;
    }
  };
}

function bad(message: string): Error {
  return osError('compute', 400, message);
}

function invalid(field: string, value: unknown, why: string): Error {
  return bad(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${why}`);
}

function ports(state: OpenStackState, projectId: string, s: Omit<Server, 'portIds' | 'ownedPortIds'>, networks: unknown, v: number, sgNames: string[]): { portIds: string[]; owned: string[] } {
  if (networks === undefined && v >= mv(2, 37)) throw bad("Invalid input for field/attribute server. Value: {...}. 'networks' is a required property");
  const portIds: string[] = [];
  const owned: string[] = [];
  const sgIds = sgNames.map((n) => [...state.securityGroups.values()].find((g) => g.project_id === projectId && (g.name === n || g.id === n))?.id as string);
  const own = (networkId: string, fixedIp?: string) => {
    const p = createPort(state, projectId, { network_id: networkId, device_id: s.id, device_owner: 'compute:nova', security_groups: sgIds, ...(fixedIp ? { fixed_ips: [{ ip_address: fixedIp }] } : {}) });
    portIds.push(p.id);
    owned.push(p.id);
  };
  if (networks === 'none') return { portIds, owned };
  if (networks === undefined || networks === 'auto') {
    // Nova picks the project's network only when there is exactly one to pick.
    const mine = [...state.networks.values()].filter((n) => n.project_id === projectId);
    if (mine.length > 1) throw osError('compute', 409, 'Multiple possible networks found, use a Network ID to be more specific.');
    if (mine[0]) own(mine[0].id);
    return { portIds, owned };
  }
  if (!Array.isArray(networks)) throw invalid('networks', networks, `${JSON.stringify(networks)} is not of type 'array'`);
  for (const raw of networks as unknown[]) {
    const n = raw as Record<string, unknown>;
    if (typeof n !== 'object' || n === null) throw invalid('networks', raw, 'each network must be an object');
    const extra = Object.keys(n).filter((k) => !['uuid', 'port', 'fixed_ip', 'tag'].includes(k));
    if (extra.length) throw invalid('networks', raw, `Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} was unexpected)`);
    if (n.fixed_ip !== undefined && (typeof n.fixed_ip !== 'string' || !isIPv4(n.fixed_ip))) throw invalid('fixed_ip', n.fixed_ip, `'${String(n.fixed_ip)}' is not a 'ipv4'`);
    if (typeof n.port === 'string') {
      const p = state.ports.get(n.port);
      if (!p || p.project_id !== projectId) throw bad(`Port id ${n.port} could not be found.`);
      if (p.device_id) throw osError('compute', 409, `Port ${p.id} is still in use.`);
      p.device_id = s.id;
      p.device_owner = 'compute:nova';
      portIds.push(p.id);
    } else if (typeof n.uuid === 'string') {
      const net = state.networks.get(n.uuid);
      if (!net || (net.project_id !== projectId && !net.shared)) throw bad(`Network ${n.uuid} could not be found.`);
      own(net.id, n.fixed_ip as string | undefined);
    } else throw bad('Bad networks format: network uuid is not in proper format or port is not given');
  }
  return { portIds, owned };
}

/** A refused boot leaves no ports behind: Nova cleans up what it made and releases what it claimed. */
function withRollback<T>(state: OpenStackState, f: () => T, serverId: string): T {
  const before = new Set(state.ports.keys());
  try {
    return f();
  } catch (e) {
    for (const p of [...state.ports.values()]) {
      if (!before.has(p.id)) state.ports.delete(p.id);
      else if (p.device_id === serverId) Object.assign(p, { device_id: '', device_owner: '' });
    }
    throw e;
  }
}

function createServer(state: OpenStackState, req: FakeRequest, v: number): FakeResponse {
  const t = requireToken(state, req, 'compute');
  const body = req.body as Record<string, unknown> | undefined;
  const a = body?.server as Record<string, unknown> | undefined;
  const extraTop = Object.keys(body ?? {}).filter((k) => k !== 'server' && k !== 'os:scheduler_hints');
  if (extraTop.length) throw bad(`Additional properties are not allowed (${extraTop.map((e) => `'${e}'`).join(', ')} was unexpected)`);
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw bad("Invalid input for field/attribute server. Value: None. 'server' is a required property");
  const extra = Object.keys(a).filter((k) => !SERVER_KEYS.includes(k));
  if (extra.length) throw invalid('server', '{...}', `Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} was unexpected)`);
  for (const req2 of ['name', 'flavorRef']) if (a[req2] === undefined) throw invalid('server', '{...}', `'${req2}' is a required property`);
  if (typeof a.name !== 'string' || a.name.trim() === '' || a.name.length > 255) throw invalid('name', a.name, 'the name must be a non-blank string of at most 255 characters');
  const flavor = state.flavors.find((f) => f.id === String(a.flavorRef));
  if (!flavor) throw bad('Invalid flavorRef provided.');
  const bdm = Array.isArray(a.block_device_mapping_v2) ? (a.block_device_mapping_v2 as Record<string, unknown>[]) : [];
  const bootsFromVolume = bdm.some((b) => Number(b.boot_index) === 0);
  if ((a.imageRef === undefined || a.imageRef === '') && !bootsFromVolume) throw bad('Missing imageRef attribute');
  const image = typeof a.imageRef === 'string' && a.imageRef !== '' ? state.images.find((i) => i.id === a.imageRef) : undefined;
  if (a.imageRef && !image) throw bad(`Image ${String(a.imageRef)} could not be found.`);
  if ((a.min_count !== undefined && a.min_count !== 1) || (a.max_count !== undefined && a.max_count !== 1)) throw bad('SIMULATED: the Nova fake boots one server per request (min_count/max_count must be 1).');
  if (a.key_name !== undefined && (typeof a.key_name !== 'string' || !state.keypairs.has(a.key_name))) throw bad('Invalid key_name provided.');
  if (a.user_data !== undefined) {
    const ud = a.user_data;
    if (typeof ud !== 'string' || ud.length > 65535 || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(ud) || ud.replace(/\s/g, '').length % 4 !== 0) throw invalid('user_data', typeof ud === 'string' ? `${ud.slice(0, 20)}...` : ud, "is not a 'base64'");
  }
  const meta = a.metadata ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.entries(meta).every(([k, x]) => typeof x === 'string' && k.length <= 255 && x.length <= 255)) throw invalid('metadata', meta, 'metadata must map strings of at most 255 characters to strings of at most 255 characters');
  const sgNames = a.security_groups === undefined ? ['default'] : (a.security_groups as { name?: unknown }[]).map((g) => String(g?.name));
  for (const n of sgNames) {
    if (![...state.securityGroups.values()].some((g) => g.project_id === t.projectId && (g.name === n || g.id === n))) throw bad(`Security group ${n} not found for project ${t.projectId}.`);
  }
  const tags = serverTags(a.tags, v);
  enforceComputeQuota(state, t.projectId, { instances: 1, cores: flavor.vcpus, ram: flavor.ram });
  const group = schedulerGroup(state, body?.['os:scheduler_hints'], t.projectId);
  const now = isoNow();
  const base = {
    id: randomUUID(), name: a.name, projectId: t.projectId, userId: t.userId, flavorId: flavor.id, imageId: image?.id ?? '', keyName: (a.key_name as string | undefined) ?? null,
    metadata: meta as Record<string, string>, securityGroups: sgNames, adminPass: typeof a.adminPass === 'string' ? a.adminPass : randomBytes(9).toString('base64url'),
    userData: (a.user_data as string | undefined) ?? null, hostId: randomBytes(28).toString('hex'), created: now, updated: now, launchedAt: null, status: 'BUILD' as const,
    build: new Progression(state.timing.serverBuild), volumeIds: [], tags, ...(group ? { groupId: group.id } : {}),
  };
  const { portIds, owned } = withRollback(state, () => ports(state, t.projectId, base, a.networks, v, sgNames), base.id);
  const failure = state.takeBuildFailure(a.name);
  const server: Server = { ...base, portIds, ownedPortIds: owned, ...(failure ? { buildFailure: failure } : {}) };
  state.servers.set(server.id, server);
  // SIMULATED: one hypervisor, so (anti-)affinity is recorded, never enforced by placement.
  group?.members.push(server.id);
  const self = `${state.baseUrl}${COMPUTE}/servers/${server.id}`;
  return {
    status: 202,
    headers: { location: self },
    body: { server: { id: server.id, links: [{ rel: 'self', href: self }, { rel: 'bookmark', href: self.replace('/v2.1/', '/') }], 'OS-DCF:diskConfig': 'MANUAL', security_groups: sgNames.map((name) => ({ name })), adminPass: server.adminPass } },
  };
}

/** Tags at create: microversion 2.52+, at most 50, each 1-60 characters without ',' or '/'. */
function serverTags(value: unknown, v: number): string[] {
  if (value === undefined) return [];
  if (v < mv(2, 52)) throw bad("Invalid input for field/attribute server. Value: {...}. Additional properties are not allowed ('tags' was unexpected)");
  if (!Array.isArray(value) || value.length > 50 || !value.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= 60 && !/[,/]/.test(x))) {
    throw invalid('tags', value, 'tags must be at most 50 strings of 1-60 characters without "," or "/"');
  }
  return [...new Set(value as string[])];
}

function schedulerGroup(state: OpenStackState, hints: unknown, projectId: string): ServerGroup | undefined {
  if (hints === undefined) return undefined;
  const group = (hints as { group?: unknown } | null)?.group;
  if (group === undefined) return undefined;
  const g = typeof group === 'string' ? state.serverGroups.get(group) : undefined;
  if (!g || g.projectId !== projectId) throw bad(`Invalid input for field/attribute group. Value: ${JSON.stringify(group)}. Group not found.`);
  return g;
}

function finishBuild(state: OpenStackState, s: Server): void {
  s.updated = isoNow();
  if (s.buildFailure) {
    s.status = 'ERROR';
    s.fault = { code: 500, message: s.buildFailure, created: s.updated };
    return;
  }
  s.status = 'ACTIVE';
  s.launchedAt = s.updated.replace(/Z$/, '.000000');
  for (const id of s.portIds) { const p = state.ports.get(id); if (p) p.status = 'ACTIVE'; }
}

function finishDelete(state: OpenStackState, s: Server): void {
  for (const id of s.portIds) {
    const p = state.ports.get(id);
    if (!p) continue;
    if (s.ownedPortIds.includes(id)) deletePort(state, p);
    else Object.assign(p, { device_id: '', device_owner: '', status: 'DOWN' });
  }
  for (const vid of s.volumeIds) { const vol = state.volumes.get(vid); if (vol) { delete vol.attachment; vol.status = 'available'; delete vol.pending; } }
  state.servers.delete(s.id);
  for (const g of state.serverGroups.values()) g.members = g.members.filter((m) => m !== s.id);
}

function settle(state: OpenStackState, s: Server, observed: boolean): void {
  if (s.status === 'BUILD' && (s.machine?.phase === 'booting' || (observed ? s.build.observe() : s.build.done)) && machineSettled(state, s, 'booting')) finishBuild(state, s);
  if (s.deleting && (s.machine?.phase === 'halting' || (observed ? s.deleting.observe() : s.deleting.done)) && machineSettled(state, s, 'halting')) finishDelete(state, s);
}

/**
 * SIMULATED lab (state.machines): a build is done once the machine behind the server booted (a
 * failed boot is the build's fault), a delete once it halted. Starts the hook the first time and
 * answers whether it finished; true at once without hooks or for a build told to fail.
 */
function machineSettled(state: OpenStackState, s: Server, phase: 'booting' | 'halting'): boolean {
  if (!state.machines || (phase === 'booting' && s.buildFailure)) return true;
  if (s.machine?.phase !== phase) {
    const m: NonNullable<Server['machine']> = { phase, done: false };
    s.machine = m;
    const work = phase === 'booting' ? state.machines.started(startedMachine(state, s)) : state.machines.stopped({ serverId: s.id, serverName: s.name });
    work.then(() => { m.done = true; }, (e: unknown) => { m.error = e instanceof Error ? e.message : String(e); m.done = true; });
    return false;
  }
  if (!s.machine.done) return false;
  if (s.machine.error && phase === 'booting') s.buildFailure = `SIMULATED lab: the machine did not boot: ${s.machine.error}`;
  // A machine that would not halt is reported and the delete goes on: Nova forgets the server either way.
  if (s.machine.error && phase === 'halting') process.stderr.write(`OpenStack fake: the machine behind ${s.name} did not halt: ${s.machine.error}\n`);
  delete s.machine;
  return true;
}

/** What the machine behind a server is given: its user data, addresses and root's keys. */
function startedMachine(state: OpenStackState, s: Server): StartedMachine {
  const ports = s.portIds.map((id) => state.ports.get(id)).filter((p) => p !== undefined);
  const fixedIps = ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address)).filter(isIPv4);
  const key = s.keyName ? state.keypairs.get(s.keyName) : undefined;
  return {
    serverId: s.id, serverName: s.name, fixedIps,
    userData: s.userData === null ? null : Buffer.from(s.userData, 'base64').toString('utf8'),
    authorizedKeys: key ? [key.public_key] : [],
    publicAddresses: [...state.floatingIps.values()].filter((f) => f.port_id !== null && s.portIds.includes(f.port_id)).map((f) => f.floating_ip_address),
  };
}

/** os-stop/os-start/reboot on a lab machine: powered off or booted again, not awaited (Nova answers 202 at once). */
function powerMachine(state: OpenStackState, s: Server, on: boolean): void {
  if (!state.machines) return;
  const work = on ? state.machines.started(startedMachine(state, s)) : state.machines.stopped({ serverId: s.id, serverName: s.name });
  work.catch((e: unknown) => process.stderr.write(`OpenStack fake: power ${on ? 'on' : 'off'} of the machine behind ${s.name}: ${e instanceof Error ? e.message : String(e)}\n`));
}

const VM_STATE: Record<Server['status'], [string, number]> = { BUILD: ['building', 0], ACTIVE: ['active', 1], ERROR: ['error', 0], SHUTOFF: ['stopped', 4] };

function render(state: OpenStackState, s: Server, v: number): unknown {
  const addresses: Record<string, unknown[]> = {};
  for (const id of s.portIds) {
    const p = state.ports.get(id);
    if (!p) continue;
    const net = state.networks.get(p.network_id)?.name ?? p.network_id;
    const list = (addresses[net] ??= []);
    for (const f of p.fixed_ips) {
      list.push({ version: 4, addr: f.ip_address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p.mac_address });
      const fip = [...state.floatingIps.values()].find((x) => x.port_id === p.id && x.fixed_ip_address === f.ip_address);
      if (fip) list.push({ version: 4, addr: fip.floating_ip_address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': p.mac_address });
    }
  }
  const flavor = state.flavors.find((f) => f.id === s.flavorId);
  const self = `${state.baseUrl}${COMPUTE}/servers/${s.id}`;
  const [vmState, power] = VM_STATE[s.status];
  return {
    id: s.id, name: s.name, status: s.status, tenant_id: s.projectId, user_id: s.userId, metadata: s.metadata, hostId: s.hostId,
    image: s.imageId ? { id: s.imageId, links: [{ rel: 'bookmark', href: `${state.baseUrl}/compute/images/${s.imageId}` }] } : '',
    flavor: v >= mv(2, 47) && flavor ? { vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, ephemeral: 0, swap: 0, original_name: flavor.name, extra_specs: {} }
      : { id: s.flavorId, links: [{ rel: 'bookmark', href: `${state.baseUrl}/compute/flavors/${s.flavorId}` }] },
    created: s.created, updated: s.updated, addresses, accessIPv4: '', accessIPv6: '', links: [{ rel: 'self', href: self }, { rel: 'bookmark', href: self.replace('/v2.1/', '/') }],
    'OS-DCF:diskConfig': 'MANUAL', ...(s.status === 'BUILD' ? { progress: 0 } : s.status === 'ACTIVE' ? { progress: 100 } : {}), 'OS-EXT-AZ:availability_zone': 'nova', config_drive: '', key_name: s.keyName,
    'OS-SRV-USG:launched_at': s.launchedAt, 'OS-SRV-USG:terminated_at': null, 'OS-EXT-STS:task_state': s.deleting ? 'deleting' : s.status === 'BUILD' ? 'spawning' : null,
    'OS-EXT-STS:vm_state': vmState, 'OS-EXT-STS:power_state': power, 'os-extended-volumes:volumes_attached': s.volumeIds.map((id) => ({ id, delete_on_termination: false })),
    security_groups: s.securityGroups.map((name) => ({ name })), ...(s.fault ? { fault: s.fault } : {}),
    ...(v >= mv(2, 9) ? { locked: false } : {}), ...(v >= mv(2, 19) ? { description: null } : {}), ...(v >= mv(2, 26) ? { tags: s.tags } : {}),
  };
}

function find(state: OpenStackState, req: FakeRequest): Server {
  const t = requireToken(state, req, 'compute');
  const s = state.servers.get(req.params.id as string);
  if (!s || s.projectId !== t.projectId) throw osError('compute', 404, `Instance ${req.params.id ?? ''} could not be found.`);
  return s;
}

function conflict(s: Server, action: string): Error {
  return osError('compute', 409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${VM_STATE[s.status][0]}`);
}

function action(state: OpenStackState, req: FakeRequest): FakeResponse {
  const s = find(state, req);
  settle(state, s, false);
  const body = req.body as Record<string, unknown> | undefined;
  const name = body && typeof body === 'object' ? Object.keys(body)[0] : undefined;
  if (s.deleting) throw osError('compute', 409, `Cannot '${name ?? 'action'}' instance ${s.id} while it is in task_state deleting`);
  if (name === 'os-stop') { if (s.status !== 'ACTIVE') throw conflict(s, 'stop'); s.status = 'SHUTOFF'; powerMachine(state, s, false); }
  else if (name === 'os-start') { if (s.status !== 'SHUTOFF') throw conflict(s, 'start'); s.status = 'ACTIVE'; powerMachine(state, s, true); }
  else if (name === 'reboot') { if (s.status !== 'ACTIVE' && s.status !== 'SHUTOFF') throw conflict(s, 'reboot'); if (s.status === 'SHUTOFF') powerMachine(state, s, true); s.status = 'ACTIVE'; }
  else throw bad(`SIMULATED: the Nova fake implements the os-stop, os-start and reboot actions only (got ${JSON.stringify(name ?? null)}).`);
  s.updated = isoNow();
  return { status: 202 };
}

function attachments(state: OpenStackState, s: Server): unknown[] {
  return s.volumeIds.map((id) => ({ id, serverId: s.id, volumeId: id, device: state.volumes.get(id)?.attachment?.device ?? null }));
}

export function novaServerRoutes(state: OpenStackState): Router {
  state.settlers.push(() => { for (const s of [...state.servers.values()]) settle(state, s, false); });
  const list = (req: FakeRequest): Server[] => {
    const t = requireToken(state, req, 'compute');
    let out = [...state.servers.values()].filter((s) => s.projectId === t.projectId);
    out.forEach((s) => settle(state, s, true));
    out = out.filter((s) => state.servers.has(s.id));
    // Nova matches `name` as a regular expression, not literally.
    const name = req.query.get('name');
    if (name !== null) { let re: RegExp; try { re = new RegExp(name); } catch { throw bad(`Invalid filter name: ${name}`); } out = out.filter((s) => re.test(s.name)); }
    // `tags=a,b`: servers carrying every one of them (2.26+).
    const tags = req.query.get('tags');
    if (tags !== null) { const want = tags.split(','); out = out.filter((s) => want.every((x) => s.tags.includes(x))); }
    const status = req.query.get('status');
    if (status !== null) out = out.filter((s) => s.status === status.toUpperCase());
    return out;
  };
  const S = `${COMPUTE}/servers`;
  return new Router()
    .on('POST', S, versioned((req, v) => createServer(state, req, v)))
    .on('GET', S, versioned((req) => ({ status: 200, body: { servers: list(req).map((s) => ({ id: s.id, name: s.name, links: (render(state, s, 0) as { links: unknown }).links })) } })))
    .on('GET', `${S}/detail`, versioned((req, v) => ({ status: 200, body: { servers: list(req).map((s) => render(state, s, v)) } })))
    .on('GET', `${S}/:id`, versioned((req, v) => {
      const s = find(state, req);
      settle(state, s, true);
      if (!state.servers.has(s.id)) throw osError('compute', 404, `Instance ${s.id} could not be found.`);
      return { status: 200, body: { server: render(state, s, v) } };
    }))
    .on('DELETE', `${S}/:id`, versioned((req) => {
      const s = find(state, req);
      s.deleting ??= new Progression(state.timing.serverDelete);
      return { status: 204 };
    }))
    .on('POST', `${S}/:id/action`, versioned((req) => action(state, req)))
    .on('GET', `${S}/:id/os-volume_attachments`, versioned((req) => ({ status: 200, body: { volumeAttachments: attachments(state, find(state, req)) } })))
    .on('POST', `${S}/:id/os-volume_attachments`, versioned((req) => {
      const s = find(state, req);
      settle(state, s, false);
      const a = (req.body as { volumeAttachment?: Record<string, unknown> } | undefined)?.volumeAttachment;
      if (typeof a !== 'object' || a === null || typeof a.volumeId !== 'string') throw bad("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
      if (s.status !== 'ACTIVE' && s.status !== 'SHUTOFF') throw conflict(s, 'attach_volume');
      const vol = state.volumes.get(a.volumeId);
      if (!vol || vol.projectId !== s.projectId) throw volumeNotFound(a.volumeId);
      const device = typeof a.device === 'string' ? a.device : `/dev/vd${String.fromCharCode(98 + s.volumeIds.length)}`;
      beginAttach(state, vol, s.id, device);
      s.volumeIds.push(vol.id);
      return { status: 200, body: { volumeAttachment: { id: vol.id, serverId: s.id, volumeId: vol.id, device } } };
    }))
    .on('DELETE', `${S}/:id/os-volume_attachments/:volumeId`, versioned((req) => {
      const s = find(state, req);
      const vol = state.volumes.get(req.params.volumeId as string);
      if (!vol || !s.volumeIds.includes(vol.id)) throw new HttpError(404, 'not attached', { body: errorBody('compute', 404, `Volume attachment could not be found with filter: volume_id = ${req.params.volumeId ?? ''}, instance_uuid = ${s.id}.`) });
      if (vol.status !== 'in-use') throw bad(`Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach. Currently: status: '${vol.status}'.`);
      s.volumeIds = s.volumeIds.filter((id) => id !== vol.id);
      beginDetach(state, vol);
      return { status: 202 };
    }));
}
