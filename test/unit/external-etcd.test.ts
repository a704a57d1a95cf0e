// The pure and local parts of the host phase's external etcd (activities/host/external-etcd.ts):
// the etcd CA kept in the state directory (made once, reused, a host trusting another CA refused,
// the inventory's caKey used and checked), the unit etcd runs under. The SSH parts run against real
// etcd on the bare netns lab (test/e2e/provision-external-etcd.provision.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { loadInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { etcdBinariesOf, etcdCa, etcdUnit } from '../../activities/host/external-etcd.js';
import { createCertificateAuthority } from '../../activities/pki/certificates.js';
import { scratchDir } from '../helpers/scratch.js';

const seed1 = () => loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'));
const refusal = (re: RegExp, type: string) => (err: unknown) => err instanceof ApplicationFailure && err.type === type && err.nonRetryable && re.test(err.message);

describe('external etcd: the CA', () => {
  it('is made once per cluster, kept 0600 in the state directory, and the same on the next run', async () => {
    const dir = scratchDir('mooring-etcd-ca-');
    const inv = await seed1();
    await assert.rejects(etcdCa(dir, inv, [], false), refusal(/etcd-ca\.crt: the cluster's etcd CA is not on this worker's machine/, 'PreconditionFailed'), 'a member step never makes a CA');
    const made = await etcdCa(dir, inv, [], true);
    assert.equal(made.created, true);
    const key = join(dir, 'clusters', 'paas-challenge', 'etcd-ca.key');
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'clusters', 'paas-challenge')).mode & 0o777, 0o700);
    const again = await etcdCa(dir, inv, [{ host: 'etcd-1', certPem: made.ca.certPem }], false);
    assert.equal(again.created, false);
    assert.equal(again.ca.certPem, made.ca.certPem);
    assert.equal(again.ca.keyPem, readFileSync(key, 'utf8'));
  });

  it('refuses hosts that trust another CA, naming them, and makes none', async () => {
    const dir = scratchDir('mooring-etcd-ca-');
    const inv = await seed1();
    const other = await createCertificateAuthority({ commonName: 'other' });
    await assert.rejects(etcdCa(dir, inv, [{ host: 'etcd-2', certPem: other.certPem }], true), refusal(/^etcd-2: already trust\(s\) an etcd CA .* set etcd\.tls\.caKey/, 'PreconditionFailed'));
    await assert.rejects(etcdCa(dir, inv, [], false), /not on this worker's machine/, 'no CA was made');
    await etcdCa(dir, inv, [], true);
    await assert.rejects(etcdCa(dir, inv, [{ host: 'etcd-3', certPem: other.certPem }], true), refusal(/^etcd-3: trust\(s\) another etcd CA/, 'PreconditionFailed'));
  });

  it('takes the inventory\'s etcd.tls.caKey with the certificate an etcd host holds, and refuses a key of another CA', async () => {
    const dir = scratchDir('mooring-etcd-ca-');
    const ca = await createCertificateAuthority({ commonName: 'seed-001-etcd-ca' });
    const keyFile = join(dir, 'ca.key');
    writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
    const inv = await seed1();
    inv.etcd.tls.caKey = { file: keyFile };
    await assert.rejects(etcdCa(dir, inv, [], true), refusal(/^etcd\.tls\.caKey: no CA certificate for this key/, 'PreconditionFailed'));
    const got = await etcdCa(dir, inv, [{ host: 'etcd-1', certPem: ca.certPem }], true);
    assert.equal(got.created, false);
    assert.equal(got.ca.certPem, ca.certPem);
    // Kept for the member steps, which see no host.
    assert.equal((await etcdCa(dir, inv, [], false)).ca.certPem, ca.certPem);
    writeFileSync(keyFile, (await createCertificateAuthority({ commonName: 'x' })).keyPem);
    await assert.rejects(etcdCa(dir, inv, [], false), refusal(/^etcd\.tls\.caKey: not the key of the CA certificate/, 'InvalidInput'));
  });
});

describe('external etcd: binaries and unit', () => {
  it('runs the installed release with the inventory\'s config file, notifying systemd when it serves', () => {
    const unit = etcdUnit('/usr/local/bin', '/etc/etcd/etcd.conf.yaml');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/etcd --config-file \/etc\/etcd\/etcd\.conf\.yaml$/m);
    assert.match(unit, /^Type=notify$/m);
  });

  it('needs etcd.binaries.source, naming it', async () => {
    const inv = await seed1();
    assert.equal(etcdBinariesOf(inv).source, '/opt/etcd/{version}');
    delete inv.etcd.binaries;
    assert.throws(() => etcdBinariesOf(inv), refusal(/^etcd\.binaries\.source: /, 'InvalidInput'));
  });
});
