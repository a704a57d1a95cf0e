// The cloud phase's plan as pure data: names ("<cluster>-…") and the cluster tag, the port table
// per role (what may reach what), the subnet's allocation pool that keeps Neutron's own ports off
// the inventory's addresses, host keys derived per host, and the inventory rules the cloud phase
// added (each error names its field).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, parseInventory, InventoryError } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { planCloud, planLines, planCounts, allocationPool } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { portTable, describeRule, type GroupSpec } from '../../activities/cloud/openstack/plan/port-table.js';
import { clusterName, clusterTag } from '../../activities/cloud/openstack/plan/names.js';
import { deriveHostKey, publicKeyOnly } from '../../activities/cloud/host-keys.js';
import { cloudInitUserData } from '../../activities/cloud/cloud-init.js';
import { parse as parseYaml } from 'yaml';
import type { Inventory } from '../../config/schema.js';

const EXAMPLES = join(PROJECT_ROOT, 'config', 'examples');
const seed1 = () => loadInventory(join(EXAMPLES, 'seed-001-openstack-external-etcd.yaml'));
const seed2 = () => loadInventory(join(EXAMPLES, 'seed-002-openstack-stacked-etcd.yaml'));

const rules = (t: GroupSpec[], role: string) => t.find((g) => g.role === role)?.rules.map(describeRule) ?? [];

describe('cloud plan: names, tags, port table, allocation pool', () => {
  it('names every resource <cluster>-… and tags with the cluster', async () => {
    const p = planCloud(await seed1());
    assert.equal(p.tag, 'mooring-cluster=paas-challenge');
    assert.equal(clusterTag('x'), 'mooring-cluster=x');
    assert.equal(clusterName('c', 'c-net'), 'c-net');
    assert.equal(clusterName('c', 'net'), 'c-net');
    const names = [p.network.name, p.subnet.name, p.router.name, ...p.securityGroups.map((g) => g.name), ...p.serverGroups.map((g) => g.name), p.vip!.port,
      ...p.hosts.flatMap((h) => [h.server, h.port, h.securityGroup, h.serverGroup, ...(h.floatingIp ? [h.floatingIp] : [])])];
    for (const n of names) assert.match(n, /^paas-challenge-/, n);
    assert.equal(new Set(p.hosts.map((h) => h.server)).size, 9, 'one server per host: 2 gateways, 3 etcd, 3 masters, 1 worker');
    assert.equal(p.network.name, 'paas-challenge-paas-private');
    // Seed 002 names its network after the cluster: kept, not doubled.
    assert.equal(planCloud(await seed2()).network.name, 'managed-k8s');
  });

  it('seed 001 (external etcd, gateways as VIP holders and bastions): the port table per role', async () => {
    const t = portTable(await seed1());
    assert.deepEqual(t.map((g) => g.role), ['gateway', 'etcd', 'master', 'worker']);
    const gw = rules(t, 'gateway');
    assert.ok(gw.includes('tcp/22 from 0.0.0.0/0 (SSH from the admins)'));
    assert.ok(gw.includes('tcp/6443 from group master (Kubernetes API through the VIP from the nodes)'));
    assert.ok(gw.includes('vrrp from group gateway (keepalived VRRP between the VIP holders)'));
    const etcd = rules(t, 'etcd');
    assert.deepEqual(etcd, ['tcp/22 from group gateway (SSH from the bastions)', 'tcp/2379-2380 from group etcd (etcd peers and clients)', 'tcp/2379 from group master (etcd clients: the apiservers)']);
    const master = rules(t, 'master');
    assert.ok(master.includes('tcp/6443 from group gateway (kube-apiserver from the load balancer)'));
    assert.ok(master.includes('tcp/10250 from group master (kubelet API from the control plane)'));
    assert.ok(!master.some((r) => r.startsWith('tcp/2379')), 'external etcd: no etcd ports on the masters');
    assert.ok(!master.some((r) => r.includes('0.0.0.0/0')), 'masters are reached through the bastions only');
    const worker = rules(t, 'worker');
    assert.ok(worker.includes('tcp/30000-32767 from group gateway (NodePorts from the gateways)'));
    assert.ok(worker.includes('udp/8472 from group worker (flannel VXLAN)'), 'the example runs flannel');
    // The seed ran calico: with cni: calico (and its manifest) the table opens calico's ports.
    const calico = rules(portTable({ ...(await seed1()), kubernetes: { ...(await seed1()).kubernetes, cni: 'calico' } } as Inventory), 'worker');
    assert.ok(calico.includes('tcp/179 from group worker (Calico BGP)'));
    assert.ok(calico.includes('ipip from group master (Calico IP-in-IP)'));
  });

  it('seed 002 (stacked etcd): etcd ports between masters, no etcd group; the CNI changes the table', async () => {
    const inv = await seed2();
    const t = portTable(inv);
    assert.deepEqual(t.map((g) => g.role), ['gateway', 'master', 'worker']);
    assert.ok(rules(t, 'master').includes('tcp/2379-2380 from group master (stacked etcd peers and clients)'));
    assert.ok(rules(t, 'worker').includes('udp/8472 from group master (flannel VXLAN)'));
    assert.ok(!rules(t, 'worker').some((r) => r.includes('Calico')));
    const calico = portTable({ ...inv, kubernetes: { ...inv.kubernetes, cni: 'calico' } } as Inventory);
    assert.ok(rules(calico, 'worker').includes('tcp/179 from group worker (Calico BGP)'));
  });

  it('no rule appears twice in a group (Neutron refuses duplicates with 409)', async () => {
    for (const inv of [await seed1(), await seed2()]) {
      for (const g of portTable(inv)) assert.equal(new Set(g.rules.map(describeRule)).size, g.rules.length, g.role);
    }
  });

  it('the allocation pool is the longest run free of host, VIP and gateway addresses', async () => {
    assert.deepEqual(allocationPool('192.168.0.0/24', ['192.168.0.1', '192.168.0.2', '192.168.0.100']), { start: '192.168.0.101', end: '192.168.0.254' });
    assert.deepEqual(allocationPool('10.0.0.0/29', ['10.0.0.1', '10.0.0.5']), { start: '10.0.0.2', end: '10.0.0.4' });
    assert.throws(() => allocationPool('10.0.0.0/30', ['10.0.0.1', '10.0.0.2']), /no free address/);
    const p = planCloud(await seed1());
    assert.deepEqual(p.subnet.allocationPool, { start: '192.168.0.101', end: '192.168.0.254' });
    assert.equal(p.subnet.gatewayIp, '192.168.0.1');
  });

  it('floatingIps decides where floating IPs go: gateways (default), the VIP port, or nowhere', async () => {
    const inv = await seed1();
    assert.ok(inv.provider.type === 'openstack');
    const os = inv.provider.openstack;
    const withFips = (f: 'gateways' | 'vip' | 'none'): ReturnType<typeof planCloud> => planCloud({ ...inv, provider: { type: 'openstack', openstack: { ...os, floatingIps: f } } });
    assert.deepEqual(withFips('gateways').hosts.filter((h) => h.floatingIp).map((h) => h.floatingIp), ['paas-challenge-fip-gateway-1', 'paas-challenge-fip-gateway-2']);
    assert.equal(withFips('gateways').vip!.floatingIp, undefined);
    const vip = withFips('vip');
    assert.equal(vip.vip!.floatingIp, 'paas-challenge-fip-vip');
    assert.equal(vip.hosts.filter((h) => h.floatingIp).length, 0);
    assert.equal(planCounts(vip).floating_ips, 1);
    assert.equal(planCounts(withFips('none')).floating_ips, 0);
  });

  it('the plan lists every resource and the counts the quota check uses', async () => {
    const p = planCloud(await seed1());
    const lines = planLines(p).join('\n');
    assert.match(lines, /server paas-challenge-master-1 \(master\) m1\.large image ubuntu-20\.04, port paas-challenge-port-master-1 192\.168\.0\.20/);
    assert.match(lines, /port paas-challenge-port-vip reserves VIP 192\.168\.0\.100, allowed on paas-challenge-port-gateway-1, paas-challenge-port-gateway-2/);
    const c = planCounts(p);
    assert.equal(c.instances, 9);
    assert.equal(c.ports, 10);
    assert.equal(c.floating_ips, 2);
    assert.equal(c.security_groups, 4);
    assert.equal(p.hosts.find((h) => h.name === 'etcd-2')!.ipField, 'etcd.members[1].ip');
    assert.equal(p.hosts.find((h) => h.name === 'etcd-2')!.flavor, 'm1.medium');
  });
});

describe('host keys derived per host and handed to cloud-init', () => {
  const seed = Buffer.alloc(32, 7);

  it('the same seed and host give the same key; another host or seed another key', () => {
    const a = deriveHostKey(seed, 'c', 'master-1');
    assert.deepEqual(deriveHostKey(seed, 'c', 'master-1'), a);
    assert.notEqual(deriveHostKey(seed, 'c', 'master-2').publicKey, a.publicKey);
    assert.notEqual(deriveHostKey(Buffer.alloc(32, 8), 'c', 'master-1').publicKey, a.publicKey);
    assert.notEqual(deriveHostKey(seed, 'd', 'master-1').publicKey, a.publicKey);
    assert.match(publicKeyOnly(a.publicKey), /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+={0,2}$/);
  });

  it('OpenSSH reads the private key and derives the same public key from it (ssh-keygen -y)', () => {
    const k = deriveHostKey(seed, 'c', 'gw-1');
    const dir = mkdtempSync(join(tmpdir(), 'mooring-hostkey-'));
    try {
      const f = join(dir, 'ssh_host_ed25519_key');
      writeFileSync(f, k.privateKey, { mode: 0o600 });
      const pub = execFileSync('ssh-keygen', ['-y', '-f', f], { encoding: 'utf8' }).trim();
      assert.equal(publicKeyOnly(pub), publicKeyOnly(k.publicKey));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the user data is cloud-config with ssh_keys ed25519_private/public and no generated keys', () => {
    const k = deriveHostKey(seed, 'c', 'gw-1');
    const text = cloudInitUserData({ name: 'gw-1', hostKey: k });
    assert.ok(text.startsWith('#cloud-config\n'));
    const doc = parseYaml(text) as { hostname: string; ssh_deletekeys: boolean; ssh_genkeytypes: string[]; ssh_keys: { ed25519_private: string; ed25519_public: string } };
    assert.equal(doc.hostname, 'gw-1');
    assert.equal(doc.ssh_deletekeys, true);
    assert.deepEqual(doc.ssh_genkeytypes, []);
    assert.equal(doc.ssh_keys.ed25519_private, k.privateKey);
    assert.equal(doc.ssh_keys.ed25519_public, k.publicKey);
  });
});

describe('inventory: what the cloud phase needs, errors naming the field', () => {
  it('an OpenStack inventory without a host-key seed or key pair, or with the VIP outside the network, is refused', async () => {
    const inv = structuredClone(await seed1()) as unknown as Record<string, Record<string, unknown>>;
    delete (inv.ssh as Record<string, unknown>).hostKeySeed;
    delete ((inv.provider as { openstack: Record<string, unknown> }).openstack).keyName;
    (inv.loadBalancer as Record<string, unknown>).vip = '10.9.9.9';
    (inv.kubernetes as Record<string, unknown>).controlPlaneEndpoint = '10.9.9.9:6443';
    try {
      parseInventory(inv, 'test');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof InventoryError);
      const paths = e.problems.map((p) => p.path);
      assert.ok(paths.includes('ssh.hostKeySeed'), paths.join());
      assert.ok(paths.includes('provider.openstack.publicKey'), paths.join());
      assert.ok(paths.includes('loadBalancer.vip'), paths.join());
      assert.match(e.message, /loadBalancer\.vip: 10\.9\.9\.9 is outside provider\.openstack\.network\.cidr 192\.168\.0\.0\/24/);
    }
  });

  it('bad values of the new fields name the field', async () => {
    const inv = structuredClone(await seed2()) as unknown as { provider: { openstack: Record<string, unknown> } };
    inv.provider.openstack.floatingIps = 'everywhere';
    inv.provider.openstack.adminCidrs = ['10.0.0.0/33'];
    inv.provider.openstack.publicKey = 'ssh-dss AAAAB3NzaC1kc3M= old@host';
    try {
      parseInventory(inv, 'test');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof InventoryError);
      const paths = e.problems.map((p) => p.path).sort();
      assert.deepEqual(paths, ['provider.openstack.adminCidrs[0]', 'provider.openstack.floatingIps', 'provider.openstack.publicKey']);
    }
  });
});
