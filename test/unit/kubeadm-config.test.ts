// The typed kubeadm configuration: API version by release, the v1beta3/v1beta4 differences, the
// inventory mapping and errors that name the field. Real kubeadm judges the output in
// test/lab/kubernetes-binaries.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadInventory } from '../../config/load.js';
import {
  KubeadmConfigError,
  kubeadmApiVersionFor,
  kubeadmInitDocuments,
  kubeadmInitInputFromInventory,
  renderKubeadmInitConfig,
  type KubeadmInitInput,
} from '../../activities/kubeadm/config.js';

const EXAMPLES = fileURLToPath(new URL('../../../config/examples/', import.meta.url));

const base = (over: Partial<KubeadmInitInput> = {}): KubeadmInitInput => ({
  clusterName: 'lab',
  kubernetesVersion: '1.36.3',
  controlPlaneEndpoint: '10.0.1.99:6443',
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  node: { name: 'master-1', advertiseAddress: '10.0.1.21' },
  etcd: { topology: 'stacked', dataDir: '/var/lib/etcd' },
  ...over,
});

const parsed = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Record<string, unknown>);

describe('kubeadm API version by Kubernetes release', () => {
  for (const [v, want] of [['1.37.2', 'v1beta4'], ['v1.31.0', 'v1beta4'], ['1.30.14', 'v1beta3'], ['1.22.0', 'v1beta3']] as const) {
    test(`${v} → ${want}`, () => assert.equal(kubeadmApiVersionFor(v), `kubeadm.k8s.io/${want}`));
  }
  test('before 1.22 and non-releases are refused naming the field', () => {
    assert.throws(() => kubeadmApiVersionFor('1.21.14'), (e: Error) => e instanceof KubeadmConfigError && /^kubernetesVersion: "1\.21\.14" is older than 1\.22/.test(e.message));
    assert.throws(() => kubeadmApiVersionFor('1.36'), /kubernetesVersion: "1\.36" is not a Kubernetes release such as 1\.36\.3/);
  });
});

describe('the rendered documents', () => {
  test('v1beta4: InitConfiguration then ClusterConfiguration, extra args as an ordered list', () => {
    const yaml = renderKubeadmInitConfig(base({ apiServerExtraArgs: [{ name: 'audit-log-maxage', value: '7' }, { name: 'v', value: '2' }] }));
    const [init, cluster, ...rest] = parsed(yaml);
    assert.equal(rest.length, 0);
    assert.deepEqual([init?.apiVersion, init?.kind, cluster?.apiVersion, cluster?.kind],
      ['kubeadm.k8s.io/v1beta4', 'InitConfiguration', 'kubeadm.k8s.io/v1beta4', 'ClusterConfiguration']);
    assert.deepEqual(init?.localAPIEndpoint, { advertiseAddress: '10.0.1.21', bindPort: 6443 });
    assert.equal(cluster?.kubernetesVersion, 'v1.36.3');
    assert.deepEqual((cluster?.apiServer as { extraArgs: unknown }).extraArgs, [{ name: 'audit-log-maxage', value: '7' }, { name: 'v', value: '2' }]);
    assert.deepEqual(cluster?.etcd, { local: { dataDir: '/var/lib/etcd' } });
  });

  test('v1beta3 (before 1.31): extra args as a map, and a flag given twice is refused', () => {
    const docs = kubeadmInitDocuments(base({ kubernetesVersion: '1.28.4', schedulerExtraArgs: [{ name: 'v', value: '2' }] }));
    assert.equal(docs.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.deepEqual(docs.cluster.scheduler, { extraArgs: { v: '2' } });
    assert.throws(() => kubeadmInitDocuments(base({ kubernetesVersion: '1.28.4', apiServerExtraArgs: [{ name: 'v', value: '1' }, { name: 'v', value: '2' }] })),
      /apiServerExtraArgs: --v is given twice/);
    // v1beta4 keeps both, in order.
    const v4 = kubeadmInitDocuments(base({ apiServerExtraArgs: [{ name: 'v', value: '1' }, { name: 'v', value: '2' }] }));
    assert.equal(v4.apiVersion === 'kubeadm.k8s.io/v1beta4' && v4.cluster.apiServer.extraArgs?.length, 2);
  });

  test('every problem is reported at once, each with its field and the fix', () => {
    assert.throws(() => renderKubeadmInitConfig(base({
      node: { name: 'Master_1', advertiseAddress: '127.0.0.1' },
      podSubnet: '10.244.0.0',
      controlPlaneEndpoint: '10.0.1.99',
      etcd: { topology: 'external', endpoints: ['http://10.0.1.11:2379'], caFile: 'ca.crt', certFile: '/c', keyFile: '/k' },
    })), (e: Error) => {
      assert.ok(e instanceof KubeadmConfigError);
      const lines = e.message.split('\n');
      for (const want of [/^node\.name: "Master_1" is not a DNS label/, /^node\.advertiseAddress: 127\.0\.0\.1 is a loopback address: .*give the node's own interface address/,
        /^podSubnet: "10\.244\.0\.0" is not an IPv4 CIDR/, /^controlPlaneEndpoint: "10\.0\.1\.99" is not HOST:PORT/,
        /^etcd\.endpoints\[0\]: "http:\/\/10\.0\.1\.11:2379" is not https:\/\/HOST:PORT/, /^etcd\.caFile: "ca\.crt" must be an absolute path/]) {
        assert.ok(lines.some((l) => want.test(l)), `${want} in:\n${e.message}`);
      }
      assert.equal(lines.length, 6);
      return true;
    });
  });
});

describe('from the seed inventories', () => {
  test('seed 001: external etcd over TLS with the apiserver client certificate, v1beta3 for 1.24', async () => {
    const inv = await loadInventory(join(EXAMPLES, 'seed-001-openstack-external-etcd.yaml'));
    const master = inv.masters[1]!;
    const docs = kubeadmInitDocuments(kubeadmInitInputFromInventory(inv, master.name));
    assert.equal(docs.apiVersion, 'kubeadm.k8s.io/v1beta3');
    assert.deepEqual(docs.cluster.etcd, {
      external: {
        endpoints: inv.etcd.members.map((m) => `https://${m.ip}:2379`),
        caFile: '/etc/kubernetes/pki/etcd/ca.crt',
        certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
        keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
      },
    });
    assert.equal(docs.init.localAPIEndpoint.advertiseAddress, master.ip);
    assert.equal(docs.init.nodeRegistration.name, master.name);
    assert.equal(docs.cluster.controlPlaneEndpoint, inv.kubernetes.controlPlaneEndpoint);
    assert.deepEqual(docs.cluster.apiServer.certSANs, [inv.loadBalancer.vip, master.ip, master.name]);
  });

  test('seed 002: stacked etcd in the inventory data dir; an unknown master is refused', async () => {
    const inv = await loadInventory(join(EXAMPLES, 'seed-002-openstack-stacked-etcd.yaml'));
    const docs = kubeadmInitDocuments(kubeadmInitInputFromInventory(inv, inv.masters[0]!.name));
    assert.deepEqual(docs.cluster.etcd, { local: { dataDir: inv.etcd.dataDir } });
    assert.deepEqual(docs.cluster.networking, { podSubnet: inv.kubernetes.podSubnet, serviceSubnet: inv.kubernetes.serviceSubnet, dnsDomain: 'cluster.local' });
    assert.throws(() => kubeadmInitInputFromInventory(inv, 'nope'), /master: "nope" is not one of the inventory's masters/);
  });
});
