// etcd's quota-backend-bytes from the inventory to every member config Mooring renders: accepted
// as a byte count or a size ("8GiB"), refused outside 1–8 GiB (8 GiB is etcd's suggested
// maximum) with the bound and the fix, and written into the member config file (external etcd,
// recoveries, the lab) and kubeadm's stacked etcd. Real etcd reads the rendered file in the
// lab (test:large runs a 3–4 GB database with it; recover-etcd runs the same renderer on 3.4/3.6).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { parseInventory, InventoryError } from '../../config/load.js';
import { parseByteSize } from '../../config/byte-size.js';
import { etcdTargetOf } from '../../workflows/etcd-recovery/target.js';
import { renderMemberConfig } from '../../activities/etcd-recovery/member-config.js';
import { kubeadmInitDocuments, kubeadmInitInputFromInventory, renderKubeadmInitConfig } from '../../activities/kubeadm/config.js';

const GIB = 1024 ** 3;

function inventory(quota?: unknown, topology: 'external' | 'stacked' = 'external'): unknown {
  return {
    apiVersion: 'mooring/v1',
    cluster: { name: 'c1' },
    provider: { type: 'static' },
    ssh: { user: 'ubuntu', privateKeyPath: '/home/ubuntu/.ssh/id_ed25519' },
    loadBalancer: { vip: '192.168.0.100', placement: 'gateways' },
    gateways: [{ name: 'gw-1', ip: '192.168.0.2' }, { name: 'gw-2', ip: '192.168.0.3' }],
    etcd: {
      version: '3.5.17', topology,
      members: topology === 'external' ? [{ name: 'etcd-1', ip: '192.168.0.10' }, { name: 'etcd-2', ip: '192.168.0.11' }, { name: 'etcd-3', ip: '192.168.0.12' }] : [],
      ...(quota === undefined ? {} : { quotaBackendBytes: quota }),
    },
    masters: [{ name: 'master-1', ip: '192.168.0.20' }],
    kubernetes: { version: '1.36.3', controlPlaneEndpoint: '192.168.0.100:6443', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'calico' },
  };
}

function problemsFor(quota: unknown): string[] {
  try {
    parseInventory(inventory(quota));
  } catch (err) {
    assert.ok(err instanceof InventoryError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const member = (quota?: unknown) => {
  const etcd = etcdTargetOf(parseInventory(inventory(quota))).etcd;
  return parse(renderMemberConfig(etcd, { name: 'etcd-1', ip: '192.168.0.10', initialCluster: [{ name: 'etcd-1', ip: '192.168.0.10' }], state: 'new', clusterToken: 't' })) as Record<string, unknown>;
};

describe('etcd.quotaBackendBytes in the inventory', () => {
  for (const [given, bytes] of [[8 * GIB, 8 * GIB], ['8GiB', 8 * GIB], ['4 GiB', 4 * GIB], ['6144MiB', 6 * GIB], ['1.5GiB', 1.5 * GIB], ['8GB', 8e9], [GIB, GIB]] as const) {
    it(`${JSON.stringify(given)} is ${bytes} bytes`, () => {
      assert.equal(parseInventory(inventory(given)).etcd.quotaBackendBytes, bytes);
    });
  }

  it('is optional: unset, etcd keeps its own default and nothing is written', () => {
    assert.equal(parseInventory(inventory()).etcd.quotaBackendBytes, undefined);
    assert.equal('quota-backend-bytes' in member(), false);
  });

  it('above 8 GiB is refused with etcd\'s suggested maximum and the fix', () => {
    for (const q of ['16GiB', 8 * GIB + 1, '9000MB']) {
      const p = problemsFor(q);
      assert.equal(p.length, 1, `${JSON.stringify(q)}: ${p.join('; ')}`);
      assert.match(p[0]!, /^etcd\.quotaBackendBytes: .* is above 8 GiB, etcd's suggested maximum .*: set at most 8GiB \(8589934592\)$/);
    }
  });

  it('below 1 GiB is refused as a likely unit mistake, saying how to write it', () => {
    for (const q of [8, '512MiB', GIB - 1]) {
      const p = problemsFor(q);
      assert.equal(p.length, 1, `${JSON.stringify(q)}: ${p.join('; ')}`);
      assert.match(p[0]!, /^etcd\.quotaBackendBytes: .* is below 1 GiB: give the size with its unit, e\.g\. 8GiB/);
    }
  });

  it('what is no size is refused naming the field and the accepted forms', () => {
    for (const q of ['8G', 'eight GiB', '-1GiB', 4.5 * GIB + 0.5, true]) {
      const p = problemsFor(q);
      assert.equal(p.length, 1, `${JSON.stringify(q)}: ${p.join('; ')}`);
      assert.match(p[0]!, /^etcd\.quotaBackendBytes: .*(byte count|whole number of bytes)/);
    }
  });

  it('parseByteSize: binary and decimal units, nothing else', () => {
    assert.equal(parseByteSize('2KiB'), 2048);
    assert.equal(parseByteSize('2KB'), 2000);
    assert.equal(parseByteSize('3B'), 3);
    assert.equal(parseByteSize('2 gib'), undefined);
    assert.equal(parseByteSize(''), undefined);
  });
});

describe('the quota in every config Mooring renders', () => {
  it('the member config (external etcd, recoveries, the lab) carries quota-backend-bytes as a number', () => {
    const cfg = member('4GiB');
    assert.equal(cfg['quota-backend-bytes'], 4 * GIB);
    // The rest of the file is what it was: the key is added, nothing else moves.
    assert.equal(cfg['initial-cluster-state'], 'new');
    assert.equal(cfg['data-dir'], '/var/lib/etcd');
  });

  it('a joining member gets the same quota as a new one', () => {
    const etcd = etcdTargetOf(parseInventory(inventory('8GiB'))).etcd;
    const joining = parse(renderMemberConfig(etcd, { name: 'etcd-2', ip: '192.168.0.11', initialCluster: [{ name: 'etcd-1', ip: '192.168.0.10' }, { name: 'etcd-2', ip: '192.168.0.11' }], state: 'existing', clusterToken: 't' })) as Record<string, unknown>;
    assert.equal(joining['quota-backend-bytes'], 8 * GIB);
  });

  it('stacked etcd: kubeadm\'s etcd.local.extraArgs (a list in v1beta4, a map in v1beta3)', () => {
    const inv = parseInventory(inventory('6GiB', 'stacked'));
    const input = kubeadmInitInputFromInventory(inv, 'master-1');
    const v4 = parseAllDocuments(renderKubeadmInitConfig(input)).map((d) => d.toJS() as { etcd?: unknown })[1]!;
    assert.deepEqual(v4.etcd, { local: { dataDir: '/var/lib/etcd', extraArgs: [{ name: 'quota-backend-bytes', value: String(6 * GIB) }] } });
    const v3 = kubeadmInitDocuments({ ...input, kubernetesVersion: '1.30.14' });
    assert.deepEqual(v3.cluster.etcd, { local: { dataDir: '/var/lib/etcd', extraArgs: { 'quota-backend-bytes': String(6 * GIB) } } });
    // Without a quota the section is what it always was.
    assert.deepEqual(kubeadmInitDocuments(kubeadmInitInputFromInventory(parseInventory(inventory(undefined, 'stacked')), 'master-1')).cluster.etcd, { local: { dataDir: '/var/lib/etcd' } });
  });

  it('kubeadm input built by hand with a quota that is no byte count is refused naming the field', () => {
    const input = kubeadmInitInputFromInventory(parseInventory(inventory(undefined, 'stacked')), 'master-1');
    assert.throws(() => renderKubeadmInitConfig({ ...input, etcd: { topology: 'stacked', dataDir: '/var/lib/etcd', quotaBackendBytes: 1.5 } }), /^KubeadmConfigError: etcd\.quotaBackendBytes: 1\.5 is not a byte count/);
  });
});
