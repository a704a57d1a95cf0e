// The SIMULATED OpenStack fake's lab hooks (machines behind servers) and lab address plan
// (floating IPs with the fixed IP's host part), and the cloud-init reading of the lab bridge: no
// lab here, the hooks are recorded and resolved by the test, so each step can be seen waiting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOpenStackFake, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import type { StartedMachine } from '../../lab/fakes/openstack/state.js';
import { cloudInitUserData } from '../../activities/cloud/cloud-init.js';
import { deriveHostKey } from '../../activities/cloud/host-keys.js';
import { readCloudConfig } from '../../lab/cloud-nodes/user-data.js';
import { labExternalNetwork } from '../../lab/cloud-nodes/openstack.js';
import { sshPublicKey } from '../helpers/openstack-seeds.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Deferred { resolve(): void; reject(e: Error): void; promise: Promise<void> }
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { resolve, reject, promise };
}

describe('OpenStack fake: machines behind servers and the lab address plan (SIMULATED)', () => {
  let fake: OpenStackFake;
  let token: string;
  let nova: string;
  let neutron: string;
  const started: { machine: StartedMachine; d: Deferred }[] = [];
  const stopped: { name: string; d: Deferred }[] = [];
  const key = deriveHostKey(Buffer.alloc(32, 3), 'lab', 'gateway-1');
  const operatorKey = sshPublicKey();

  const call = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: Body }> => {
    const res = await fetch(url, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json', accept: 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as Body : {} };
  };
  const serverStatus = async (id: string) => (await call('GET', `${nova}/servers/${id}`)).body.server?.status as string | undefined;

  before(async () => {
    fake = await startOpenStackFake({
      host: '127.0.0.1', port: 0, timing: { serverBuild: { afterPolls: 1 }, serverDelete: { afterPolls: 1 }, floatingIp: { afterPolls: 1 } },
      externalNetwork: labExternalNetwork({ tag: 'x', lan: 15, loopback: '127.85.0' }),
      machines: {
        started: (machine) => { const d = deferred(); started.push({ machine, d }); return d.promise; },
        stopped: (m) => { const d = deferred(); stopped.push({ name: m.serverName, d }); return d.promise; },
      },
    });
    const s = fake.state;
    const auth = await fetch(`${fake.authUrl}/auth/tokens`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: s.user.name, domain: { name: 'Default' }, password: s.user.password } } }, scope: { project: { name: s.project.name, domain: { id: 'default' } } } } }),
    });
    token = auth.headers.get('x-subject-token')!;
    nova = `${fake.url}/compute/v2.1`;
    neutron = `${fake.url}/network/v2.0`;
  });
  after(async () => { await fake?.close(); });

  let portId: string;
  let serverId: string;

  it('gives a port\'s floating IP the host part of its fixed IP; the router\'s gateway comes from the pool', async () => {
    const net = (await call('POST', `${neutron}/networks`, { network: { name: 'lab' } })).body.network.id as string;
    const subnet = (await call('POST', `${neutron}/subnets`, { subnet: { network_id: net, ip_version: 4, cidr: '10.77.15.0/24', allocation_pools: [{ start: '10.77.15.150', end: '10.77.15.160' }] } })).body.subnet.id as string;
    const router = (await call('POST', `${neutron}/routers`, { router: { name: 'r', external_gateway_info: { network_id: fake.state.externalNetworkId } } })).body.router;
    assert.equal(router.external_gateway_info.external_fixed_ips[0].ip_address, '127.85.0.200');
    await call('PUT', `${neutron}/routers/${router.id as string}/add_router_interface`, { subnet_id: subnet });
    const port = (await call('POST', `${neutron}/ports`, { port: { network_id: net, fixed_ips: [{ ip_address: '10.77.15.2' }] } })).body.port;
    portId = port.id as string;
    const fip = await call('POST', `${neutron}/floatingips`, { floatingip: { floating_network_id: fake.state.externalNetworkId, port_id: portId } });
    assert.equal(fip.status, 201);
    assert.equal(fip.body.floatingip.floating_ip_address, '127.85.0.2');
    // Its host part taken (the router holds .200): the pool decides, as Neutron would; so without a port.
    const other = (await call('POST', `${neutron}/ports`, { port: { network_id: net, fixed_ips: [{ ip_address: '10.77.15.200' }] } })).body.port;
    const taken = await call('POST', `${neutron}/floatingips`, { floatingip: { floating_network_id: fake.state.externalNetworkId, port_id: other.id } });
    assert.equal(taken.body.floatingip.floating_ip_address, '127.85.0.201');
    const unbound = await call('POST', `${neutron}/floatingips`, { floatingip: { floating_network_id: fake.state.externalNetworkId } });
    assert.equal(unbound.body.floatingip.floating_ip_address, '127.85.0.202');
  });

  it('keeps a server in BUILD until the machine behind it booted, handing it user data, addresses and the key pair', async () => {
    await call('POST', `${nova}/os-keypairs`, { keypair: { name: 'operator', public_key: operatorKey } });
    const userData = cloudInitUserData({ name: 'gateway-1', hostKey: key });
    const c = await call('POST', `${nova}/servers`, { server: { name: 'lab-gateway-1', flavorRef: '2', imageRef: fake.state.images[0]!.id, key_name: 'operator', networks: [{ port: portId }], user_data: Buffer.from(userData).toString('base64') } });
    assert.equal(c.status, 202);
    serverId = c.body.server.id as string;
    for (let i = 0; i < 4; i++) assert.equal(await serverStatus(serverId), 'BUILD');
    assert.equal(started.length, 1, 'the boot starts once, however often the server is read');
    const m = started[0]!.machine;
    assert.deepEqual({ ...m, userData: undefined }, { serverId, serverName: 'lab-gateway-1', userData: undefined, fixedIps: ['10.77.15.2'], authorizedKeys: [operatorKey], publicAddresses: ['127.85.0.2'] });
    assert.deepEqual(readCloudConfig(m.userData, 'lab-gateway-1'), { hostname: 'gateway-1', hostKey: { privateKey: key.privateKey, publicKey: key.publicKey } });
    started[0]!.d.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal(await serverStatus(serverId), 'ACTIVE');
  });

  it('a machine that does not boot is the build\'s ERROR fault', async () => {
    const c = await call('POST', `${nova}/servers`, { server: { name: 'lab-broken', flavorRef: '2', imageRef: fake.state.images[0]!.id, networks: [{ uuid: (await call('GET', `${neutron}/networks?name=lab`)).body.networks[0].id }] } });
    const id = c.body.server.id as string;
    assert.equal(await serverStatus(id), 'BUILD');
    assert.equal(await serverStatus(id), 'BUILD');
    started.at(-1)!.d.reject(new Error('sshd did not answer'));
    await new Promise((r) => setImmediate(r));
    const s = (await call('GET', `${nova}/servers/${id}`)).body.server;
    assert.equal(s.status, 'ERROR');
    assert.equal(s.fault.message, 'SIMULATED lab: the machine did not boot: sshd did not answer');
    // Deleting a server whose machine never booted still asks the lab (it may hold a half-made node).
    await call('DELETE', `${nova}/servers/${id}`);
    await serverStatus(id);
    await serverStatus(id);
    assert.equal(stopped.at(-1)?.name, 'lab-broken');
    stopped.at(-1)!.d.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal((await call('GET', `${nova}/servers/${id}`)).status, 404);
  });

  it('a deleted server is gone only once its machine halted', async () => {
    assert.equal((await call('DELETE', `${nova}/servers/${serverId}`)).status, 204);
    for (let i = 0; i < 3; i++) assert.equal((await call('GET', `${nova}/servers/${serverId}`)).status, 200);
    assert.equal(stopped.at(-1)?.name, 'lab-gateway-1');
    stopped.at(-1)!.d.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal((await call('GET', `${nova}/servers/${serverId}`)).status, 404);
  });

  it('reads cloud-init\'s hostname and ssh_keys, and names what is missing', () => {
    assert.throws(() => readCloudConfig(null, 'vm 101'), /vm 101: no user data/);
    assert.throws(() => readCloudConfig('hostname: x\n', 'vm 101'), /not a #cloud-config document/);
    assert.throws(() => readCloudConfig('#cloud-config\nhostname: x\n', 'vm 101'), /no ssh_keys\.ed25519_private \/ ed25519_public pair/);
    assert.throws(() => readCloudConfig('#cloud-config\nssh_keys: {}\n', 'vm 101'), /no hostname/);
  });
});
