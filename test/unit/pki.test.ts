// The PKI checked by OpenSSL, an implementation independent of node-forge: if forge encoded an
// extension wrongly, `openssl x509 -text` and `openssl verify -purpose` would say so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APISERVER_ETCD_CLIENT_CN,
  apiserverEtcdClient,
  createCertificateAuthority,
  etcdCertificateSet,
  issueCertificate,
  type CertificateAuthority,
  type EtcdCertificateSet,
  type IssuedCertificate,
} from '../../activities/pki/certificates.js';
import {
  ETCD_TLS_PATHS,
  KUBEADM_EXTERNAL_ETCD_PATHS,
  writeEtcdMemberFiles,
  writeKubeadmExternalEtcdFiles,
  writePlannedFiles,
} from '../../activities/pki/layout.js';

interface Run {
  code: number;
  out: string;
}

function openssl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

const member = { name: 'etcd-1', ip: '10.0.0.11' };
const floatingIp = '203.0.113.7';

let dir: string;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let set: EtcdCertificateSet;
let apiClient: IssuedCertificate;
const files: Record<string, string> = {};

async function save(name: string, pem: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, pem);
  files[name] = path;
  return path;
}

function file(name: string): string {
  const f = files[name];
  assert.ok(f, `${name} was not saved`);
  return f;
}

async function text(name: string): Promise<string> {
  const r = await openssl(['x509', '-noout', '-text', '-in', file(name)]);
  assert.equal(r.code, 0, r.out);
  return r.out;
}

async function verify(name: string, extra: string[], caFile = 'ca.crt'): Promise<Run> {
  return openssl(['verify', '-CAfile', file(caFile), ...extra, file(name)]);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mooring-pki-'));
  [ca, otherCa] = await Promise.all([
    createCertificateAuthority({ commonName: 'mooring-etcd-ca', validityDays: 3650 }),
    createCertificateAuthority({ commonName: 'someone-elses-ca', validityDays: 3650 }),
  ]);
  [set, apiClient] = await Promise.all([etcdCertificateSet(ca, member, [floatingIp]), apiserverEtcdClient(ca)]);
  await save('ca.crt', ca.certPem);
  await save('other-ca.crt', otherCa.certPem);
  for (const kind of ['server', 'peer', 'client'] as const) {
    await save(`${kind}.crt`, set[kind].certPem);
    await save(`${kind}.key`, set[kind].keyPem);
  }
  await save('apiserver-etcd-client.crt', apiClient.certPem);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

void describe('certificate authority', () => {
  void test('is a critical CA:TRUE that may only sign certificates and CRLs, SHA-256 over RSA 2048', async () => {
    const t = await text('ca.crt');
    assert.match(t, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(t, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(t, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(t, /Public-Key: \(2048 bit\)/);
    assert.match(t, /Subject: CN ?= ?mooring-etcd-ca/);
    assert.equal((await verify('ca.crt', [])).code, 0);
  });

  void test('validity is the requested number of days', () => {
    const c = new X509Certificate(ca.certPem);
    const days = (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 3650) < 1, `CA valid for ${days} days`);
  });
});

void describe('etcd member certificates (seed 001 lessons)', () => {
  void test('server: digitalSignature + keyEncipherment, serverAuth only, every address in the SANs', async () => {
    const t = await text('server.crt');
    assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(t, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    assert.doesNotMatch(t, /TLS Web Client Authentication/);
    assert.match(t, /CA:FALSE/);
    for (const san of ['IP Address:10.0.0.11', 'IP Address:127.0.0.1', `IP Address:${floatingIp}`, 'DNS:etcd-1', 'DNS:localhost']) {
      assert.ok(t.includes(san), `server.crt lacks SAN ${san}`);
    }
  });

  void test('server verifies for TLS serving at each of its addresses, and not elsewhere or as a client', async () => {
    for (const ip of [member.ip, '127.0.0.1', floatingIp]) {
      const r = await verify('server.crt', ['-purpose', 'sslserver', '-verify_ip', ip]);
      assert.equal(r.code, 0, `${ip}: ${r.out}`);
      assert.match(r.out, /server\.crt: OK/);
    }
    assert.equal((await verify('server.crt', ['-purpose', 'sslserver', '-verify_hostname', 'etcd-1'])).code, 0);
    const wrongIp = await verify('server.crt', ['-purpose', 'sslserver', '-verify_ip', '10.0.0.99']);
    assert.notEqual(wrongIp.code, 0);
    assert.match(wrongIp.out, /IP address mismatch/);
    const asClient = await verify('server.crt', ['-purpose', 'sslclient']);
    assert.notEqual(asClient.code, 0);
    assert.match(asClient.out, /unsuitable certificate purpose/);
  });

  void test('peer: both serverAuth and clientAuth, and verifies for both purposes', async () => {
    const t = await text('peer.crt');
    assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(t, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.ok(t.includes('IP Address:10.0.0.11') && t.includes(`IP Address:${floatingIp}`));
    assert.equal((await verify('peer.crt', ['-purpose', 'sslserver', '-verify_ip', member.ip])).code, 0);
    assert.equal((await verify('peer.crt', ['-purpose', 'sslclient'])).code, 0);
  });

  void test('client: clientAuth only, refused as a server', async () => {
    const t = await text('client.crt');
    assert.match(t, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    assert.doesNotMatch(t, /TLS Web Server Authentication/);
    assert.match(t, /Subject: CN ?= ?etcd-1-client/);
    assert.equal((await verify('client.crt', ['-purpose', 'sslclient'])).code, 0);
    const asServer = await verify('client.crt', ['-purpose', 'sslserver']);
    assert.notEqual(asServer.code, 0);
    assert.match(asServer.out, /unsuitable certificate purpose/);
  });

  void test('nothing verifies against a different CA', async () => {
    for (const name of ['server.crt', 'peer.crt', 'client.crt']) {
      const r = await verify(name, [], 'other-ca.crt');
      assert.notEqual(r.code, 0, `${name} verified against a foreign CA`);
      assert.match(r.out, /unable to get local issuer certificate/);
    }
  });

  void test('each key is RSA 2048 and belongs to its certificate', async () => {
    for (const kind of ['server', 'peer', 'client'] as const) {
      const keyText = await openssl(['pkey', '-noout', '-text', '-in', file(`${kind}.key`)]);
      assert.match(keyText.out, /Private-Key: \(2048 bit/);
      const fromCert = await openssl(['x509', '-noout', '-pubkey', '-in', file(`${kind}.crt`)]);
      const fromKey = await openssl(['pkey', '-pubout', '-in', file(`${kind}.key`)]);
      assert.equal(fromCert.code, 0, fromCert.out);
      assert.equal(fromCert.out, fromKey.out, `${kind}.key does not match ${kind}.crt`);
    }
    assert.notEqual(set.server.keyPem, set.peer.keyPem);
  });

  void test('serial numbers are positive, random and distinct; issuer key id links to the CA', () => {
    const certs = [ca.certPem, set.server.certPem, set.peer.certPem, set.client.certPem, apiClient.certPem].map((p) => new X509Certificate(p));
    const serials = certs.map((c) => c.serialNumber);
    assert.equal(new Set(serials).size, serials.length);
    for (const s of serials) {
      assert.ok(s.length >= 30, `serial ${s} is too short to be random`);
      assert.ok(Number.parseInt(s[0] ?? '8', 16) < 8, `serial ${s} would be negative in DER`);
    }
    const caCert = certs[0] as X509Certificate;
    for (const leaf of certs.slice(1)) assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey));
  });
});

void describe('apiserver-etcd-client', () => {
  void test('is kubeadm\'s kube-apiserver-etcd-client, clientAuth only', async () => {
    const t = await text('apiserver-etcd-client.crt');
    assert.match(t, new RegExp(`Subject: CN ?= ?${APISERVER_ETCD_CLIENT_CN}\\n`));
    assert.match(t, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    assert.equal((await verify('apiserver-etcd-client.crt', ['-purpose', 'sslclient'])).code, 0);
  });
});

void describe('bad input is refused before anything is issued, naming the field', () => {
  void test('addresses and names', async () => {
    await assert.rejects(etcdCertificateSet(ca, { name: 'etcd-1', ip: '10.0.1' }), /^Error: member\.ip: "10\.0\.1" is not an IPv4 address$/);
    await assert.rejects(etcdCertificateSet(ca, member, ['10.0.0.12', '300.1.1.1']), /extraIps\[1\]: "300\.1\.1\.1" is not an IPv4 address/);
    await assert.rejects(etcdCertificateSet(ca, { name: 'Etcd_1', ip: '10.0.0.11' }), /member\.name: "Etcd_1" is not a host name/);
    await assert.rejects(etcdCertificateSet(ca, { name: 'e'.repeat(58), ip: '10.0.0.11' }), /member\.name: "e+" is too long .* at most 57/);
    await assert.rejects(issueCertificate(ca, { kind: 'server', commonName: 'x', dnsNames: ['a..b'] }), /dnsNames\[0\]: "a\.\.b"/);
  });

  void test('a listener certificate without SANs, which Go would never match', async () => {
    await assert.rejects(issueCertificate(ca, { kind: 'server', commonName: 'etcd-1' }), /ips: a server certificate needs every address/);
    await assert.rejects(issueCertificate(ca, { kind: 'peer', commonName: 'etcd-1', ips: [] }), /ips: a peer certificate/);
  });

  void test('validity out of range or outliving the CA', async () => {
    await assert.rejects(createCertificateAuthority({ commonName: 'ca', validityDays: 0 }), /validityDays: 0 must be a whole number/);
    const shortCa = await createCertificateAuthority({ commonName: 'short-ca', validityDays: 30 });
    await assert.rejects(apiserverEtcdClient(shortCa), /validityDays: 365 days would outlive the CA .*shorten validityDays or rotate the CA/);
    const c = await apiserverEtcdClient(shortCa, { validityDays: 29 });
    assert.ok(new X509Certificate(c.certPem).checkIssued(new X509Certificate(shortCa.certPem)));
  });

  void test('a CA whose key is not its own, or a leaf posing as a CA', async () => {
    await assert.rejects(apiserverEtcdClient({ certPem: ca.certPem, keyPem: otherCa.keyPem }), /ca\.keyPem: does not belong to ca\.certPem/);
    await assert.rejects(apiserverEtcdClient(set.client), /ca\.certPem: is not a CA certificate/);
    await assert.rejects(apiserverEtcdClient({ certPem: 'nonsense', keyPem: ca.keyPem }), /ca\.certPem: not a PEM certificate/);
  });
});

void describe('layout on disk', () => {
  void test('etcd and kubeadm files at their host paths, keys 0600 and certificates 0644 whatever the umask', async () => {
    const root = join(dir, 'host');
    const previous = process.umask(0o077);
    try {
      await writeEtcdMemberFiles(root, set);
      await writeKubeadmExternalEtcdFiles(root, ca.certPem, apiClient);
    } finally {
      process.umask(previous);
    }
    const expected: [string, string, number][] = [
      [ETCD_TLS_PATHS.trustedCaFile, ca.certPem, 0o644],
      [ETCD_TLS_PATHS.serverCertFile, set.server.certPem, 0o644],
      [ETCD_TLS_PATHS.serverKeyFile, set.server.keyPem, 0o600],
      [ETCD_TLS_PATHS.peerCertFile, set.peer.certPem, 0o644],
      [ETCD_TLS_PATHS.peerKeyFile, set.peer.keyPem, 0o600],
      [ETCD_TLS_PATHS.clientCertFile, set.client.certPem, 0o644],
      [ETCD_TLS_PATHS.clientKeyFile, set.client.keyPem, 0o600],
      [KUBEADM_EXTERNAL_ETCD_PATHS.caFile, ca.certPem, 0o644],
      [KUBEADM_EXTERNAL_ETCD_PATHS.certFile, apiClient.certPem, 0o644],
      [KUBEADM_EXTERNAL_ETCD_PATHS.keyFile, apiClient.keyPem, 0o600],
    ];
    for (const [path, contents, mode] of expected) {
      const full = join(root, path);
      assert.equal(await readFile(full, 'utf8'), contents, path);
      assert.equal((await stat(full)).mode & 0o777, mode, `${path} mode`);
    }
    assert.deepEqual((await readdir(join(root, 'etc/etcd/ssl'))).sort(),
      ['ca.crt', 'client.crt', 'client.key', 'peer.crt', 'peer.key', 'server.crt', 'server.key']);
    assert.deepEqual((await readdir(join(root, 'etc/kubernetes/pki'))).sort(),
      ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'etcd']);
    const r = await openssl(['verify', '-CAfile', join(root, KUBEADM_EXTERNAL_ETCD_PATHS.caFile), '-purpose', 'sslclient',
      join(root, KUBEADM_EXTERNAL_ETCD_PATHS.certFile)]);
    assert.equal(r.code, 0, r.out);
  });

  void test('rewriting replaces every file in place (retried activity) and leaves no temporary files', async () => {
    const root = join(dir, 'rewrite');
    await writeEtcdMemberFiles(root, set);
    const renewed = await etcdCertificateSet(ca, member);
    await writeEtcdMemberFiles(root, renewed);
    assert.equal(await readFile(join(root, ETCD_TLS_PATHS.serverKeyFile), 'utf8'), renewed.server.keyPem);
    assert.equal((await stat(join(root, ETCD_TLS_PATHS.serverKeyFile))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(join(root, 'etc/etcd/ssl'))).filter((n) => n.startsWith('.')), []);
  });

  void test('files are handed to the daemon\'s user when asked', { skip: process.getuid?.() !== 0 && 'chown needs root' }, async () => {
    const root = join(dir, 'owned');
    await writeEtcdMemberFiles(root, set, { uid: 65534, gid: 65534 });
    const st = await stat(join(root, ETCD_TLS_PATHS.peerKeyFile));
    assert.equal(st.uid, 65534);
    assert.equal(st.gid, 65534);
    assert.equal(st.mode & 0o777, 0o600);
  });

  void test('refuses a relative root or a path escaping it', async () => {
    await assert.rejects(writeEtcdMemberFiles('relative/dir', set), /root: "relative\/dir" must be an absolute directory/);
    await assert.rejects(writePlannedFiles(dir, [{ path: '/etc/../../x', contents: '', mode: 0o600 }]), /files\[0\]\.path/);
  });
});
