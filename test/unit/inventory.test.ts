// The inventory schema: the seed examples are valid, and each kind of bad input is reported at
// its path with a message that says how to fix it, all problems at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory, parseInventory, InventoryError, type InventoryProblem } from '../../config/load.js';
import { hostsOf, etcdMembersOf, expectedPorts } from '../../config/hosts.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { scratchDir } from '../helpers/scratch.js';

const EXAMPLES = join(PROJECT_ROOT, 'config', 'examples');

// Test data is bent freely into invalid shapes, which is the point of these tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function base(): Loose {
  return {
    apiVersion: 'mooring/v1',
    cluster: { name: 'c1' },
    provider: { type: 'static' },
    ssh: { user: 'ubuntu', privateKeyPath: '/home/ubuntu/.ssh/id_ed25519', hostKeySeed: { env: 'MOORING_HOST_KEY_SEED' } },
    loadBalancer: { vip: '192.168.0.100', placement: 'gateways' },
    gateways: [{ name: 'gw-1', ip: '192.168.0.2' }, { name: 'gw-2', ip: '192.168.0.3' }],
    etcd: { version: '3.4.7', topology: 'external', members: [{ name: 'etcd-1', ip: '192.168.0.10' }, { name: 'etcd-2', ip: '192.168.0.11' }, { name: 'etcd-3', ip: '192.168.0.12' }] },
    masters: [{ name: 'master-1', ip: '192.168.0.20' }],
    workers: [{ name: 'worker-1', ip: '192.168.0.30' }],
    kubernetes: { version: '1.28.4', controlPlaneEndpoint: '192.168.0.100:6443', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'calico' },
  };
}

const openstack = (cidr: string): Loose => ({ type: 'openstack', openstack: { region: 'R', network: { name: 'n', cidr }, floatingNetwork: 'public', image: 'u', flavors: { master: 'm', worker: 'w' }, keyName: 'k' } });

function problems(mutate: (inv: Loose) => void): InventoryProblem[] {
  const inv = base();
  mutate(inv);
  try {
    parseInventory(inv);
  } catch (err) {
    assert.ok(err instanceof InventoryError);
    return err.problems;
  }
  return [];
}

describe('inventory schema', () => {
  it('accepts every example in config/examples (seeds 001, 002, 003)', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    assert.equal(files.length, 3);
    for (const f of files) {
      const inv = await loadInventory(join(EXAMPLES, f));
      assert.ok(hostsOf(inv).length >= 7, f);
      assert.equal(etcdMembersOf(inv).length, 3, f);
    }
  });

  it('transcribes seed 001: external etcd on 192.168.0.10-12 and a VIP on two gateways', async () => {
    const inv = await loadInventory(join(EXAMPLES, 'seed-001-openstack-external-etcd.yaml'));
    assert.deepEqual(inv.etcd.members.map((m) => m.ip), ['192.168.0.10', '192.168.0.11', '192.168.0.12']);
    assert.equal(inv.gateways.length, 2);
    assert.equal(inv.etcd.configPath, '/etc/etcd/etcd.conf.yaml');
    assert.equal(inv.etcd.tls.caCert, '/etc/etcd/ssl/ca.crt');
  });

  it('transcribes seed 003: stacked etcd on kube0-2, HAProxy on the masters at 10.0.1.99:60443', async () => {
    const inv = await loadInventory(join(EXAMPLES, 'seed-003-proxmox-stacked-etcd.yaml'));
    const hosts = hostsOf(inv);
    assert.deepEqual(hosts.find((h) => h.name === 'kube0')?.roles, ['master', 'etcd']);
    assert.equal(inv.kubernetes.controlPlaneEndpoint, '10.0.1.99:60443');
    assert.ok(expectedPorts(inv, ['master']).includes(60443));
    assert.equal(inv.provider.type, 'proxmox');
  });

  const cases: [string, (inv: Loose) => void, string, RegExp][] = [
    ['bad member IP', (i) => { i.etcd.members[2].ip = '192.168.0'; }, 'etcd.members[2].ip', /"192\.168\.0" is not an IPv4 address/],
    ['even etcd count', (i) => { i.etcd.members.pop(); }, 'etcd.members', /2 etcd members: use an odd number/],
    ['duplicate name', (i) => { i.workers[0].name = 'master-1'; }, 'workers[0].name', /already used by masters\[0\]/],
    ['duplicate IP', (i) => { i.workers[0].ip = '192.168.0.20'; }, 'workers[0].ip', /already used by masters\[0\]/],
    ['VIP is a host address', (i) => { i.loadBalancer.vip = '192.168.0.2'; i.kubernetes.controlPlaneEndpoint = '192.168.0.2:6443'; }, 'gateways[0].ip', /is the load balancer VIP/],
    ['endpoint not the VIP', (i) => { i.kubernetes.controlPlaneEndpoint = '192.168.0.20:6443'; }, 'kubernetes.controlPlaneEndpoint', /must be the load balancer, 192\.168\.0\.100:6443/],
    ['unsafe name', (i) => { i.masters[0].name = 'master;rm -rf /'; }, 'masters[0].name', /not a safe name/],
    ['uppercase name', (i) => { i.cluster.name = 'Prod'; }, 'cluster.name', /not a safe name/],
    ['one gateway for a VIP', (i) => { i.gateways.pop(); }, 'gateways', /two or more/],
    ['HAProxy on masters at 6443', (i) => { i.loadBalancer.placement = 'masters'; }, 'loadBalancer.apiPort', /cannot bind 6443/],
    ['stacked with members', (i) => { i.etcd.topology = 'stacked'; }, 'etcd.members', /leave etcd\.members empty/],
    ['external without members', (i) => { i.etcd.members = []; }, 'etcd.members', /needs the etcd hosts/],
    ['unknown field', (i) => { i.kubernetes.podCidr = '10.0.0.0/8'; }, 'kubernetes', /unknown field\(s\) "podCidr"/],
    ['secret as a value', (i) => { i.provider = { type: 'proxmox', proxmox: { apiUrl: 'https://pve:8006/api2/json', tokenId: 'a@pve!t', tokenSecret: 'hunter2', nodes: ['pve1'], templateVmid: 9000, storage: 's', bridge: 'vmbr0' } }; }, 'provider.proxmox.tokenSecret', /never the secret itself/],
    ['bad CIDR', (i) => { i.kubernetes.podSubnet = '10.244.0.0/33'; }, 'kubernetes.podSubnet', /not an IPv4 CIDR/],
    ['relative key path', (i) => { i.ssh.privateKeyPath = '~/.ssh/id'; }, 'ssh.privateKeyPath', /absolute path/],
    ['bad host key', (i) => { i.masters[0].hostKey = 'not a key'; }, 'masters[0].hostKey', /ssh-keyscan/],
    ['wrong provider type', (i) => { i.provider = { type: 'vmware' }; }, 'provider.type', /must be one of openstack, proxmox, static/],
    ['openstack node outside the network', (i) => { i.provider = { type: 'openstack', openstack: { region: 'R', network: { name: 'n', cidr: '192.168.0.0/28' }, floatingNetwork: 'public', image: 'u', flavors: { master: 'm', worker: 'w' } } }; }, 'masters[0].ip', /192\.168\.0\.20 is outside provider\.openstack\.network\.cidr/],
    ['pod and service subnets overlap', (i) => { i.kubernetes.podSubnet = '10.96.0.0/16'; }, 'kubernetes.serviceSubnet', /^10\.96\.0\.0\/12 overlaps the pod network 10\.96\.0\.0\/16 \(kubernetes\.podSubnet\): .*choose one that does not/],
    ['pod and service subnets the same', (i) => { i.kubernetes.podSubnet = '10.96.0.0/12'; }, 'kubernetes.serviceSubnet', /overlaps the pod network 10\.96\.0\.0\/12/],
    ['pod subnet holding the node addresses', (i) => { i.kubernetes.podSubnet = '192.168.0.0/16'; }, 'kubernetes.podSubnet', /^192\.168\.0\.0\/16 overlaps the node network: it contains 192\.168\.0\.100 \(loadBalancer\.vip\), 192\.168\.0\.2 \(gateways\[0\]\.ip\), 192\.168\.0\.3 \(gateways\[1\]\.ip\) and 5 more; choose a range/],
    ['service subnet holding a master', (i) => { i.kubernetes.serviceSubnet = '192.168.0.20/30'; }, 'kubernetes.serviceSubnet', /^192\.168\.0\.20\/30 overlaps the node network: it contains 192\.168\.0\.20 \(masters\[0\]\.ip\); choose/],
    ['openstack pod subnet around the node network', (i) => { i.provider = openstack('192.168.0.0/24'); i.kubernetes.podSubnet = '192.168.0.0/16'; }, 'kubernetes.podSubnet', /^192\.168\.0\.0\/16 overlaps the node network 192\.168\.0\.0\/24 \(provider\.openstack\.network\.cidr\): choose a range that does not$/],
    ['openstack service subnet inside the node network', (i) => { i.provider = openstack('192.168.0.0/24'); i.kubernetes.serviceSubnet = '192.168.0.224/27'; }, 'kubernetes.serviceSubnet', /^192\.168\.0\.224\/27 overlaps the node network 192\.168\.0\.0\/24 \(provider\.openstack\.network\.cidr\)/],
  ];
  for (const [name, mutate, path, message] of cases) {
    it(`reports ${name} at ${path}`, () => {
      const found = problems(mutate);
      const hit = found.find((p) => p.path === path);
      assert.ok(hit, `expected a problem at ${path}, got ${JSON.stringify(found)}`);
      assert.match(hit.message, message);
    });
  }

  it('reports several problems at once', () => {
    const found = problems((i) => { i.etcd.members[2].ip = '192.168.0'; i.cluster.name = 'Bad'; i.kubernetes.cni = 'weave'; });
    assert.deepEqual(found.map((p) => p.path).sort(), ['cluster.name', 'etcd.members[2].ip', 'kubernetes.cni']);
  });

  it('the base inventory used above is itself valid', () => {
    assert.deepEqual(problems(() => {}), []);
  });

  it('accepts ranges that touch without sharing an address', () => {
    assert.deepEqual(problems((i) => {
      i.provider = openstack('192.168.0.0/24');
      i.kubernetes.podSubnet = '192.168.1.0/24';
      i.kubernetes.serviceSubnet = '192.167.255.0/24';
    }), []);
    assert.deepEqual(problems((i) => { i.kubernetes.podSubnet = '10.244.0.0/16'; i.kubernetes.serviceSubnet = '10.245.0.0/16'; }), []);
  });

  it('names the line of a YAML syntax error and a missing file', async () => {
    const dir = scratchDir('inv-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: mooring/v1\ncluster: { name: c1\n');
    await assert.rejects(loadInventory(file), (err: unknown) => err instanceof InventoryError && /line \d/.test(err.message));
    await assert.rejects(loadInventory(join(dir, 'missing.yaml')), (err: unknown) => err instanceof InventoryError && /ENOENT/.test(err.message));
  });
});
