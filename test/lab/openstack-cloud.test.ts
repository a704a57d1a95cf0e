// The OpenStack cloud phase's activities against the SIMULATED OpenStack fake (lab/fakes/openstack)
// on 127.0.0.1 with a kernel-chosen port: seed 001's whole topology is created, a second run makes
// no create call (the fake's request log shows only reads), a create whose answer is lost is not
// repeated, 429/503 carry Retry-After as nextRetryDelay, a quota refusal names the quota and stops,
// a server in ERROR shows Nova's fault, and no secret reaches a result or an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { startOpenStackFake, OPENSTACK_FAKE_DEFAULTS, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import { loadInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { planCloud, type CloudPlan } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { createOpenStackActivities, type OpenStackActivities, type OpenStackDeps } from '../../activities/cloud/openstack/activities/index.js';
import { deriveHostKey } from '../../activities/cloud/host-keys.js';
import { OpenStackClient } from '../../activities/cloud/openstack/client.js';
import { resolveCloudConfig } from '../../activities/cloud/openstack/config/clouds.js';

const SEED_ENV = 'MOORING_TEST_HOST_KEY_SEED';
const SEED = Buffer.alloc(32, 42).toString('base64');
const TARGET = { region: 'RegionOne' };

function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} admin@lab`;
}

function envFor(fake: OpenStackFake): Record<string, string> {
  return { OS_AUTH_URL: fake.authUrl, OS_USERNAME: fake.state.user.name, OS_PASSWORD: fake.state.user.password, OS_PROJECT_NAME: fake.state.project.name, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_ID: 'default' };
}

const run = <A, R>(fn: (a: A) => Promise<R>, a: A, env = new MockActivityEnvironment()) => env.run(fn, a) as Promise<R>;

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try { await p; } catch (e) { assert.ok(e instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(e)}`); return e; }
  return assert.fail('succeeded');
}

interface CloudResult { ids: Record<string, string>; servers: Record<string, { id: string; hostKey: string }>; fips: Record<string, string> }

/** The cloud phase in the order a workflow runs it (the workflow is the next step of the issue). */
async function cloudPhase(a: OpenStackActivities, plan: CloudPlan): Promise<CloudResult> {
  const tag = plan.tag;
  const refs = await run(a.resolveBootRefs, { target: TARGET, plan });
  const kp = await run(a.ensureKeypair, { target: TARGET, keypair: plan.keypair });
  const net = await run(a.ensureNetwork, { target: TARGET, tag, network: plan.network });
  const sub = await run(a.ensureSubnet, { target: TARGET, tag, networkId: net.id, subnet: plan.subnet });
  const router = await run(a.ensureRouter, { target: TARGET, tag, router: plan.router, subnetId: sub.id });
  const sgs = await run(a.ensureSecurityGroups, { target: TARGET, tag, groups: plan.securityGroups });
  const groups = await run(a.ensureServerGroups, { target: TARGET, groups: plan.serverGroups });
  const vip = await run(a.ensureVipPort, { target: TARGET, tag, vip: plan.vip!, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids.gateway! });
  const ports: Record<string, string> = {};
  for (const h of plan.hosts) {
    ports[h.name] = (await run(a.ensureHostPort, { target: TARGET, tag, host: h, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids[h.role]!, ...(plan.vip!.allowedOn.includes(h.port) ? { vipIp: plan.vip!.ip } : {}) })).id;
  }
  const fips: Record<string, string> = {};
  for (const h of plan.hosts.filter((x) => x.floatingIp)) fips[h.name] = (await run(a.ensureFloatingIp, { target: TARGET, tag, name: h.floatingIp!, portId: ports[h.name]!, externalNetworkId: router.externalNetworkId })).address;
  const servers: CloudResult['servers'] = {};
  for (const h of plan.hosts) {
    const s = await run(a.ensureServer, { target: TARGET, tag, cluster: plan.cluster, host: h, imageId: refs.imageId, flavorId: refs.flavorIds[h.flavor]!, portId: ports[h.name]!, keyName: kp.name, serverGroupId: groups[h.role]!, hostKeySeed: { env: SEED_ENV } });
    servers[h.name] = { id: s.id, hostKey: s.hostKey };
  }
  for (const h of plan.hosts) await run(a.waitServerActive, { target: TARGET, serverId: servers[h.name]!.id, name: h.server });
  return { ids: { network: net.id, subnet: sub.id, router: router.id, vip: vip.id, ...ports, ...Object.fromEntries(Object.entries(sgs.ids).map(([k, v]) => [`sg-${k}`, v])) }, servers, fips };
}

describe('OpenStack cloud phase activities against the fake (SIMULATED OpenStack)', () => {
  let fake: OpenStackFake;
  let acts: OpenStackActivities;
  let plan: CloudPlan;
  const images = [{ id: randomUUID(), name: 'ubuntu-20.04' }, { id: randomUUID(), name: 'dup' }, { id: randomUUID(), name: 'dup' }];

  before(async () => {
    process.env[SEED_ENV] = SEED;
    // Seed 001 takes 24 cores: above Nova's default project quota (20), which the fake enforces.
    fake = await startOpenStackFake({ host: '127.0.0.1', port: 0, images, quotas: { compute: { cores: 80, instances: 20, ram: 200_000 } }, timing: { serverBuild: { afterPolls: 2 }, serverDelete: { afterPolls: 1 }, floatingIp: { afterPolls: 1 } } });
    acts = createOpenStackActivities({ env: envFor(fake), readText: async () => undefined, pollMs: 20 });
    const inv = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'));
    plan = planCloud(inv);
    plan.keypair = { name: plan.keypair.name, publicKey: sshPublicKey() };
  });
  after(async () => { await fake.close(); delete process.env[SEED_ENV]; });

  let first: CloudResult;

  it("creates seed 001's topology: network, router, groups, VIP port allowed on both gateways, floating IPs on the gateways, 9 ACTIVE servers", async () => {
    first = await cloudPhase(acts, plan);
    const s = fake.state;
    assert.equal([...s.servers.values()].filter((x) => x.status === 'ACTIVE').length, 9);
    assert.equal(s.serverGroups.size, 4);
    const byName = (n: string) => [...s.ports.values()].find((p) => p.name === n)!;
    for (const gw of ['gateway-1', 'gateway-2']) assert.deepEqual(byName(`paas-challenge-port-${gw}`).allowed_address_pairs.map((p) => p.ip_address), ['192.168.0.100']);
    assert.equal(byName('paas-challenge-port-vip').fixed_ips[0]!.ip_address, '192.168.0.100');
    assert.equal(byName('paas-challenge-port-master-1').fixed_ips[0]!.ip_address, '192.168.0.20');
    assert.equal(Object.keys(first.fips).length, 2);
    assert.equal([...s.floatingIps.values()].length, 2);
    // Every taggable resource carries the cluster tag; servers too (Nova tags at 2.52+).
    for (const m of [s.networks, s.subnets, s.routers, s.securityGroups, s.floatingIps]) {
      for (const r of m.values()) if ((r as { project_id: string }).project_id === s.project.id && (r as { name?: string }).name !== 'default') assert.ok(r.tags.includes(plan.tag), JSON.stringify(r).slice(0, 80));
    }
    for (const p of s.ports.values()) if (p.name.startsWith('paas-challenge-')) assert.ok(p.tags.includes(plan.tag));
    for (const v of s.servers.values()) assert.deepEqual(v.tags, [plan.tag]);
    // The security group rules are the port table: VRRP between gateways, etcd between etcd members.
    const rulesOf = (role: string) => [...s.securityGroupRules.values()].filter((r) => r.security_group_id === first.ids[`sg-${role}`] && r.direction === 'ingress');
    assert.equal(rulesOf('gateway').filter((r) => r.protocol === 'vrrp' && r.remote_group_id === first.ids['sg-gateway']).length, 1);
    assert.equal(rulesOf('etcd').filter((r) => r.port_range_min === 2379 && r.port_range_max === 2380 && r.remote_group_id === first.ids['sg-etcd']).length, 1);
    assert.equal(rulesOf('etcd').length, plan.securityGroups.find((g) => g.role === 'etcd')!.rules.length);
  });

  it('pins each host key through cloud-init: the user data holds the derived key, the result only its public half', async () => {
    const server = [...fake.state.servers.values()].find((x) => x.name === 'paas-challenge-master-2')!;
    const userData = Buffer.from(server.userData!, 'base64').toString();
    const key = deriveHostKey(Buffer.from(SEED, 'base64'), 'paas-challenge', 'master-2');
    assert.ok(userData.includes(key.privateKey.trim().split('\n')[1]!), 'the private key is in the user data');
    assert.ok(userData.includes(`ed25519_public: ${key.publicKey}`));
    assert.equal(first.servers['master-2']!.hostKey, key.publicKey);
    const everything = JSON.stringify(first);
    assert.ok(!everything.includes('PRIVATE KEY') && !everything.includes(fake.state.user.password));
  });

  it('a second run makes no create call (the request log shows reads and no POST/PUT/DELETE) and returns the same ids', async () => {
    const mark = fake.requests.length;
    const again = await cloudPhase(acts, plan);
    const writes = fake.requests.slice(mark).filter((r) => r.method !== 'GET' && !r.path.endsWith('/auth/tokens'));
    assert.deepEqual(writes, []);
    assert.deepEqual(again, first);
  });

  it('floatingIps: vip puts one floating IP on the VIP port (seed 001\'s wish), keyed by the port so a re-run reuses it', async () => {
    const vipFip = { target: TARGET, tag: plan.tag, name: 'paas-challenge-fip-vip', portId: first.ids.vip!, externalNetworkId: [...fake.state.networks.values()].find((n) => n['router:external'])!.id };
    const a = await run(acts.ensureFloatingIp, vipFip);
    const b = await run(acts.ensureFloatingIp, vipFip);
    assert.equal(a.created, true);
    assert.deepEqual(b, { ...a, created: false });
    const fip = [...fake.state.floatingIps.values()].find((f) => f.port_id === first.ids.vip)!;
    assert.equal(fip.fixed_ip_address, '192.168.0.100');
    assert.ok(fip.tags.includes(plan.tag));
  });

  it('a create whose answer is lost (the fake made it, the connection died) is found by the retry, not repeated', async () => {
    let lose = true;
    const losing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (lose && init?.method === 'POST' && /\/servers$|\/ports$|\/floatingips$|\/networks$/.test(String(input))) { lose = false; throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }); }
      return res;
    };
    const flaky = createOpenStackActivities({ env: envFor(fake), readText: async () => undefined, fetch: losing, pollMs: 20 });
    const netPlan = { ...plan.network, name: 'paas-challenge-extra' };
    const f = await failureOf(run(flaky.ensureNetwork, { target: TARGET, tag: plan.tag, network: netPlan }));
    assert.equal(f.type, 'OpenStackUnreachable');
    assert.equal(f.nonRetryable, false);
    const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/networks')).length;
    const before = posts();
    const r = await run(flaky.ensureNetwork, { target: TARGET, tag: plan.tag, network: netPlan });
    assert.equal(r.created, false, 'the retry found the network the lost attempt made');
    assert.equal(posts(), before, 'and made no second create call');
    assert.equal([...fake.state.networks.values()].filter((n) => n.name === 'paas-challenge-extra').length, 1);
    assert.ok(fake.state.networks.get(r.id)!.tags.includes(plan.tag), 'the untagged leftover was tagged by the retry');

    // The same for a port, a floating IP and a server: the retry finds each (a server by its exact name).
    lose = true;
    const host = { ...plan.hosts[0]!, name: 'extra-1', server: 'paas-challenge-extra-1', port: 'paas-challenge-port-extra-1', ip: '192.168.0.40', ipField: 'workers[1].ip' };
    const refs = await run(flaky.resolveBootRefs, { target: TARGET, plan });
    // A port and its floating IP: both made by the lost attempt, both found by the retry.
    const portInput = { target: TARGET, tag: plan.tag, host, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! };
    assert.equal((await failureOf(run(flaky.ensureHostPort, portInput))).type, 'OpenStackUnreachable');
    const port = await run(flaky.ensureHostPort, portInput);
    assert.equal([...fake.state.ports.values()].filter((p) => p.name === host.port).length, 1);
    lose = true;
    const fipInput = { target: TARGET, tag: plan.tag, name: 'paas-challenge-fip-extra-1', portId: port.id, externalNetworkId: [...fake.state.networks.values()].find((n) => n['router:external'])!.id };
    assert.equal((await failureOf(run(flaky.ensureFloatingIp, fipInput))).type, 'OpenStackUnreachable');
    assert.equal((await run(flaky.ensureFloatingIp, fipInput)).created, false);
    assert.equal([...fake.state.floatingIps.values()].filter((f) => f.port_id === port.id).length, 1);
    lose = true;
    const input = { target: TARGET, tag: plan.tag, cluster: plan.cluster, host, imageId: refs.imageId, flavorId: refs.flavorIds[host.flavor]!, portId: port.id, keyName: plan.keypair.name, hostKeySeed: { env: SEED_ENV } };
    assert.equal((await failureOf(run(flaky.ensureServer, input))).type, 'OpenStackUnreachable');
    const retry = await run(flaky.ensureServer, input);
    assert.equal(retry.created, false);
    assert.equal([...fake.state.servers.values()].filter((s) => s.name === 'paas-challenge-extra-1').length, 1);
  });

  it('429 and 503 with Retry-After: a retryable failure whose nextRetryDelay is the server\'s wait', async () => {
    fake.faults.inject({ method: 'POST', pathPattern: '/network/v2\\.0/networks$', status: 429, retryAfterSeconds: 7 });
    const f = await failureOf(run(acts.ensureNetwork, { target: TARGET, tag: plan.tag, network: { ...plan.network, name: 'paas-challenge-429' } }));
    assert.equal(f.type, 'OpenStackUnavailable');
    assert.equal(f.nonRetryable, false);
    assert.equal(msToNumber(f.nextRetryDelay!), 7000);
    fake.faults.inject({ method: 'GET', pathPattern: '/compute/v2\\.1/os-server-groups$', status: 503, retryAfterSeconds: 2 });
    const g = await failureOf(run(acts.ensureServerGroups, { target: TARGET, groups: plan.serverGroups }));
    assert.equal(msToNumber(g.nextRetryDelay!), 2000);
    // The retry the delay asked for goes through.
    assert.equal((await run(acts.ensureNetwork, { target: TARGET, tag: plan.tag, network: { ...plan.network, name: 'paas-challenge-429' } })).created, true);
  });

  it('a quota refusal (Neutron 409 OverQuota, Nova 403) is non-retryable and names the quota', async () => {
    fake.faults.inject({ method: 'POST', pathPattern: '/network/v2\\.0/ports$', status: 409, message: "Quota exceeded for resources: ['port']." });
    const host = { ...plan.hosts[0]!, name: 'extra-2', port: 'paas-challenge-port-extra-2', ip: '192.168.0.41' };
    const f = await failureOf(run(acts.ensureHostPort, { target: TARGET, tag: plan.tag, host, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! }));
    assert.equal(f.type, 'OpenStackQuotaExceeded');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /the project's port quota is exhausted/);
    fake.faults.inject({ method: 'POST', pathPattern: '/compute/v2\\.1/servers$', status: 403, message: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances' });
    const refs = await run(acts.resolveBootRefs, { target: TARGET, plan });
    const port = await run(acts.ensureHostPort, { target: TARGET, tag: plan.tag, host, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! });
    const g = await failureOf(run(acts.ensureServer, { target: TARGET, tag: plan.tag, cluster: plan.cluster, host: { ...host, server: 'paas-challenge-extra-2' }, imageId: refs.imageId, flavorId: refs.flavorIds[host.flavor]!, portId: port.id, keyName: plan.keypair.name, hostKeySeed: { env: SEED_ENV } }));
    assert.equal(g.type, 'OpenStackQuotaExceeded');
    assert.match(g.message, /instances quota/);
  });

  it('a server that goes to ERROR fails without retry and shows Nova\'s fault message', async () => {
    fake.state.failNextBuild('No valid host was found. There are not enough hosts available.');
    const host = { ...plan.hosts[0]!, name: 'extra-3', server: 'paas-challenge-extra-3', port: 'paas-challenge-port-extra-3', ip: '192.168.0.42' };
    const refs = await run(acts.resolveBootRefs, { target: TARGET, plan });
    const port = await run(acts.ensureHostPort, { target: TARGET, tag: plan.tag, host, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! });
    const s = await run(acts.ensureServer, { target: TARGET, tag: plan.tag, cluster: plan.cluster, host, imageId: refs.imageId, flavorId: refs.flavorIds[host.flavor]!, portId: port.id, keyName: plan.keypair.name, hostKeySeed: { env: SEED_ENV } });
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const f = await failureOf(run(acts.waitServerActive, { target: TARGET, serverId: s.id, name: host.server }, env));
    assert.equal(f.type, 'OpenStackServerError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /went to ERROR: No valid host was found/);
    assert.ok(beats.length >= 1, 'the wait heartbeats');
  });

  it('the wait resumes from the last heartbeat: the deadline counts from when the first attempt started', async () => {
    const host = { ...plan.hosts[0]!, name: 'extra-4', server: 'paas-challenge-extra-4', port: 'paas-challenge-port-extra-4', ip: '192.168.0.43' };
    const refs = await run(acts.resolveBootRefs, { target: TARGET, plan });
    const port = await run(acts.ensureHostPort, { target: TARGET, tag: plan.tag, host, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! });
    const s = await run(acts.ensureServer, { target: TARGET, tag: plan.tag, cluster: plan.cluster, host, imageId: refs.imageId, flavorId: refs.flavorIds[host.flavor]!, portId: port.id, keyName: plan.keypair.name, hostKeySeed: { env: SEED_ENV } });
    const resumed = new MockActivityEnvironment({ heartbeatDetails: { waitingSince: Date.now() - 30 * 60_000, polls: 40 } });
    const f = await failureOf(run(acts.waitServerActive, { target: TARGET, serverId: s.id, name: host.server, timeoutMs: 20 * 60_000 }, resumed));
    assert.equal(f.type, 'OpenStackServerTimeout');
    // A fresh attempt on the same server waits and sees it ACTIVE.
    assert.equal((await run(acts.waitServerActive, { target: TARGET, serverId: s.id, name: host.server })).status, 'ACTIVE');
  });

  it('refuses at look-up what the cloud lacks or cannot tell apart, naming the inventory field', async () => {
    const dup = await failureOf(run(acts.resolveBootRefs, { target: TARGET, plan: { ...plan, image: 'dup' } }));
    assert.equal(dup.type, 'OpenStackInventoryMismatch');
    assert.match(dup.message, /^provider\.openstack\.image: 2 active images are named "dup"/);
    const noFlavor = await failureOf(run(acts.resolveBootRefs, { target: TARGET, plan: { ...plan, hosts: [{ ...plan.hosts[0]!, flavor: 'm9.huge', flavorField: 'provider.openstack.flavors.gateway' }] } }));
    assert.match(noFlavor.message, /^provider\.openstack\.flavors\.gateway: no flavor named "m9\.huge"/);
    const noNet = await failureOf(run(acts.resolveBootRefs, { target: TARGET, plan: { ...plan, router: { ...plan.router, externalNetwork: 'ext-net' } } }));
    assert.match(noNet.message, /^provider\.openstack\.floatingNetwork: no external network named "ext-net"/);
    // An inventory address another port already holds.
    const taken = await failureOf(run(acts.ensureHostPort, { target: TARGET, tag: plan.tag, host: { ...plan.hosts[0]!, name: 'intruder', port: 'paas-challenge-port-intruder', ip: '192.168.0.20', ipField: 'workers[3].ip' }, networkId: first.ids.network!, subnetId: first.ids.subnet!, securityGroupId: first.ids['sg-worker']! }));
    assert.match(taken.message, /^workers\[3\]\.ip: 192\.168\.0\.20 is already held by port .*paas-challenge-port-master-1/);
    for (const f of [dup, noFlavor, noNet, taken]) assert.ok(!f.message.includes(fake.state.user.password));
  });

  it('client: renews the token before it expires and once on 401; application credentials from clouds.yaml + secure.yaml', async () => {
    const short = await startOpenStackFake({ host: '127.0.0.1', port: 0, tokenTtlMs: 1200 });
    try {
      const clouds = `clouds:\n  lab:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${short.authUrl}\n      application_credential_id: ${short.state.appCred.id}\n    region_name: RegionOne\n`;
      const secure = `clouds:\n  lab:\n    auth:\n      application_credential_secret: ${OPENSTACK_FAKE_DEFAULTS.appCredSecret}\n`;
      const files: Record<string, string> = { '/etc/openstack/clouds.yaml': clouds, '/etc/openstack/secure.yaml': secure };
      const cfg = await resolveCloudConfig({ cloud: 'lab' }, { env: {}, home: '/nonexistent', cwd: '/nonexistent', readText: async (p) => files[p] });
      const c = new OpenStackClient(cfg);
      await c.request('compute', 'GET', '/flavors');
      await c.request('network', 'GET', '/networks');
      assert.equal(c.authentications, 1, 'one token for both calls');
      await new Promise((r) => setTimeout(r, 700)); // past half the token's life: renewed before use
      await c.request('compute', 'GET', '/flavors');
      assert.equal(c.authentications, 2);
      for (const t of [...short.state.tokens.keys()]) short.state.tokens.delete(t); // revoked behind the client's back
      const r = await c.request<{ flavors: unknown[] }>('compute', 'GET', '/flavors');
      assert.equal(r.body.flavors.length, 3);
      assert.equal(c.authentications, 3, 'a 401 made the client renew once and retry');
      // The Nova microversion header goes with every compute call (the server API echoes it).
      const servers = await c.request('compute', 'GET', '/servers');
      assert.equal(servers.headers.get('openstack-api-version'), 'compute 2.64');
    } finally {
      await short.close();
    }
  });
});

export type { OpenStackDeps };
