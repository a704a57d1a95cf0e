// SIMULATED: stand-in for OpenStack Keystone (Identity API v3), only what Mooring authenticates with:
// POST /v3/auth/tokens with the password or application_credential method (token id in the
// X-Subject-Token header, service catalog in token.catalog), token validation and revocation,
// and the keystonemiddleware check every other service of the fake runs (X-Auth-Token → 401).
import { randomBytes } from 'node:crypto';
import { HttpError, Router, type FakeRequest } from '../http.js';
import { errorBody, osError, UNAUTHORIZED_MESSAGE, type Service } from './errors.js';
import { DOMAIN, hexId, type OpenStackState, type Token } from './state.js';

const BAD_REQUEST_TAIL = ' - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';

/** Keystone prints timestamps with microseconds. */
function keystoneTime(d: Date): string {
  return d.toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
}

function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function unauthorized(state: OpenStackState, message = UNAUTHORIZED_MESSAGE): HttpError {
  return new HttpError(401, message, {
    body: errorBody('identity', 401, message),
    headers: { 'www-authenticate': `Keystone uri="${state.baseUrl}/identity"` },
  });
}

/** What keystonemiddleware does in front of Nova, Neutron and Cinder. */
export function requireToken(state: OpenStackState, req: FakeRequest, service: Service): Token & { projectId: string } {
  const id = header(req, 'x-auth-token');
  const token = id ? state.tokens.get(id) : undefined;
  if (!token || token.expiresAt.getTime() <= Date.now()) throw unauthorized(state);
  if (!token.projectId) throw osError(service, 403, 'Policy does not allow this request: the token is not scoped to a project.');
  return token as Token & { projectId: string };
}

function required(obj: unknown, field: string, where: string): Record<string, unknown> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw osError('identity', 400, `Invalid input for field '${where}': ${JSON.stringify(obj ?? null)} is not of type 'object'`);
  const v = (obj as Record<string, unknown>)[field];
  if (v === undefined) throw osError('identity', 400, `Invalid input for field '${where}': '${field}' is a required property`);
  return obj as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Checks `{id}` or `{name, domain: {id|name}}` of a user or project against the one we have. */
function sameEntity(ref: Record<string, unknown>, what: string, entity: { id: string; name: string }): boolean {
  if (ref.id !== undefined) return ref.id === entity.id;
  if (ref.name === undefined) throw osError('identity', 400, `Expecting to find id or name in ${what}${BAD_REQUEST_TAIL}`);
  const domain = ref.domain as Record<string, unknown> | undefined;
  if (typeof domain !== 'object' || domain === null) throw osError('identity', 400, `Expecting to find domain in ${what}${BAD_REQUEST_TAIL}`);
  const domainOk = domain.id !== undefined ? domain.id === DOMAIN.id : domain.name === DOMAIN.name;
  return domainOk && ref.name === entity.name;
}

export function catalog(state: OpenStackState, ids: Map<string, string>): unknown[] {
  const services: [string, string, string][] = [
    ['identity', 'keystone', `${state.baseUrl}/identity`],
    ['compute', 'nova', `${state.baseUrl}/compute/v2.1`],
    ['network', 'neutron', `${state.baseUrl}/network`],
    ['image', 'glance', `${state.baseUrl}/image`],
    ['volumev3', 'cinderv3', `${state.baseUrl}/volume/v3/${state.project.id}`],
    ['block-storage', 'cinder', `${state.baseUrl}/volume/v3/${state.project.id}`],
  ];
  const id = (key: string) => { if (!ids.has(key)) ids.set(key, hexId()); return ids.get(key) as string; };
  return services.map(([type, name, url]) => ({
    id: id(type), type, name,
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({ id: id(`${type}/${iface}`), interface: iface, region: state.region, region_id: state.region, url })),
  }));
}

function tokenBody(state: OpenStackState, t: Token, withCatalog: boolean, ids: Map<string, string>): unknown {
  const body: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: { ...DOMAIN }, id: state.user.id, name: state.user.name, password_expires_at: null },
    audit_ids: [t.auditId],
    expires_at: keystoneTime(t.expiresAt),
    issued_at: keystoneTime(t.issuedAt),
  };
  if (t.projectId) {
    body.project = { domain: { ...DOMAIN }, id: state.project.id, name: state.project.name };
    body.is_domain = false;
    body.roles = [{ id: ids.get('role/member') ?? 'member', name: 'member' }, { id: ids.get('role/reader') ?? 'reader', name: 'reader' }];
    if (withCatalog) body.catalog = catalog(state, ids);
  }
  if (t.appCredId) body.application_credential = { id: state.appCred.id, name: state.appCred.name, restricted: true };
  return { token: body };
}

function authenticate(state: OpenStackState, body: unknown): Token {
  const auth = required(required(body, 'auth', 'auth').auth, 'identity', 'auth').identity as unknown;
  const identity = required(auth, 'methods', 'identity');
  const methods = identity.methods;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
    throw osError('identity', 400, `Invalid input for field 'identity/methods': ${JSON.stringify(methods)} is not a non-empty array of strings`);
  }
  if (methods.length !== 1 || !['password', 'application_credential'].includes(methods[0] as string)) throw unauthorized(state, 'Attempted to authenticate with an unsupported method.');
  const method = methods[0] as 'password' | 'application_credential';
  const creds = required(identity, method, 'identity')[method];
  const scope = (body as { auth: Record<string, unknown> }).auth.scope;
  const now = new Date();
  const token: Token = { id: `gAAAAAB${randomBytes(135).toString('base64url')}`, methods: [method], userId: state.user.id, issuedAt: now, expiresAt: new Date(now.getTime() + state.tokenTtlMs), auditId: randomBytes(16).toString('base64url').slice(0, 22) };

  if (method === 'password') {
    const user = required(required(creds, 'user', 'identity/password').user, 'password', 'identity/password/user');
    if (!sameEntity(user, 'user', state.user) || str(user.password) !== state.user.password) throw unauthorized(state);
    if (scope !== undefined) {
      const project = required(scope, 'project', 'auth/scope').project as Record<string, unknown>;
      if (typeof project !== 'object' || project === null) throw osError('identity', 400, `Invalid input for field 'auth/scope/project': not an object`);
      if (!sameEntity(project, 'project', state.project)) throw unauthorized(state, `User ${state.user.id} has no access to project ${str(project.id) ?? str(project.name) ?? '?'}`);
      token.projectId = state.project.id;
    }
    return token;
  }

  const ac = required(creds, 'secret', 'identity/application_credential');
  if (ac.id === undefined && ac.name === undefined) throw osError('identity', 400, `Expecting to find id or name in application_credential${BAD_REQUEST_TAIL}`);
  if (ac.id === undefined) {
    const user = ac.user as Record<string, unknown> | undefined;
    if (typeof user !== 'object' || user === null) throw osError('identity', 400, `Expecting to find user in application_credential${BAD_REQUEST_TAIL}`);
    if (!sameEntity(user, 'user', state.user)) throw unauthorized(state);
  }
  const matches = ac.id !== undefined ? ac.id === state.appCred.id : ac.name === state.appCred.name;
  if (!matches || str(ac.secret) !== state.appCred.secret) throw unauthorized(state);
  // An application credential is bound to its project; asking for another scope is refused.
  if (scope !== undefined) throw unauthorized(state, 'Application credentials cannot request a scope.');
  token.projectId = state.project.id;
  token.appCredId = state.appCred.id;
  return token;
}

export function keystoneRoutes(state: OpenStackState): Router {
  const ids = new Map<string, string>([['role/member', hexId()], ['role/reader', hexId()]]);
  const subject = (req: FakeRequest): Token => {
    const caller = header(req, 'x-auth-token');
    const c = caller ? state.tokens.get(caller) : undefined;
    if (!c || c.expiresAt.getTime() <= Date.now()) throw unauthorized(state);
    const sid = header(req, 'x-subject-token');
    const t = sid ? state.tokens.get(sid) : undefined;
    if (!t || t.expiresAt.getTime() <= Date.now()) throw osError('identity', 404, `Could not find token: ${sid ?? ''}.`);
    return t;
  };
  return new Router()
    .on('GET', '/identity/v3', () => ({
      status: 200,
      body: { version: { id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z', links: [{ rel: 'self', href: `${state.baseUrl}/identity/v3/` }], 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }] } },
    }))
    .on('POST', '/identity/v3/auth/tokens', (req) => {
      const token = authenticate(state, req.body);
      state.tokens.set(token.id, token);
      return { status: 201, headers: { 'x-subject-token': token.id }, body: tokenBody(state, token, !req.query.has('nocatalog'), ids) };
    })
    .on('GET', '/identity/v3/auth/tokens', (req) => {
      const t = subject(req);
      return { status: 200, headers: { 'x-subject-token': t.id }, body: tokenBody(state, t, !req.query.has('nocatalog'), ids) };
    })
    .on('DELETE', '/identity/v3/auth/tokens', (req) => {
      state.tokens.delete(subject(req).id);
      return { status: 204 };
    })
    .on('GET', '/identity/v3/auth/catalog', (req) => {
      requireToken(state, req, 'identity');
      return { status: 200, body: { catalog: catalog(state, ids), links: { self: `${state.baseUrl}/identity/v3/auth/catalog`, previous: null, next: null } } };
    });
}
