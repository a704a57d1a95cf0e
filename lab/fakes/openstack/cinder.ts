// SIMULATED: stand-in for OpenStack Cinder (Block Storage API v3): volumes under
// /v3/{project_id}/volumes that are created `creating`→`available`, attached by Nova
// `attaching`→`in-use`, detached `detaching`→`available` and deleted `deleting`→gone, each step
// taking time (see progress.ts), so a client has to wait for the status it needs.
import { randomUUID } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { Progression } from '../progress.js';
import { osError } from './errors.js';
import { requireToken } from './keystone.js';
import type { OpenStackState, Volume, VolumeStatus } from './state.js';

const CREATE = ['name', 'description', 'display_name', 'display_description', 'size', 'availability_zone', 'source_volid', 'snapshot_id', 'backup_id', 'volume_type', 'metadata', 'imageRef', 'consistencygroup_id', 'multiattach', 'group_id'];
const DELETABLE: VolumeStatus[] = ['available', 'error'];

/** Cinder prints timestamps with microseconds and no zone. */
function cinderTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

function bad(message: string): Error {
  return osError('volume', 400, message);
}

export function volumeNotFound(id: string): Error {
  return osError('volume', 404, `Volume ${id} could not be found.`);
}

function begin(state: OpenStackState, v: Volume, status: VolumeStatus, to: VolumeStatus | 'deleted'): void {
  v.status = status;
  v.updatedAt = cinderTime();
  v.pending = { progress: new Progression(state.timing.volume), to };
}

function finish(state: OpenStackState, v: Volume): void {
  const to = v.pending?.to;
  delete v.pending;
  if (to === 'deleted') { state.volumes.delete(v.id); return; }
  if (to === 'available') delete v.attachment;
  if (to) { v.status = to; v.updatedAt = cinderTime(); }
}

/** Nova's attach: the volume must be available; it is in-use once the attachment completes. */
export function beginAttach(state: OpenStackState, v: Volume, serverId: string, device: string): void {
  if (v.status !== 'available') throw bad(`Invalid volume: volume ${v.id} status must be available, but current status is: ${v.status}.`);
  v.attachment = { id: randomUUID(), serverId, device, attachedAt: cinderTime() };
  begin(state, v, 'attaching', 'in-use');
}

export function beginDetach(state: OpenStackState, v: Volume): void {
  begin(state, v, 'detaching', 'available');
}

function render(state: OpenStackState, v: Volume, observed: boolean): unknown {
  if (observed && v.pending?.progress.observe()) finish(state, v);
  const a = v.attachment && v.status !== 'attaching' ? [{
    server_id: v.attachment.serverId, attachment_id: v.attachment.id, attached_at: v.attachment.attachedAt, host_name: null, volume_id: v.id, device: v.attachment.device, id: v.id,
  }] : [];
  const link = `${state.baseUrl}/volume/v3/${v.projectId}/volumes/${v.id}`;
  return {
    id: v.id, name: v.name, description: v.description, size: v.size, status: v.status, availability_zone: v.availabilityZone, bootable: String(v.bootable),
    encrypted: false, multiattach: false, attachments: a, metadata: v.metadata, created_at: v.createdAt, updated_at: v.updatedAt, volume_type: v.volumeType,
    snapshot_id: null, source_volid: null, user_id: v.userId, replication_status: null, consistencygroup_id: null, group_id: null, provider_id: null, shared_targets: true,
    links: [{ rel: 'self', href: link }, { rel: 'bookmark', href: link.replace('/v3/', '/') }],
    ...(v.imageId ? { volume_image_metadata: { image_id: v.imageId } } : {}),
  };
}

function parseCreate(state: OpenStackState, req: FakeRequest, projectId: string, userId: string): Volume {
  const body = req.body as Record<string, unknown> | undefined;
  const a = body?.volume as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw bad("Missing required element 'volume' in request body.");
  const extra = Object.keys(a).filter((k) => !CREATE.includes(k));
  if (extra.length) throw bad(`Invalid input for field/attribute volume. Value: ${JSON.stringify(a)}. Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
  if (a.source_volid != null || a.snapshot_id != null || a.backup_id != null) throw bad('SIMULATED: the Cinder fake creates blank volumes and volumes from images only (no source_volid, snapshot_id or backup_id).');
  const size = typeof a.size === 'string' && /^\d+$/.test(a.size) ? Number(a.size) : a.size;
  if (size === undefined || size === null) throw bad(`Invalid input for field/attribute size. Value: None. None is not of type 'integer', 'string'`);
  if (!Number.isInteger(size) || (size as number) < 1) throw bad(`Invalid input for field/attribute size. Value: ${JSON.stringify(a.size)}. ${JSON.stringify(a.size)} is less than the minimum of 1`);
  for (const f of ['name', 'description', 'volume_type', 'availability_zone', 'imageRef']) {
    if (a[f] !== undefined && a[f] !== null && typeof a[f] !== 'string') throw bad(`Invalid input for field/attribute ${f}. Value: ${JSON.stringify(a[f])}. ${JSON.stringify(a[f])} is not of type 'string', 'null'`);
  }
  const meta = a.metadata ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string')) throw bad('Invalid input for field/attribute metadata. Value must be a map of strings.');
  const imageId = (a.imageRef as string | undefined) ?? null;
  if (imageId !== null && !state.images.some((i) => i.id === imageId)) throw bad('Invalid image identifier or unable to access requested image.');
  return {
    id: randomUUID(), name: (a.name as string | undefined) ?? (a.display_name as string | undefined) ?? null, description: (a.description as string | undefined) ?? null,
    size: size as number, projectId, userId, status: 'creating', createdAt: cinderTime(), updatedAt: null, volumeType: (a.volume_type as string | undefined) ?? '__DEFAULT__',
    availabilityZone: (a.availability_zone as string | undefined) ?? 'nova', bootable: imageId !== null, metadata: meta as Record<string, string>, imageId,
  };
}

export function cinderRoutes(state: OpenStackState): Router {
  state.settlers.push(() => { for (const v of [...state.volumes.values()]) if (v.pending?.progress.done) finish(state, v); });
  const auth = (req: FakeRequest) => {
    const t = requireToken(state, req, 'volume');
    // The project in the URL must be the token's, as Cinder's policy checks it.
    if (req.params.project !== t.projectId) throw osError('volume', 403, 'Policy does not allow volume:get_all to be performed.');
    return t;
  };
  const get = (req: FakeRequest): Volume => {
    const t = auth(req);
    const v = state.volumes.get(req.params.id as string);
    if (!v || v.projectId !== t.projectId) throw volumeNotFound(req.params.id as string);
    return v;
  };
  const list = (req: FakeRequest): Volume[] => {
    const t = auth(req);
    return [...state.volumes.values()].filter((v) => v.projectId === t.projectId
      && (!req.query.has('name') || v.name === req.query.get('name')) && (!req.query.has('status') || v.status === req.query.get('status')));
  };
  const P = '/volume/v3/:project/volumes';
  return new Router()
    .on('POST', P, (req) => {
      const t = auth(req);
      const v = parseCreate(state, req, t.projectId, t.userId);
      state.volumes.set(v.id, v);
      begin(state, v, 'creating', 'available');
      return { status: 202, body: { volume: render(state, v, false) } };
    })
    .on('GET', P, (req) => ({ status: 200, body: { volumes: list(req).map((v) => ({ id: v.id, name: v.name, links: (render(state, v, false) as { links: unknown }).links })) } }))
    .on('GET', `${P}/detail`, (req) => ({ status: 200, body: { volumes: list(req).map((v) => render(state, v, true)) } }))
    .on('GET', `${P}/:id`, (req) => ({ status: 200, body: { volume: render(state, get(req), true) } }))
    .on('PUT', `${P}/:id`, (req) => {
      const v = get(req);
      const a = (req.body as { volume?: Record<string, unknown> } | undefined)?.volume;
      if (typeof a !== 'object' || a === null) throw bad("Missing required element 'volume' in request body.");
      const extra = Object.keys(a).filter((k) => !['name', 'description', 'metadata', 'display_name', 'display_description'].includes(k));
      if (extra.length) throw bad(`Invalid input for field/attribute volume. Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} was unexpected)`);
      if (typeof a.name === 'string') v.name = a.name;
      if (typeof a.description === 'string') v.description = a.description;
      if (typeof a.metadata === 'object' && a.metadata !== null) v.metadata = a.metadata as Record<string, string>;
      v.updatedAt = cinderTime();
      return { status: 200, body: { volume: render(state, v, false) } };
    })
    .on('DELETE', `${P}/:id`, (req) => {
      const v = get(req);
      if (!DELETABLE.includes(v.status) || v.attachment) {
        throw bad('Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.');
      }
      begin(state, v, 'deleting', 'deleted');
      return { status: 202 };
    });
}
