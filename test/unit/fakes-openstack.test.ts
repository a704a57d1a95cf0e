// Contract tests of the SIMULATED OpenStack fake (lab/fakes/openstack): they pin the request and
// response shapes of the documented Keystone v3, Nova v2.1, Neutron v2.0 and Cinder v3 calls Mooring
// makes, the asynchronous states (BUILD→ACTIVE, creating→available) and the injectable faults.
// Every service URL is taken from the token's catalog, as a real client must.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startOpenStackFake, type OpenStackFake } from '../../lab/fakes/openstack/index.js';

interface Reply { status: number; headers: Headers; body: any } // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, url: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers['x-auth-token'] = opts.token;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function passwordAuth(fake: OpenStackFake, extra: Record<string, unknown> = {}): unknown {
  const s = fake.state;
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: s.user.name, domain: { name: 'Default' }, password: s.user.password } } },
      scope: { project: { name: s.project.name, domain: { id: 'default' } } },
      ...extra,
    },
  };
}

/** An OpenSSH ed25519 public key line, built from a freshly generated key. */
function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} mooring@lab`;
}

type Catalog = { type: string; endpoints: { interface: string; region_id: string; url: string }[] }[];

function endpoint(catalog: Catalog, type: string): string {
  const svc = catalog.find((c) => c.type === type);
  const ep = svc?.endpoints.find((e) => e.interface === 'public');
  assert.ok(ep, `catalog has a public ${type} endpoint`);
  return ep.url;
}

describe('OpenStack fake (SIMULATED Keystone, Nova, Neutron, Cinder)', () => {
  let fake: OpenStackFake;
  let token: string;
  let nova: string;
  let neutron: string;
  let cinder: string;

  before(async () => {
    fake = await startOpenStackFake({ host: '127.0.0.1', port: 0, timing: { serverBuild: { afterPolls: 2 }, serverDelete: { afterPolls: 1 }, volume: { afterPolls: 1 }, floatingIp: { afterPolls: 1 } } });
    const r = await call('POST', `${fake.authUrl}/auth/tokens`, { body: passwordAuth(fake) });
    token = r.headers.get('x-subject-token') as string;
    nova = endpoint(r.body.token.catalog, 'compute');
    neutron = `${endpoint(r.body.token.catalog, 'network')}/v2.0`;
    cinder = endpoint(r.body.token.catalog, 'volumev3');
  });
  after(async () => { await fake.close(); });

  describe('Keystone v3', () => {
    it('password auth returns the token in X-Subject-Token and a scoped token with a catalog', async () => {
      const r = await call('POST', `${fake.authUrl}/auth/tokens`, { body: passwordAuth(fake) });
      assert.equal(r.status, 201);
      assert.match(r.headers.get('x-subject-token') ?? '', /^gAAAAA/);
      const t = r.body.token;
      assert.deepEqual(t.methods, ['password']);
      assert.equal(t.user.name, fake.state.user.name);
      assert.deepEqual(t.user.domain, { id: 'default', name: 'Default' });
      assert.equal(t.project.id, fake.state.project.id);
      assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(Array.isArray(t.roles) && t.roles.length > 0);
      const types = (t.catalog as Catalog).map((c) => c.type).sort();
      assert.deepEqual(types, ['block-storage', 'compute', 'identity', 'image', 'network', 'volumev3']);
      for (const svc of t.catalog as Catalog) {
        assert.deepEqual(svc.endpoints.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
        for (const e of svc.endpoints) assert.equal(e.region_id, 'RegionOne');
      }
      assert.equal(endpoint(t.catalog, 'volumev3'), `${fake.url}/volume/v3/${fake.state.project.id}`);
    });

    it('application credential auth is bound to its project and may not ask for a scope', async () => {
      const ac = fake.state.appCred;
      const body = { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } };
      const r = await call('POST', `${fake.authUrl}/auth/tokens`, { body });
      assert.equal(r.status, 201);
      assert.deepEqual(r.body.token.methods, ['application_credential']);
      assert.deepEqual(r.body.token.application_credential, { id: ac.id, name: ac.name, restricted: true });
      assert.equal(r.body.token.project.id, fake.state.project.id);
      assert.ok(r.body.token.catalog.length > 0);
      const byName = { auth: { identity: { methods: ['application_credential'], application_credential: { name: ac.name, secret: ac.secret, user: { name: fake.state.user.name, domain: { id: 'default' } } } } } };
      assert.equal((await call('POST', `${fake.authUrl}/auth/tokens`, { body: byName })).status, 201);
      const scoped = await call('POST', `${fake.authUrl}/auth/tokens`, { body: { auth: { ...body.auth, scope: { project: { id: fake.state.project.id } } } } });
      assert.equal(scoped.status, 401);
      const wrong = await call('POST', `${fake.authUrl}/auth/tokens`, { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: 'nope' } } } } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    });

    it('refuses malformed bodies with 400 and bad passwords with 401, in Keystone error shape', async () => {
      const noIdentity = await call('POST', `${fake.authUrl}/auth/tokens`, { body: { auth: {} } });
      assert.equal(noIdentity.status, 400);
      assert.equal(noIdentity.body.error.code, 400);
      assert.equal(noIdentity.body.error.title, 'Bad Request');
      assert.match(noIdentity.body.error.message, /'identity' is a required property/);
      const noDomain = await call('POST', `${fake.authUrl}/auth/tokens`, { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'mooring', password: 'x' } } } } } });
      assert.equal(noDomain.status, 400);
      assert.match(noDomain.body.error.message, /Expecting to find domain in user/);
      const badPassword = passwordAuth(fake) as { auth: { identity: { password: { user: { password: string } } } } };
      badPassword.auth.identity.password.user.password = 'wrong';
      const r = await call('POST', `${fake.authUrl}/auth/tokens`, { body: badPassword });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('x-subject-token'), null);
    });

    it('validates and revokes tokens; services answer 401 without a valid X-Auth-Token', async () => {
      const issued = await call('POST', `${fake.authUrl}/auth/tokens`, { body: passwordAuth(fake) });
      const t2 = issued.headers.get('x-subject-token') as string;
      const v = await call('GET', `${fake.authUrl}/auth/tokens`, { token, headers: { 'x-subject-token': t2 } });
      assert.equal(v.status, 200);
      assert.equal(v.body.token.project.id, fake.state.project.id);
      assert.equal((await call('DELETE', `${fake.authUrl}/auth/tokens`, { token, headers: { 'x-subject-token': t2 } })).status, 204);
      for (const t of [undefined, 'not-a-token', t2]) {
        const r = await call('GET', `${nova}/servers`, t ? { token: t } : {});
        assert.equal(r.status, 401);
        assert.equal(r.body.error.code, 401);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
      }
      assert.equal((await call('GET', `${neutron}/networks`)).status, 401);
      assert.equal((await call('GET', `${cinder}/volumes`)).status, 401);
    });

    it('expires tokens after tokenTtlMs', async () => {
      const short = await startOpenStackFake({ tokenTtlMs: 400 });
      try {
        const r = await call('POST', `${short.authUrl}/auth/tokens`, { body: passwordAuth(short) });
        const t = r.headers.get('x-subject-token') as string;
        const computeUrl = endpoint(r.body.token.catalog, 'compute');
        assert.equal((await call('GET', `${computeUrl}/flavors`, { token: t })).status, 200);
        await new Promise((res) => setTimeout(res, 450));
        assert.equal((await call('GET', `${computeUrl}/flavors`, { token: t })).status, 401);
      } finally {
        await short.close();
      }
    });
  });

  describe('Neutron, Nova and Cinder: a small cluster with a VIP', () => {
    let networkId: string;
    let subnetId: string;
    let routerId: string;
    let sgId: string;
    let vipPort: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    let nodePortId: string;
    let serverId: string;

    it('creates a network and a subnet with Neutron defaults (gateway .1, DHCP port takes .2)', async () => {
      const n = await call('POST', `${neutron}/networks`, { token, body: { network: { name: 'mooring-net' } } });
      assert.equal(n.status, 201);
      assert.equal(n.body.network.status, 'ACTIVE');
      assert.equal(n.body.network['router:external'], false);
      assert.equal(n.body.network.project_id, fake.state.project.id);
      networkId = n.body.network.id;
      const s = await call('POST', `${neutron}/subnets`, { token, body: { subnet: { network_id: networkId, ip_version: 4, cidr: '10.20.0.0/24', name: 'mooring-subnet' } } });
      assert.equal(s.status, 201);
      assert.equal(s.body.subnet.gateway_ip, '10.20.0.1');
      assert.deepEqual(s.body.subnet.allocation_pools, [{ start: '10.20.0.2', end: '10.20.0.254' }]);
      assert.equal(s.body.subnet.enable_dhcp, true);
      subnetId = s.body.subnet.id;
      const dhcp = await call('GET', `${neutron}/ports?device_owner=network:dhcp&network_id=${networkId}`, { token });
      assert.deepEqual(dhcp.body.ports.map((p: { fixed_ips: { ip_address: string }[] }) => p.fixed_ips[0]?.ip_address), ['10.20.0.2']);
      const listed = await call('GET', `${neutron}/networks?name=mooring-net`, { token });
      assert.deepEqual(listed.body.networks.map((x: { id: string }) => x.id), [networkId]);
    });

    it('refuses bad Neutron bodies with NeutronError: missing, unknown and malformed attributes', async () => {
      const missing = await call('POST', `${neutron}/subnets`, { token, body: { subnet: { network_id: networkId, ip_version: 4 } } });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body, { NeutronError: { type: 'HTTPBadRequest', message: "Failed to parse request. Required attribute 'cidr' not specified", detail: '' } });
      const unknown = await call('POST', `${neutron}/networks`, { token, body: { network: { name: 'x', colour: 'blue' } } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.NeutronError.message, /Unrecognized attribute\(s\) 'colour'/);
      const overlap = await call('POST', `${neutron}/subnets`, { token, body: { subnet: { network_id: networkId, ip_version: 4, cidr: '10.20.0.128/25' } } });
      assert.equal(overlap.status, 400);
      assert.equal(overlap.body.NeutronError.type, 'InvalidInput');
      const hostBits = await call('POST', `${neutron}/subnets`, { token, body: { subnet: { network_id: networkId, ip_version: 4, cidr: '10.30.0.5/24' } } });
      assert.equal(hostBits.status, 400);
      assert.match(hostBits.body.NeutronError.message, /'10\.30\.0\.0\/24' is recommended/);
      const missingNet = await call('GET', `${neutron}/networks/00000000-0000-0000-0000-000000000000`, { token });
      assert.equal(missingNet.status, 404);
      assert.equal(missingNet.body.NeutronError.type, 'NetworkNotFound');
    });

    it('routes the subnet to the external network', async () => {
      const ext = await call('GET', `${neutron}/networks?router:external=true`, { token });
      assert.equal(ext.body.networks.length, 1);
      const extId = ext.body.networks[0].id as string;
      const r = await call('POST', `${neutron}/routers`, { token, body: { router: { name: 'mooring-router', external_gateway_info: { network_id: extId } } } });
      assert.equal(r.status, 201);
      assert.equal(r.body.router.external_gateway_info.network_id, extId);
      assert.match(r.body.router.external_gateway_info.external_fixed_ips[0].ip_address, /^203\.0\.113\./);
      routerId = r.body.router.id;
      const i = await call('PUT', `${neutron}/routers/${routerId}/add_router_interface`, { token, body: { subnet_id: subnetId } });
      assert.equal(i.status, 200);
      assert.equal(i.body.id, routerId);
      assert.equal(i.body.subnet_id, subnetId);
      assert.deepEqual(i.body.subnet_ids, [subnetId]);
      assert.equal(i.body.network_id, networkId);
      const port = await call('GET', `${neutron}/ports/${i.body.port_id}`, { token });
      assert.equal(port.body.port.device_owner, 'network:router_interface');
      assert.deepEqual(port.body.port.fixed_ips, [{ subnet_id: subnetId, ip_address: '10.20.0.1' }]);
      const twice = await call('PUT', `${neutron}/routers/${routerId}/add_router_interface`, { token, body: { subnet_id: subnetId } });
      assert.equal(twice.status, 400);
      const del = await call('DELETE', `${neutron}/ports/${i.body.port_id}`, { token });
      assert.equal(del.status, 409);
      assert.equal(del.body.NeutronError.type, 'L3PortInUse');
    });

    it('creates a security group with default egress rules and checks rules like Neutron', async () => {
      const g = await call('POST', `${neutron}/security-groups`, { token, body: { security_group: { name: 'mooring-gateways', description: 'API and ingress' } } });
      assert.equal(g.status, 201);
      sgId = g.body.security_group.id;
      assert.deepEqual(g.body.security_group.security_group_rules.map((r: { direction: string; ethertype: string }) => `${r.direction}/${r.ethertype}`).sort(), ['egress/IPv4', 'egress/IPv6']);
      const rule = { security_group_id: sgId, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 6443, port_range_max: 6443, remote_ip_prefix: '10.20.0.0/24' };
      const r = await call('POST', `${neutron}/security-group-rules`, { token, body: { security_group_rule: rule } });
      assert.equal(r.status, 201);
      assert.deepEqual({ ...r.body.security_group_rule, id: undefined, created_at: undefined, updated_at: undefined }, {
        ...rule, id: undefined, remote_group_id: null, description: '', project_id: fake.state.project.id, tenant_id: fake.state.project.id, created_at: undefined, updated_at: undefined, revision_number: 1, tags: [],
      });
      const dup = await call('POST', `${neutron}/security-group-rules`, { token, body: { security_group_rule: rule } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.NeutronError.type, 'SecurityGroupRuleExists');
      assert.match(dup.body.NeutronError.message, new RegExp(`Rule id is ${r.body.security_group_rule.id}`));
      const noProto = await call('POST', `${neutron}/security-group-rules`, { token, body: { security_group_rule: { security_group_id: sgId, direction: 'ingress', port_range_min: 80, port_range_max: 80 } } });
      assert.equal(noProto.body.NeutronError.type, 'SecurityGroupProtocolRequiredWithPorts');
      const reversed = await call('POST', `${neutron}/security-group-rules`, { token, body: { security_group_rule: { security_group_id: sgId, direction: 'ingress', protocol: 'tcp', port_range_min: 443, port_range_max: 80 } } });
      assert.equal(reversed.body.NeutronError.type, 'SecurityGroupInvalidPortRange');
      const bothRemotes = await call('POST', `${neutron}/security-group-rules`, { token, body: { security_group_rule: { security_group_id: sgId, direction: 'ingress', remote_group_id: sgId, remote_ip_prefix: '0.0.0.0/0' } } });
      assert.equal(bothRemotes.body.NeutronError.type, 'SecurityGroupRemoteGroupAndRemoteIpPrefix');
    });

    it('creates the VIP port and a node port that allows the VIP in allowed_address_pairs', async () => {
      const vip = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: networkId, name: 'mooring-vip', fixed_ips: [{ subnet_id: subnetId }] } } });
      assert.equal(vip.status, 201);
      vipPort = vip.body.port;
      assert.equal(vipPort.fixed_ips[0].ip_address, '10.20.0.3');
      assert.equal(vipPort.status, 'DOWN');
      assert.equal(vipPort.device_owner, '');
      assert.match(vipPort.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
      const node = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: networkId, name: 'gw1', security_groups: [sgId], allowed_address_pairs: [{ ip_address: vipPort.fixed_ips[0].ip_address }] } } });
      assert.equal(node.status, 201);
      const p = node.body.port;
      nodePortId = p.id;
      assert.deepEqual(p.allowed_address_pairs, [{ ip_address: '10.20.0.3', mac_address: p.mac_address }]);
      assert.deepEqual(p.security_groups, [sgId]);
      assert.equal(p.port_security_enabled, true);
      const own = await call('PUT', `${neutron}/ports/${p.id}`, { token, body: { port: { allowed_address_pairs: [{ ip_address: p.fixed_ips[0].ip_address }] } } });
      assert.equal(own.status, 400);
      assert.equal(own.body.NeutronError.type, 'AddressPairMatchesPortFixedIPAndMac');
      const noIp = await call('PUT', `${neutron}/ports/${p.id}`, { token, body: { port: { allowed_address_pairs: [{ mac_address: p.mac_address }] } } });
      assert.equal(noIp.body.NeutronError.type, 'AllowedAddressPairsMissingIP');
      const noSecurity = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: networkId, port_security_enabled: false, allowed_address_pairs: [{ ip_address: '10.20.0.3' }] } } });
      assert.equal(noSecurity.status, 409);
      assert.equal(noSecurity.body.NeutronError.type, 'AddressPairAndPortSecurityRequired');
      const taken = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: networkId, fixed_ips: [{ ip_address: '10.20.0.3' }] } } });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.NeutronError.type, 'IpAddressAlreadyAllocated');
      const noNetwork = await call('POST', `${neutron}/ports`, { token, body: { port: { name: 'x' } } });
      assert.equal(noNetwork.status, 400);
      assert.match(noNetwork.body.NeutronError.message, /Required attribute 'network_id' not specified/);
      const byIp = await call('GET', `${neutron}/ports?fixed_ips=ip_address%3D10.20.0.3`, { token });
      assert.deepEqual(byIp.body.ports.map((x: { id: string }) => x.id), [vipPort.id]);
    });

    it('associates a floating IP with the VIP port; DOWN until the L3 agent makes it ACTIVE', async () => {
      const f = await call('POST', `${neutron}/floatingips`, { token, body: { floatingip: { floating_network_id: fake.state.externalNetworkId, port_id: vipPort.id } } });
      assert.equal(f.status, 201);
      const fip = f.body.floatingip;
      assert.match(fip.floating_ip_address, /^203\.0\.113\./);
      assert.equal(fip.port_id, vipPort.id);
      assert.equal(fip.fixed_ip_address, '10.20.0.3');
      assert.equal(fip.router_id, routerId);
      assert.equal(fip.status, 'DOWN');
      assert.equal(fip.port_details.network_id, networkId);
      assert.equal((await call('GET', `${neutron}/floatingips/${fip.id}`, { token })).body.floatingip.status, 'DOWN');
      assert.equal((await call('GET', `${neutron}/floatingips/${fip.id}`, { token })).body.floatingip.status, 'ACTIVE');
      const off = await call('PUT', `${neutron}/floatingips/${fip.id}`, { token, body: { floatingip: { port_id: null } } });
      assert.equal(off.status, 200);
      assert.deepEqual([off.body.floatingip.port_id, off.body.floatingip.fixed_ip_address, off.body.floatingip.status], [null, null, 'DOWN']);
      const on = await call('PUT', `${neutron}/floatingips/${fip.id}`, { token, body: { floatingip: { port_id: vipPort.id } } });
      assert.equal(on.body.floatingip.fixed_ip_address, '10.20.0.3');
    });

    it('refuses a floating IP for a port whose subnet has no router to the external network', async () => {
      const n = await call('POST', `${neutron}/networks`, { token, body: { network: { name: 'isolated' } } });
      await call('POST', `${neutron}/subnets`, { token, body: { subnet: { network_id: n.body.network.id, ip_version: 4, cidr: '10.99.0.0/24', enable_dhcp: false } } });
      const p = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: n.body.network.id } } });
      const f = await call('POST', `${neutron}/floatingips`, { token, body: { floatingip: { floating_network_id: fake.state.externalNetworkId, port_id: p.body.port.id } } });
      assert.equal(f.status, 404);
      assert.equal(f.body.NeutronError.type, 'ExternalGatewayForFloatingIPNotFound');
      const notExternal = await call('POST', `${neutron}/floatingips`, { token, body: { floatingip: { floating_network_id: networkId } } });
      assert.equal(notExternal.status, 400);
      assert.equal((await call('DELETE', `${neutron}/ports/${p.body.port.id}`, { token })).status, 204);
      assert.equal((await call('DELETE', `${neutron}/networks/${n.body.network.id}`, { token })).status, 204);
    });

    it('boots a server on the node port; BUILD for two polls, then ACTIVE with the port address', async () => {
      const kp = await call('POST', `${nova}/os-keypairs`, { token, body: { keypair: { name: 'mooring', public_key: sshPublicKey() } } });
      assert.equal(kp.status, 200);
      assert.match(kp.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
      const bad = await call('POST', `${nova}/os-keypairs`, { token, body: { keypair: { name: 'junk', public_key: 'ssh-rsa notakey' } } });
      assert.equal(bad.status, 400);
      const image = fake.state.images[0]?.id;
      const c = await call('POST', `${nova}/servers`, {
        token,
        body: { server: { name: 'gw1', flavorRef: '2', imageRef: image, key_name: 'mooring', networks: [{ port: nodePortId }], user_data: Buffer.from('#cloud-config\n').toString('base64'), metadata: { cluster: 'lab' } } },
      });
      assert.equal(c.status, 202);
      assert.equal(c.headers.get('openstack-api-version'), 'compute 2.1');
      serverId = c.body.server.id;
      assert.equal(c.headers.get('location'), `${nova}/servers/${serverId}`);
      assert.equal(typeof c.body.server.adminPass, 'string');
      assert.deepEqual(c.body.server.security_groups, [{ name: 'default' }]);
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        const g = await call('GET', `${nova}/servers/${serverId}`, { token });
        assert.equal(g.status, 200);
        seen.push(g.body.server.status);
        if (g.body.server.status === 'BUILD') {
          assert.equal(g.body.server['OS-EXT-STS:vm_state'], 'building');
          assert.equal(g.body.server['OS-EXT-STS:task_state'], 'spawning');
        } else break;
      }
      assert.deepEqual(seen, ['BUILD', 'BUILD', 'ACTIVE']);
      const s = (await call('GET', `${nova}/servers/${serverId}`, { token })).body.server;
      assert.equal(s['OS-EXT-STS:vm_state'], 'active');
      assert.equal(s['OS-EXT-STS:power_state'], 1);
      assert.equal(s.key_name, 'mooring');
      assert.deepEqual(s.flavor, { id: '2', links: [{ rel: 'bookmark', href: `${fake.url}/compute/flavors/2` }] });
      const port = (await call('GET', `${neutron}/ports/${nodePortId}`, { token })).body.port;
      assert.deepEqual(s.addresses['mooring-net'], [{ version: 4, addr: port.fixed_ips[0].ip_address, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port.mac_address }]);
      assert.equal(port.device_id, serverId);
      assert.equal(port.device_owner, 'compute:nova');
      assert.equal(port.status, 'ACTIVE');
      const list = await call('GET', `${nova}/servers?name=^gw`, { token });
      assert.deepEqual(list.body.servers.map((x: { id: string }) => x.id), [serverId]);
      const detail = await call('GET', `${nova}/servers/detail?status=ACTIVE`, { token });
      assert.equal(detail.body.servers[0].id, serverId);
    });

    it('negotiates microversions: flavor embedded from 2.47, networks required from 2.37, 406 beyond the maximum', async () => {
      const v247 = await call('GET', `${nova}/servers/${serverId}`, { token, headers: { 'openstack-api-version': 'compute 2.47' } });
      assert.equal(v247.headers.get('openstack-api-version'), 'compute 2.47');
      assert.deepEqual(v247.body.server.flavor, { vcpus: 1, ram: 2048, disk: 20, ephemeral: 0, swap: 0, original_name: 'm1.small', extra_specs: {} });
      const noNets = await call('POST', `${nova}/servers`, { token, headers: { 'openstack-api-version': 'compute 2.37' }, body: { server: { name: 'x', flavorRef: '2', imageRef: fake.state.images[0]?.id } } });
      assert.equal(noNets.status, 400);
      assert.match(noNets.body.badRequest.message, /'networks' is a required property/);
      const tooNew = await call('GET', `${nova}/servers`, { token, headers: { 'openstack-api-version': 'compute 3.0' } });
      assert.equal(tooNew.status, 406);
    });

    it('refuses bad server requests in Nova fault shape: missing flavorRef, port in use, unknown image', async () => {
      const noFlavor = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'x', imageRef: fake.state.images[0]?.id, networks: 'none' } } });
      assert.equal(noFlavor.status, 400);
      assert.equal(noFlavor.body.badRequest.code, 400);
      assert.match(noFlavor.body.badRequest.message, /'flavorRef' is a required property/);
      const inUse = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'gw2', flavorRef: '2', imageRef: fake.state.images[0]?.id, networks: [{ port: nodePortId }] } } });
      assert.equal(inUse.status, 409);
      assert.deepEqual(inUse.body, { conflictingRequest: { code: 409, message: `Port ${nodePortId} is still in use.` } });
      const noImage = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'x', flavorRef: '2', imageRef: 'nope', networks: 'none' } } });
      assert.equal(noImage.status, 400);
      const portsBefore = fake.state.ports.size;
      const badSecond = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'x', flavorRef: '2', imageRef: fake.state.images[0]?.id, networks: [{ uuid: networkId }, { port: nodePortId }] } } });
      assert.equal(badSecond.status, 409);
      assert.equal(fake.state.ports.size, portsBefore, 'a refused boot leaves no port behind');
      const gone = await call('GET', `${nova}/servers/00000000-0000-0000-0000-000000000000`, { token });
      assert.equal(gone.status, 404);
      assert.match(gone.body.itemNotFound.message, /could not be found/);
    });

    it('shows the floating IP among the server addresses once the VIP moves to the node port', async () => {
      const fips = await call('GET', `${neutron}/floatingips?port_id=${vipPort.id}`, { token });
      const fipId = fips.body.floatingips[0].id as string;
      await call('PUT', `${neutron}/floatingips/${fipId}`, { token, body: { floatingip: { port_id: nodePortId } } });
      const s = (await call('GET', `${nova}/servers/${serverId}`, { token })).body.server;
      const types = s.addresses['mooring-net'].map((a: Record<string, string>) => a['OS-EXT-IPS:type']);
      assert.deepEqual(types, ['fixed', 'floating']);
      await call('PUT', `${neutron}/floatingips/${fipId}`, { token, body: { floatingip: { port_id: vipPort.id } } });
    });

    it('creates a volume creating→available, attaches it attaching→in-use, detaches and deletes it', async () => {
      const c = await call('POST', `${cinder}/volumes`, { token, body: { volume: { size: 10, name: 'etcd-data' } } });
      assert.equal(c.status, 202);
      const vol = c.body.volume;
      assert.equal(vol.status, 'creating');
      assert.equal(vol.size, 10);
      assert.equal(vol.bootable, 'false');
      assert.deepEqual(vol.attachments, []);
      assert.match(vol.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'creating');
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'available');
      const a = await call('POST', `${nova}/servers/${serverId}/os-volume_attachments`, { token, body: { volumeAttachment: { volumeId: vol.id } } });
      assert.equal(a.status, 200);
      assert.deepEqual(a.body.volumeAttachment, { id: vol.id, serverId, volumeId: vol.id, device: '/dev/vdb' });
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'attaching');
      const inUse = (await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume;
      assert.equal(inUse.status, 'in-use');
      assert.equal(inUse.attachments[0].server_id, serverId);
      assert.equal(inUse.attachments[0].device, '/dev/vdb');
      const refused = await call('DELETE', `${cinder}/volumes/${vol.id}`, { token });
      assert.equal(refused.status, 400);
      assert.match(refused.body.badRequest.message, /^Invalid volume: Volume status must be available/);
      assert.equal((await call('DELETE', `${nova}/servers/${serverId}/os-volume_attachments/${vol.id}`, { token })).status, 202);
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'detaching');
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'available');
      assert.equal((await call('DELETE', `${cinder}/volumes/${vol.id}`, { token })).status, 202);
      assert.equal((await call('GET', `${cinder}/volumes/${vol.id}`, { token })).body.volume.status, 'deleting');
      const gone = await call('GET', `${cinder}/volumes/${vol.id}`, { token });
      assert.equal(gone.status, 404);
      assert.deepEqual(gone.body, { itemNotFound: { code: 404, message: `Volume ${vol.id} could not be found.` } });
    });

    it('refuses bad Cinder requests: missing size, another project in the URL', async () => {
      const noSize = await call('POST', `${cinder}/volumes`, { token, body: { volume: { name: 'x' } } });
      assert.equal(noSize.status, 400);
      assert.match(noSize.body.badRequest.message, /size/);
      const other = await call('GET', `${fake.url}/volume/v3/${'0'.repeat(32)}/volumes`, { token });
      assert.equal(other.status, 403);
    });

    it('ends a build in ERROR with a fault when told to fail', async () => {
      fake.state.failNextBuild('No valid host was found.');
      const c = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'doomed', flavorRef: '2', imageRef: fake.state.images[0]?.id, networks: [{ uuid: networkId }] } } });
      assert.equal(c.status, 202);
      let s: any; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (let i = 0; i < 4; i++) s = (await call('GET', `${nova}/servers/${c.body.server.id}`, { token })).body.server;
      assert.equal(s.status, 'ERROR');
      assert.equal(s.fault.message, 'No valid host was found.');
      assert.equal(s.fault.code, 500);
      assert.equal((await call('DELETE', `${nova}/servers/${c.body.server.id}`, { token })).status, 204);
    });

    it('deletes a server: gone after a while, its own ports deleted, ports handed in released', async () => {
      const c = await call('POST', `${nova}/servers`, { token, body: { server: { name: 'w1', flavorRef: '2', imageRef: fake.state.images[0]?.id, networks: [{ uuid: networkId }] } } });
      const id = c.body.server.id as string;
      const own = (await call('GET', `${neutron}/ports?device_id=${id}`, { token })).body.ports;
      assert.equal(own.length, 1);
      assert.equal((await call('DELETE', `${nova}/servers/${serverId}`, { token })).status, 204);
      assert.equal((await call('DELETE', `${nova}/servers/${id}`, { token })).status, 204);
      const during = await call('GET', `${nova}/servers/${id}`, { token });
      assert.equal(during.body.server['OS-EXT-STS:task_state'], 'deleting');
      assert.equal((await call('GET', `${nova}/servers/${id}`, { token })).status, 404);
      assert.equal((await call('GET', `${nova}/servers/${serverId}`, { token })).body.server['OS-EXT-STS:task_state'], 'deleting');
      assert.equal((await call('GET', `${nova}/servers/${serverId}`, { token })).status, 404);
      assert.equal((await call('GET', `${neutron}/ports/${own[0].id}`, { token })).status, 404);
      const released = (await call('GET', `${neutron}/ports/${nodePortId}`, { token })).body.port;
      assert.deepEqual([released.device_id, released.device_owner, released.status], ['', '', 'DOWN']);
    });
  });

  describe('fault injection', () => {
    it('429 with Retry-After in Nova shape, once, then the call succeeds', async () => {
      fake.faults.inject({ method: 'GET', pathPattern: '/compute/v2\\.1/flavors$', status: 429, retryAfterSeconds: 7 });
      const r = await call('GET', `${nova}/flavors`, { token });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.equal(r.body.overLimit.code, 429);
      assert.ok(r.headers.get('x-openstack-request-id')?.startsWith('req-'));
      assert.equal((await call('GET', `${nova}/flavors`, { token })).status, 200);
    });

    it('409 on a Neutron path comes back as a NeutronError; 503 on Keystone twice, then a token', async () => {
      fake.faults.inject({ method: 'POST', pathPattern: '/network/v2\\.0/ports$', status: 409, message: 'Conflict injected by test' });
      const r = await call('POST', `${neutron}/ports`, { token, body: { port: { network_id: netId() } } });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, { NeutronError: { type: 'HTTPConflict', message: 'Conflict injected by test', detail: '' } });
      fake.faults.inject({ pathPattern: '/identity/v3/auth/tokens', status: 503, times: 2, retryAfterSeconds: 1 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await call('POST', `${fake.authUrl}/auth/tokens`, { body: passwordAuth(fake) })).status);
      assert.deepEqual(statuses, [503, 503, 201]);
    });

    it('skip lets the first matching requests through', async () => {
      fake.faults.inject({ pathPattern: '/compute/v2\\.1/flavors/detail', status: 500, skip: 1 });
      assert.equal((await call('GET', `${nova}/flavors/detail`, { token })).status, 200);
      const r = await call('GET', `${nova}/flavors/detail`, { token });
      assert.equal(r.status, 500);
      assert.equal(r.body.computeFault.code, 500);
    });

    it('hang never answers: the client times out, the fake records it and keeps serving', async () => {
      fake.faults.inject({ method: 'GET', pathPattern: '/compute/v2\\.1/servers$', hang: true });
      await assert.rejects(call('GET', `${nova}/servers`, { token, signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
      assert.equal(fake.requests.at(-1)?.status, 'hang');
      assert.equal((await call('GET', `${nova}/servers`, { token })).status, 200);
    });

    it('drop resets the connection without an answer', async () => {
      fake.faults.inject({ pathPattern: '/network/v2\\.0/routers$', drop: true });
      await assert.rejects(call('GET', `${neutron}/routers`, { token }), TypeError);
      assert.equal((await call('GET', `${neutron}/routers`, { token })).status, 200);
    });

    it('the HTTP control API injects, lists and clears faults, and names a bad field', async () => {
      const add = await call('POST', `${fake.url}/_fake/faults`, { body: { method: 'GET', pathPattern: '/volume/', status: 503, times: 'forever' } });
      assert.equal(add.status, 201);
      assert.equal((await call('GET', `${cinder}/volumes`, { token })).status, 503);
      assert.equal((await call('GET', `${cinder}/volumes`, { token })).status, 503);
      const listed = await call('GET', `${fake.url}/_fake/faults`);
      assert.equal(listed.body.faults.length, 1);
      assert.equal(listed.body.faults[0].id, add.body.id);
      assert.equal((await call('DELETE', `${fake.url}/_fake/faults/${add.body.id}`)).status, 200);
      assert.equal((await call('GET', `${cinder}/volumes`, { token })).status, 200);
      const bad = await call('POST', `${fake.url}/_fake/faults`, { body: { pathPattern: '/x', status: 200 } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /fault rule\.status/);
      const fail = await call('POST', `${fake.url}/_fake/openstack/fail-next-build`, { body: { message: 'from another process' } });
      assert.equal(fail.status, 201);
      assert.equal(fake.state.buildFailures.shift(), 'from another process');
    });

    it('close() releases a hung request, and a fake refuses a non-loopback address', async () => {
      const other = await startOpenStackFake();
      other.faults.inject({ pathPattern: '/identity/v3', hang: true });
      // The outcome is caught at once, so the rejection is never unhandled while close() runs.
      const pending = call('GET', `${other.authUrl}`).then(() => 'answered', (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      await other.close();
      assert.ok((await pending) instanceof Error, 'the hung request fails once the fake closes');
      await assert.rejects(startOpenStackFake({ host: '0.0.0.0' }), /not a loopback address/);
    });
  });

  function netId(): string {
    const n = [...fake.state.networks.values()].find((x) => x.name === 'mooring-net');
    assert.ok(n);
    return n.id;
  }
});

describe('OpenStack fake additions for the cloud phase (SIMULATED Glance, Nova server groups and tags, Neutron tags)', () => {
  let fake: OpenStackFake;
  let token: string;
  let catalog: Catalog;
  const dupA = '11111111-1111-4111-8111-111111111111';
  const dupB = '22222222-2222-4222-8222-222222222222';

  before(async () => {
    fake = await startOpenStackFake({ host: '127.0.0.1', port: 0, images: [{ id: dupA, name: 'dup' }, { id: dupB, name: 'dup' }, { id: '33333333-3333-4333-8333-333333333333', name: 'old', status: 'deactivated' }], timing: { serverBuild: { afterPolls: 1 } } });
    const r = await call('POST', `${fake.authUrl}/auth/tokens`, { body: passwordAuth(fake) });
    token = r.headers.get('x-subject-token') as string;
    catalog = r.body.token.catalog;
  });
  after(async () => { await fake.close(); });

  it('Glance lists images by name and status (names need not be unique) and shows one by id', async () => {
    const glance = endpoint(catalog, 'image');
    assert.equal(glance, `${fake.url}/image`);
    const dups = await call('GET', `${glance}/v2/images?name=dup`, { token });
    assert.equal(dups.status, 200);
    assert.deepEqual(dups.body.images.map((i: { id: string }) => i.id).sort(), [dupA, dupB]);
    assert.equal(dups.body.images[0].status, 'active');
    assert.deepEqual((await call('GET', `${glance}/v2/images?name=old&status=active`, { token })).body.images, []);
    assert.equal((await call('GET', `${glance}/v2/images/${dupA}`, { token })).body.name, 'dup');
    assert.equal((await call('GET', `${glance}/v2/images/nope`, { token })).status, 404);
    assert.equal((await call('GET', `${glance}/v2/images?bogus=1`, { token })).status, 400);
    assert.equal((await call('GET', `${glance}/v2/images`)).status, 401);
  });

  it('Nova server groups: policy at 2.64, policies before; the scheduler hint makes a member; an unknown group is refused', async () => {
    const nova = endpoint(catalog, 'compute');
    const v264 = { 'openstack-api-version': 'compute 2.64' };
    const g = await call('POST', `${nova}/os-server-groups`, { token, headers: v264, body: { server_group: { name: 'c-group-master', policy: 'anti-affinity' } } });
    assert.equal(g.status, 200);
    assert.equal(g.body.server_group.policy, 'anti-affinity');
    assert.equal((await call('POST', `${nova}/os-server-groups`, { token, headers: v264, body: { server_group: { name: 'x', policies: ['anti-affinity'] } } })).status, 400);
    const old = await call('POST', `${nova}/os-server-groups`, { token, body: { server_group: { name: 'old', policies: ['affinity'] } } });
    assert.deepEqual(old.body.server_group.policies, ['affinity']);
    const image = fake.state.images[0]!.id;
    const boot = await call('POST', `${nova}/servers`, { token, headers: v264, body: { server: { name: 'c-m1', imageRef: image, flavorRef: '2', networks: 'none', tags: ['mooring-cluster=c'] }, 'os:scheduler_hints': { group: g.body.server_group.id } } });
    assert.equal(boot.status, 202);
    const shown = await call('GET', `${nova}/os-server-groups/${g.body.server_group.id}`, { token, headers: v264 });
    assert.deepEqual(shown.body.server_group.members, [boot.body.server.id]);
    const tagged = await call('GET', `${nova}/servers/detail?tags=mooring-cluster=c`, { token, headers: v264 });
    assert.deepEqual(tagged.body.servers.map((s: { id: string; tags: string[] }) => [s.id, s.tags]), [[boot.body.server.id, ['mooring-cluster=c']]]);
    const badGroup = await call('POST', `${nova}/servers`, { token, headers: v264, body: { server: { name: 'c-m2', imageRef: image, flavorRef: '2', networks: 'none' }, 'os:scheduler_hints': { group: 'nope' } } });
    assert.equal(badGroup.status, 400);
    const oldTags = await call('POST', `${nova}/servers`, { token, headers: { 'openstack-api-version': 'compute 2.51' }, body: { server: { name: 'c-m3', imageRef: image, flavorRef: '2', networks: 'none', tags: ['a'] } } });
    assert.equal(oldTags.status, 400, 'tags at create need 2.52');
  });

  it('Neutron tags: replace with PUT …/tags, add one, filter lists with tags and tags-any', async () => {
    const neutron = `${endpoint(catalog, 'network')}/v2.0`;
    const a = (await call('POST', `${neutron}/networks`, { token, body: { network: { name: 'a' } } })).body.network;
    const b = (await call('POST', `${neutron}/networks`, { token, body: { network: { name: 'b' } } })).body.network;
    const put = await call('PUT', `${neutron}/networks/${a.id}/tags`, { token, body: { tags: ['mooring-cluster=c', 'x'] } });
    assert.deepEqual(put.body.tags, ['mooring-cluster=c', 'x']);
    assert.equal((await call('PUT', `${neutron}/networks/${b.id}/tags/x`, { token })).status, 201);
    const names = async (q: string) => (await call('GET', `${neutron}/networks?${q}`, { token })).body.networks.map((n: { name: string }) => n.name).sort();
    assert.deepEqual(await names('tags=mooring-cluster%3Dc,x'), ['a']);
    assert.deepEqual(await names('tags=x'), ['a', 'b']);
    assert.deepEqual(await names('tags-any=mooring-cluster%3Dc,y'), ['a']);
    assert.equal((await call('GET', `${neutron}/networks/${b.id}/tags/nope`, { token })).status, 404);
    assert.equal((await call('PUT', `${neutron}/networks/${a.id}/tags`, { token, body: { tags: ['bad,tag'] } })).status, 400);
    assert.equal((await call('PUT', `${neutron}/widgets/${a.id}/tags`, { token, body: { tags: [] } })).status, 404);
  });
});
