// Keystone v3 POST /v3/auth/tokens: the request body for password and application-credential
// auth, the token the answer carries (X-Subject-Token header, body `token`), and the service
// catalog every other URL comes from.
import type { AppCredentialCredentials, DomainRef, PasswordCredentials } from '../config/clouds.js';

export interface CatalogEndpoint { id: string; interface: 'public' | 'internal' | 'admin'; region_id?: string; region?: string; url: string }
export interface CatalogEntry { id: string; type: string; name?: string; endpoints: CatalogEndpoint[] }

export interface TokenBody {
  token: {
    methods: string[];
    expires_at: string;
    issued_at?: string;
    user: { id: string; name: string; domain: { id: string; name: string } };
    project?: { id: string; name: string; domain: { id: string; name: string } };
    catalog?: CatalogEntry[];
    application_credential?: { id: string; name: string; restricted: boolean };
  };
}

const domainRef = (d: DomainRef) => (d.id ? { id: d.id } : { name: d.name });

/** The body of POST /v3/auth/tokens. Holds the secret: build it, send it, drop it. */
export function authRequest(c: PasswordCredentials | AppCredentialCredentials): unknown {
  if (c.type === 'password') {
    const user = c.user.id ? { id: c.user.id, password: c.password } : { name: c.user.name, domain: domainRef(c.user.domain), password: c.password };
    const project = c.project.id ? { id: c.project.id } : { name: c.project.name, domain: domainRef(c.project.domain) };
    return { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
  }
  // An application credential is bound to its project: Keystone refuses a scope with it.
  const ac = c.id ? { id: c.id, secret: c.secret } : { name: c.name, secret: c.secret, user: c.user?.id ? { id: c.user.id } : { name: c.user?.name, domain: domainRef(c.user?.domain ?? { id: 'default' }) } };
  return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
}

/** The service types Mooring uses, as the catalog names them. */
export type ServiceType = 'compute' | 'network' | 'image' | 'identity';

// The API version each client speaks, appended where the catalog gives an unversioned root
// (Neutron and Glance are usually catalogued as https://host:9696 and https://host:9292).
const VERSION_SUFFIX: Record<ServiceType, string> = { compute: '', network: '/v2.0', image: '/v2', identity: '/v3' };

/** The base URL of a service for this region and interface, or a message naming what is missing. */
export function endpointFor(catalog: CatalogEntry[], type: ServiceType, region: string | undefined, iface: string): string | { missing: string } {
  const svc = catalog.filter((c) => c.type === type);
  if (svc.length === 0) return { missing: `the catalog has no ${type} service (types: ${[...new Set(catalog.map((c) => c.type))].join(', ')})` };
  const eps = svc.flatMap((s) => s.endpoints).filter((e) => e.interface === iface && (!region || (e.region_id ?? e.region) === region));
  const ep = eps[0];
  if (!ep) {
    const regions = [...new Set(svc.flatMap((s) => s.endpoints).map((e) => e.region_id ?? e.region))].join(', ');
    return { missing: `the ${type} service has no ${iface} endpoint${region ? ` in region ${region}` : ''} (regions: ${regions || 'none'})` };
  }
  const url = ep.url.replace(/\/+$/, '');
  const suffix = VERSION_SUFFIX[type];
  return suffix && !url.endsWith(suffix) ? `${url}${suffix}` : url;
}
