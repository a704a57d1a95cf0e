// SIMULATED: the cluster-level Proxmox VE endpoints placement and preflight read: GET /nodes (with
// offline nodes), GET /nodes/{node}/storage (each storage's content types and space), GET
// /nodes/{node}/status and /nodes/{node}/storage/{storage}/status (capacity.ts), GET
// /nodes/{node}/network?type=any_bridge and GET /access/permissions (a token's privileges, which
// PVE computes per path with inheritance; here a token holds its privileges on "/" and below).
import { Router, type FakeRequest } from '../http.js';
import { API, authenticate } from './auth.js';
import { pveError } from './errors.js';
import { verify } from './params.js';
import type { ProxmoxState } from './state.js';
import { nodeMemory, nodeStatusView, storageOn, storageStatus } from './capacity.js';

const GIB = 1024 ** 3;

export const ALL_PRIVILEGES = [
  'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit', 'Pool.Allocate', 'Pool.Audit', 'SDN.Audit', 'SDN.Use',
  'Sys.Audit', 'Sys.Console', 'Sys.Modify', 'VM.Allocate', 'VM.Audit', 'VM.Backup', 'VM.Clone', 'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Cloudinit',
  'VM.Config.Disk', 'VM.Config.HWType', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options', 'VM.Console', 'VM.Migrate', 'VM.Monitor', 'VM.PowerMgmt', 'VM.Snapshot',
];

function onlineNode(state: ProxmoxState, req: FakeRequest): string {
  const node = req.params.node as string;
  if (!state.nodes.includes(node)) throw pveError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  if (state.offline.has(node)) throw pveError(595, `no route to host`);
  return node;
}

/** PVE's 403 for a missing privilege, in its words. */
export function requirePrivilege(state: ProxmoxState, userid: string, path: string, privilege: string): void {
  if (!state.can(userid, privilege)) throw pveError(403, `Permission check failed (${path}, ${privilege})`);
}

export function clusterRoutes(state: ProxmoxState): Router {
  return new Router()
    .on('GET', `${API}/nodes`, (req) => {
      authenticate(state, req);
      return {
        status: 200,
        body: {
          data: state.nodes.map((n) => (state.offline.has(n) ? { node: n, status: 'offline', type: 'node', id: `node/${n}` } : {
            node: n, status: 'online', type: 'node', id: `node/${n}`, maxcpu: state.nodeResources.get(n)?.cpus ?? 1, maxmem: nodeMemory(state, n).total, mem: nodeMemory(state, n).used,
            cpu: 0.05, uptime: 86_400, level: '', maxdisk: 100 * GIB, disk: 10 * GIB,
          })),
        },
      };
    })
    .on('GET', `${API}/nodes/:node/status`, (req) => {
      const who = authenticate(state, req);
      const node = onlineNode(state, req);
      requirePrivilege(state, who.userid, `/nodes/${node}`, 'Sys.Audit');
      return { status: 200, body: { data: nodeStatusView(state, node) } };
    })
    .on('GET', `${API}/nodes/:node/storage/:storage/status`, (req) => {
      const who = authenticate(state, req);
      const node = onlineNode(state, req);
      const storage = req.params.storage as string;
      if (!state.can(who.userid, 'Datastore.Audit') && !state.can(who.userid, 'Datastore.AllocateSpace')) throw pveError(403, `Permission check failed (/storage/${storage}, Datastore.Audit|Datastore.AllocateSpace)`);
      const st = storageStatus(state, storageOn(state, node, storage), node);
      return { status: 200, body: { data: st } };
    })
    .on('GET', `${API}/nodes/:node/storage`, (req) => {
      authenticate(state, req);
      const node = onlineNode(state, req);
      verify(Object.fromEntries(req.query), { content: { type: 'string', optional: true }, enabled: { type: 'boolean', optional: true }, storage: { type: 'string', optional: true }, target: { type: 'string', optional: true }, format: { type: 'boolean', optional: true } });
      const list = state.storages.filter((s) => !s.nodes || s.nodes.includes(node))
        .map((s) => storageStatus(state, s, node));
      return { status: 200, body: { data: list } };
    })
    .on('GET', `${API}/nodes/:node/network`, (req) => {
      authenticate(state, req);
      onlineNode(state, req);
      verify(Object.fromEntries(req.query), { type: { type: 'string', optional: true, enum: ['bridge', 'bond', 'eth', 'alias', 'vlan', 'OVSBridge', 'OVSBond', 'OVSPort', 'OVSIntPort', 'any_bridge', 'any_local_bridge', 'include_sdn'] } });
      return { status: 200, body: { data: state.bridges.map((b) => ({ iface: b, type: 'bridge', active: 1, autostart: 1, bridge_ports: 'eno1', families: ['inet'], method: 'manual' })) } };
    })
    .on('GET', `${API}/access/permissions`, (req) => {
      const who = authenticate(state, req);
      const p = verify(Object.fromEntries(req.query), { path: { type: 'string', optional: true }, userid: { type: 'string', optional: true } });
      const privs = Object.fromEntries(ALL_PRIVILEGES.filter((x) => state.can(who.userid, x)).map((x) => [x, 1]));
      const path = p.path !== undefined ? String(p.path) : '/';
      return { status: 200, body: { data: { [path]: privs } } };
    });
}
