// SIMULATED: the parts of the OpenStack Nova fake a server is booted from: flavors (seeded, read
// only), key pairs (os-keypairs, public key import only) and the microversion negotiation
// (OpenStack-API-Version / X-OpenStack-Nova-API-Version headers) every compute answer carries.
import { createHash } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { osError } from './errors.js';
import { requireToken } from './keystone.js';
import { isoNow, type Keypair, type OpenStackState } from './state.js';

export const COMPUTE = '/compute/v2.1';
export const MIN_MICROVERSION = '2.1';
export const MAX_MICROVERSION = '2.96';

function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function versionNumber(v: string): number {
  const [maj, min] = v.split('.').map(Number);
  return (maj ?? 0) * 1000 + (min ?? 0);
}

/** The requested microversion as [major*1000+minor, text]; 406 outside the supported range. */
export function microversion(req: FakeRequest): { n: number; text: string } {
  const modern = header(req, 'openstack-api-version');
  let text = MIN_MICROVERSION;
  if (modern) {
    const m = /^\s*compute\s+(\S+)\s*$/i.exec(modern);
    if (m) text = m[1] as string;
  } else {
    text = header(req, 'x-openstack-nova-api-version') ?? MIN_MICROVERSION;
  }
  if (text === 'latest') text = MAX_MICROVERSION;
  if (!/^2\.\d+$/.test(text) || versionNumber(text) < versionNumber(MIN_MICROVERSION) || versionNumber(text) > versionNumber(MAX_MICROVERSION)) {
    throw osError('compute', 406, `Version ${text} is not supported by the API. Minimum is ${MIN_MICROVERSION} and maximum is ${MAX_MICROVERSION}.`);
  }
  return { n: versionNumber(text), text };
}

export function versionHeaders(text: string): Record<string, string> {
  return { 'openstack-api-version': `compute ${text}`, 'x-openstack-nova-api-version': text, vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version' };
}

export function mv(major: number, minor: number): number {
  return major * 1000 + minor;
}

/** Nova's fingerprint of an OpenSSH public key: MD5 of the key blob, colon separated. */
function fingerprint(publicKey: string): string | undefined {
  const m = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-dss)\s+([A-Za-z0-9+/]+={0,3})(\s.*)?$/.exec(publicKey.trim());
  if (!m) return undefined;
  const blob = Buffer.from(m[2] as string, 'base64');
  // The blob starts with the key type again; a mismatch means the text is not a real key.
  if (blob.length < 8 || blob.subarray(4, 4 + blob.readUInt32BE(0)).toString() !== m[1]) return undefined;
  return createHash('md5').update(blob).digest('hex').match(/../g)?.join(':');
}

function flavorLinks(state: OpenStackState, id: string): unknown[] {
  return [{ rel: 'self', href: `${state.baseUrl}${COMPUTE}/flavors/${id}` }, { rel: 'bookmark', href: `${state.baseUrl}/compute/flavors/${id}` }];
}

export function novaResourceRoutes(state: OpenStackState): Router {
  const auth = (req: FakeRequest) => requireToken(state, req, 'compute');
  const flavorDetail = (f: (typeof state.flavors)[number]) => ({
    id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, 'OS-FLV-EXT-DATA:ephemeral': 0, 'OS-FLV-DISABLED:disabled': false, swap: 0, rxtx_factor: 1.0,
    'os-flavor-access:is_public': true, links: flavorLinks(state, f.id),
  });
  const keypairView = (k: Keypair) => ({ name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, type: k.type });
  return new Router()
    .on('GET', COMPUTE, () => ({
      status: 200,
      body: { version: { id: 'v2.1', status: 'CURRENT', version: MAX_MICROVERSION, min_version: MIN_MICROVERSION, updated: '2013-07-23T11:33:21Z', links: [{ rel: 'self', href: `${state.baseUrl}${COMPUTE}/` }] } },
    }))
    .on('GET', `${COMPUTE}/flavors`, (req) => { auth(req); return { status: 200, body: { flavors: state.flavors.map((f) => ({ id: f.id, name: f.name, links: flavorLinks(state, f.id) })) } }; })
    .on('GET', `${COMPUTE}/flavors/detail`, (req) => { auth(req); return { status: 200, body: { flavors: state.flavors.map(flavorDetail) } }; })
    .on('GET', `${COMPUTE}/flavors/:id`, (req) => {
      auth(req);
      const f = state.flavors.find((x) => x.id === req.params.id);
      if (!f) throw osError('compute', 404, `Flavor ${req.params.id ?? ''} could not be found.`);
      return { status: 200, body: { flavor: flavorDetail(f) } };
    })
    .on('GET', `${COMPUTE}/os-keypairs`, (req) => { auth(req); return { status: 200, body: { keypairs: [...state.keypairs.values()].map((k) => ({ keypair: keypairView(k) })) } }; })
    .on('POST', `${COMPUTE}/os-keypairs`, (req) => {
      const t = auth(req);
      const k = (req.body as { keypair?: Record<string, unknown> } | undefined)?.keypair;
      if (typeof k !== 'object' || k === null) throw osError('compute', 400, "Invalid input for field/attribute keypair. 'keypair' is a required property");
      const extra = Object.keys(k).filter((x) => !['name', 'public_key', 'type', 'user_id'].includes(x));
      if (extra.length) throw osError('compute', 400, `Invalid input for field/attribute keypair. Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(', ')} was unexpected)`);
      if (typeof k.name !== 'string' || !/^[A-Za-z0-9 _.@-]{1,255}$/.test(k.name)) throw osError('compute', 400, `Invalid input for field/attribute name. Value: ${JSON.stringify(k.name)}. Keypair name must be 1-255 letters, digits, spaces, '_', '-', '.' or '@'.`);
      if (typeof k.public_key !== 'string') throw osError('compute', 400, 'SIMULATED: the Nova fake imports key pairs only; give public_key (key generation is not implemented, as in microversion 2.92+).');
      const fp = fingerprint(k.public_key);
      if (!fp) throw osError('compute', 400, 'Keypair data is invalid: failed to generate fingerprint');
      if (state.keypairs.has(k.name)) throw osError('compute', 409, `Key pair '${k.name}' already exists.`);
      const kp: Keypair = { name: k.name, public_key: k.public_key.trim(), fingerprint: fp, type: 'ssh', user_id: t.userId, created_at: isoNow() };
      state.keypairs.set(kp.name, kp);
      return { status: 200, body: { keypair: { ...keypairView(kp), user_id: kp.user_id } } };
    })
    .on('GET', `${COMPUTE}/os-keypairs/:name`, (req) => {
      auth(req);
      const k = state.keypairs.get(req.params.name as string);
      if (!k) throw osError('compute', 404, `Keypair ${req.params.name ?? ''} not found for user ${state.user.id}`);
      return { status: 200, body: { keypair: { ...keypairView(k), user_id: k.user_id, created_at: k.created_at, deleted: false, deleted_at: null, updated_at: null, id: 1 } } };
    })
    .on('DELETE', `${COMPUTE}/os-keypairs/:name`, (req) => {
      auth(req);
      if (!state.keypairs.delete(req.params.name as string)) throw osError('compute', 404, `Keypair ${req.params.name ?? ''} not found for user ${state.user.id}`);
      return { status: 202 };
    });
}
