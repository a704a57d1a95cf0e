// SIMULATED: stand-in for an OpenStack cloud (Keystone, Nova, Neutron, Cinder, Glance) on one loopback
// HTTP port, laid out like DevStack: /identity, /compute/v2.1, /network/v2.0, /volume/v3/{project}, /image/v2.
// The service catalog in every token points at these paths, so a client that discovers endpoints
// from the catalog (as it must against a real cloud) needs no fake-specific configuration.
import { randomUUID } from 'node:crypto';
import { Router, startFakeServer, type RunningFake } from '../http.js';
import { cinderRoutes } from './cinder.js';
import { errorResponse } from './errors.js';
import { glanceRoutes } from './glance.js';
import { keystoneRoutes } from './keystone.js';
import { neutronNetworkRoutes, seedExternalNetwork } from './neutron.js';
import { neutronPortRoutes } from './neutron-ports.js';
import { neutronTagRoutes } from './neutron-tags.js';
import { neutronSecurityRoutes, seedDefaultSecurityGroup } from './neutron-security.js';
import { novaResourceRoutes } from './nova-resources.js';
import { novaServerGroupRoutes } from './nova-server-groups.js';
import { novaServerRoutes } from './nova.js';
import { OpenStackState, type OpenStackFakeOptions } from './state.js';
import { quotaControlRoutes, quotaRoutes } from './quotas.js';

export { FAKE_DEFAULTS as OPENSTACK_FAKE_DEFAULTS, OpenStackState, type OpenStackFakeOptions } from './state.js';

export interface OpenStackFake extends RunningFake {
  /** Keystone v3 endpoint to authenticate against, e.g. http://127.0.0.1:PORT/identity/v3. */
  authUrl: string;
  /** The simulated cloud: credentials to use, seeded flavors/images, resources, failNextBuild(). */
  state: OpenStackState;
}

export async function startOpenStackFake(opts: OpenStackFakeOptions = {}): Promise<OpenStackFake> {
  const state = new OpenStackState(opts);
  seedExternalNetwork(state);
  seedDefaultSecurityGroup(state);
  const router = new Router()
    .mount(keystoneRoutes(state))
    .mount(quotaRoutes(state))
    .mount(novaResourceRoutes(state))
    .mount(novaServerGroupRoutes(state))
    .mount(novaServerRoutes(state))
    .mount(neutronNetworkRoutes(state))
    .mount(neutronSecurityRoutes(state))
    .mount(neutronPortRoutes(state))
    .mount(neutronTagRoutes(state))
    .mount(glanceRoutes(state))
    .mount(cinderRoutes(state));
  // Faults that are not HTTP errors (a build that ends in ERROR) for a process other than the test's.
  const control = new Router()
    .mount(quotaControlRoutes(state))
    .on('POST', '/_fake/openstack/fail-next-build', (req) => {
      const b = (req.body ?? {}) as { message?: unknown; server?: unknown; times?: unknown };
      if (b.message !== undefined && typeof b.message !== 'string') return { status: 400, body: { error: 'message: must be a string' } };
      if (b.server !== undefined && (typeof b.server !== 'string' || b.server === '')) return { status: 400, body: { error: 'server: must be a server name' } };
      if (b.times !== undefined && (typeof b.times !== 'number' || !Number.isInteger(b.times) || b.times < 1)) return { status: 400, body: { error: 'times: must be a positive integer' } };
      state.failNextBuild(b.message, typeof b.server === 'string' ? { name: b.server, ...(typeof b.times === 'number' ? { times: b.times } : {}) } : undefined);
      return { status: 201, body: { pendingFailures: state.buildFailures.length } };
    })
    .on('GET', '/_fake/openstack/state', () => {
      state.tick();
      return {
        status: 200,
        body: {
          servers: [...state.servers.values()].map((s) => ({ id: s.id, name: s.name, status: s.status, deleting: Boolean(s.deleting) })),
          volumes: [...state.volumes.values()].map((v) => ({ id: v.id, name: v.name, status: v.status })),
          networks: state.networks.size, subnets: state.subnets.size, routers: state.routers.size, ports: state.ports.size,
          securityGroups: state.securityGroups.size, serverGroups: state.serverGroups.size, floatingIps: state.floatingIps.size, tokens: state.tokens.size,
        },
      };
    });
  const running = await startFakeServer({
    name: 'OpenStack fake',
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    router,
    errorResponse,
    beforeEach: () => state.tick(),
    headers: () => ({ 'x-openstack-request-id': `req-${randomUUID()}` }),
    control,
  });
  state.baseUrl = running.url;
  return { ...running, authUrl: `${running.url}/identity/v3`, state };
}
