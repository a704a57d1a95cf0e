// What a provision run must leave in the SIMULATED OpenStack fake, whatever crashed on the way:
// exactly one of everything the cloud plan makes, all tagged, nothing else of the cluster's, no
// orphaned port or unbound floating IP, and each create POSTed (and answered 2xx) once since the
// request log's index `mark` (a retry that made a second would show). Shared by the crash
// matrices of the cloud phase (provision-crash.ts) and of the host phase (provision-hosts-crash.ts).
import assert from 'node:assert/strict';
import type { OpenStackFake } from '../../lab/fakes/openstack/index.js';
import type { Inventory } from '../../config/schema.js';
import { planCloud } from '../../activities/cloud/openstack/plan/cloud-plan.js';

const CREATE_PATHS: Record<string, string> = {
  servers: '/compute/v2.1/servers', keypairs: '/compute/v2.1/os-keypairs', serverGroups: '/compute/v2.1/os-server-groups',
  networks: '/network/v2.0/networks', subnets: '/network/v2.0/subnets', routers: '/network/v2.0/routers', ports: '/network/v2.0/ports',
  securityGroups: '/network/v2.0/security-groups', securityGroupRules: '/network/v2.0/security-group-rules', floatingIps: '/network/v2.0/floatingips',
};

/** Exactly one of everything the plan of `inv` makes, all tagged, nothing else of the cluster's, each create POSTed once since `mark`. */
export function checkProvisioned(fake: OpenStackFake, inv: Inventory, mark: number, where: string): void {
  const plan = planCloud(inv);
  const s = fake.state;
  const tag = plan.tag;
  const servers = [...s.servers.values()];
  assert.deepEqual(servers.map((x) => x.name).sort(), plan.hosts.map((h) => h.server).sort(), `one server per host (${where})`);
  assert.ok(servers.every((x) => x.tags.includes(tag) && x.status === 'ACTIVE'), `every server tagged and ACTIVE (${where})`);
  const ports = [...s.ports.values()];
  const named = ports.filter((p) => p.name.startsWith(`${plan.cluster}-`));
  assert.deepEqual(named.map((p) => p.name).sort(), [...plan.hosts.map((h) => h.port), ...(plan.vip ? [plan.vip.port] : [])].sort(), `a port per host and the VIP port, none twice (${where})`);
  assert.ok(named.every((p) => p.tags.includes(tag)), `every port tagged (${where})`);
  const stray = ports.filter((p) => !named.includes(p) && !p.device_owner.startsWith('network:'));
  assert.deepEqual(stray.map((p) => `${p.id} ${p.name}`), [], `no orphaned port (${where})`);
  const fips = [...s.floatingIps.values()];
  const fipPortNames = [...plan.hosts.filter((h) => h.floatingIp).map((h) => h.port), ...(plan.vip?.floatingIp ? [plan.vip.port] : [])];
  const fipPorts = fipPortNames.map((name) => named.find((p) => p.name === name)!.id);
  assert.deepEqual(fips.map((f) => f.port_id).sort(), fipPorts.sort(), `one floating IP per port the plan gives one, none unbound (${where})`);
  assert.ok(fips.every((f) => (f.tags ?? []).includes(tag)), `every floating IP tagged (${where})`);
  const one = <T extends { name: string; tags?: string[] }>(what: string, list: T[], names: string[]) => {
    const mine = list.filter((x) => names.includes(x.name) || x.name.startsWith(`${plan.cluster}-`));
    assert.deepEqual(mine.map((x) => x.name).sort(), [...names].sort(), `${what}: one each (${where})`);
    if (mine.some((x) => x.tags !== undefined)) assert.ok(mine.every((x) => (x.tags ?? []).includes(tag)), `${what} tagged (${where})`);
  };
  one('network', [...s.networks.values()], [plan.network.name]);
  one('subnet', [...s.subnets.values()], [plan.subnet.name]);
  one('router', [...s.routers.values()], [plan.router.name]);
  one('security groups', [...s.securityGroups.values()], plan.securityGroups.map((g) => g.name));
  one('server groups', [...s.serverGroups.values()], plan.serverGroups.map((g) => g.name));
  // Each create POSTed (and answered 2xx) once: a retry that made a second would show here.
  const posts = (path: string) => fake.requests.slice(mark).filter((r) => r.method === 'POST' && r.path === path && typeof r.status === 'number' && r.status < 300).length;
  const want: Record<string, number> = {
    servers: plan.hosts.length, ports: named.length, floatingIps: fipPorts.length, networks: 1, subnets: 1, routers: 1,
    securityGroups: plan.securityGroups.length, serverGroups: plan.serverGroups.length, keypairs: plan.keypair.publicKey ? 1 : 0,
    securityGroupRules: plan.securityGroups.reduce((a, g) => a + g.rules.length, 0),
  };
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, posts(CREATE_PATHS[k]!)]));
  assert.deepEqual(got, want, `each create POSTed once (${where})`);
}
