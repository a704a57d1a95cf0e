// The real judge of the PKI: a three-member etcd 3.4 (Debian's) on loopback with client and peer
// TLS, each member reading the files Mooring's layout wrote. Three members, not one, so that the
// peer certificates are used in both directions (every peer dials and is dialled).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  apiserverEtcdClient,
  createCertificateAuthority,
  etcdCertificateSet,
  type CertificateAuthority,
} from '../../activities/pki/certificates.js';
import { ETCD_TLS_PATHS, KUBEADM_EXTERNAL_ETCD_PATHS, writeEtcdMemberFiles, writeKubeadmExternalEtcdFiles, writePlannedFiles } from '../../activities/pki/layout.js';
import { signLeaf } from '../../activities/pki/sign.js';
import { freeLoopbackPorts } from '../helpers/ports.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';

interface Member {
  name: string;
  root: string;
  clientUrl: string;
  peerUrl: string;
  proc?: ChildProcess;
  log: string;
}

interface Run {
  code: number;
  out: string;
}

let dir: string;
let ca: CertificateAuthority;
const members: Member[] = [];

const onHost = (m: Member, path: string) => join(m.root, path);
const endpoints = () => members.map((m) => m.clientUrl).join(',');

function etcdctl(tls: { cacert: string; cert: string; key: string }, args: string[]): Promise<Run> {
  const flags = [`--endpoints=${endpoints()}`, `--cacert=${tls.cacert}`, `--cert=${tls.cert}`, `--key=${tls.key}`,
    '--dial-timeout=2s', '--command-timeout=4s'];
  return new Promise((resolve) => {
    execFile(ETCDCTL, [...flags, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

function memberTls(m: Member) {
  return {
    cacert: onHost(m, ETCD_TLS_PATHS.trustedCaFile),
    cert: onHost(m, ETCD_TLS_PATHS.clientCertFile),
    key: onHost(m, ETCD_TLS_PATHS.clientKeyFile),
  };
}

function startEtcd(m: Member, token: string): void {
  const f = (p: string) => onHost(m, p);
  const args = [
    `--name=${m.name}`,
    `--data-dir=${f('/var/lib/etcd')}`,
    `--listen-client-urls=${m.clientUrl}`,
    `--advertise-client-urls=${m.clientUrl}`,
    `--listen-peer-urls=${m.peerUrl}`,
    `--initial-advertise-peer-urls=${m.peerUrl}`,
    `--initial-cluster=${members.map((x) => `${x.name}=${x.peerUrl}`).join(',')}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
    '--client-cert-auth',
    `--trusted-ca-file=${f(ETCD_TLS_PATHS.trustedCaFile)}`,
    `--cert-file=${f(ETCD_TLS_PATHS.serverCertFile)}`,
    `--key-file=${f(ETCD_TLS_PATHS.serverKeyFile)}`,
    '--peer-client-cert-auth',
    `--peer-trusted-ca-file=${f(ETCD_TLS_PATHS.trustedCaFile)}`,
    `--peer-cert-file=${f(ETCD_TLS_PATHS.peerCertFile)}`,
    `--peer-key-file=${f(ETCD_TLS_PATHS.peerKeyFile)}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  const proc = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    // Bounded: a crash-looping member must not exhaust the test's memory.
    m.log = (m.log + chunk).slice(-200_000);
  });
  m.proc = proc;
}

async function stopEtcd(m: Member): Promise<void> {
  const proc = m.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!graceful) {
    proc.kill('SIGKILL');
    await exited;
  }
}

function logs(): string {
  return members.map((m) => `--- ${m.name} (exit ${m.proc?.exitCode ?? 'running'}) ---\n${m.log.slice(-3_000)}`).join('\n');
}

async function waitForHealthyCluster(): Promise<Run> {
  const deadline = Date.now() + 30_000;
  let last: Run = { code: -1, out: '' };
  while (Date.now() < deadline) {
    last = await etcdctl(memberTls(members[0] as Member), ['endpoint', 'health']);
    if (last.code === 0) return last;
    if (members.some((m) => m.proc?.exitCode !== null)) break;
    await sleep(500);
  }
  assert.fail(`etcd cluster never became healthy:\n${last.out}\n${logs()}`);
}

before(async () => {
  await access(ETCD).then(() => access(ETCDCTL)).catch(() => {
    throw new Error(`the lab needs Debian's etcd 3.4 at ${ETCD} and ${ETCDCTL}: apt-get install etcd-server etcd-client`);
  });
  dir = await mkdtemp(join(tmpdir(), 'mooring-pki-etcd-'));
  ca = await createCertificateAuthority({ commonName: 'mooring-lab-etcd-ca', validityDays: 30 });
  const ports = await freeLoopbackPorts(6);
  for (let i = 0; i < 3; i++) {
    members.push({
      name: `etcd-${i + 1}`,
      root: join(dir, `etcd-${i + 1}`),
      clientUrl: `https://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `https://127.0.0.1:${ports[2 * i + 1]}`,
      log: '',
    });
  }
  // Every lab member shares 127.0.0.1, as each production member is reached at its own address.
  await Promise.all(members.map(async (m) =>
    writeEtcdMemberFiles(m.root, await etcdCertificateSet(ca, { name: m.name, ip: '127.0.0.1' }, [], { validityDays: 7 }))));
  const token = `mooring-lab-${randomBytes(4).toString('hex')}`;
  for (const m of members) startEtcd(m, token);
});

after(async () => {
  await Promise.all(members.map(stopEtcd));
  if (dir) await rm(dir, { recursive: true, force: true });
});

void describe('etcd 3.4 accepts the certificates Mooring issues', () => {
  void test('all three members form a cluster over peer TLS and answer health checks with a member\'s client certificate', async () => {
    const health = await waitForHealthyCluster();
    for (const m of members) assert.match(health.out, new RegExp(`${m.clientUrl.replace(/\./g, '\\.')} is healthy`));
    const list = await etcdctl(memberTls(members[0] as Member), ['member', 'list']);
    assert.equal(list.code, 0, list.out);
    assert.equal(list.out.trim().split('\n').filter((l) => l.includes(', started, ')).length, 3, list.out);
  });

  void test('kube-apiserver\'s apiserver-etcd-client, at kubeadm\'s paths, reads and writes', async () => {
    const root = join(dir, 'master-1');
    await writeKubeadmExternalEtcdFiles(root, ca.certPem, await apiserverEtcdClient(ca, { validityDays: 7 }));
    const tls = {
      cacert: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.caFile),
      cert: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.certFile),
      key: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.keyFile),
    };
    const value = randomBytes(8).toString('hex');
    const put = await etcdctl(tls, ['put', '/registry/mooring-lab', value]);
    assert.equal(put.code, 0, put.out);
    const get = await etcdctl(tls, ['get', '--print-value-only', '/registry/mooring-lab']);
    assert.equal(get.code, 0, get.out);
    assert.equal(get.out.trim(), value);
  });
});

void describe('etcd refuses what seed 001 got wrong', () => {
  void test('a client certificate without clientAuth is rejected during the TLS handshake', async () => {
    // signLeaf is the internal signer: certificates.ts cannot issue this. Same CA, same key usages
    // as a client certificate, but serverAuth in place of clientAuth.
    const wrong = await signLeaf(ca, {
      commonName: 'etcd-1-client', ips: [], dnsNames: [], validityDays: 7,
      keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['serverAuth'],
    });
    const root = join(dir, 'wrong');
    await writePlannedFiles(root, [
      { path: '/wrong/client.crt', contents: wrong.certPem, mode: 0o644 },
      { path: '/wrong/client.key', contents: wrong.keyPem, mode: 0o600 },
    ]);
    const m1 = members[0] as Member;
    const logBefore = members.map((m) => m.log.length);
    const refused = await etcdctl(
      { cacert: memberTls(m1).cacert, cert: join(root, '/wrong/client.crt'), key: join(root, '/wrong/client.key') },
      ['endpoint', 'health'],
    );
    assert.notEqual(refused.code, 0, `etcd accepted a client certificate without clientAuth:\n${refused.out}`);
    assert.match(refused.out, /is unhealthy/);
    // The refusal must be etcd's verdict on the key usage, not an unrelated failure.
    const deadline = Date.now() + 5_000;
    const newLogs = () => members.map((m, i) => m.log.slice(logBefore[i])).join('\n');
    while (!/incompatible key usage/.test(newLogs()) && Date.now() < deadline) await sleep(100);
    assert.match(newLogs(), /rejected connection.*incompatible key usage/);
    // And the cluster is still there for the right certificate.
    const ok = await etcdctl(memberTls(m1), ['endpoint', 'health']);
    assert.equal(ok.code, 0, ok.out);
  });

  void test('a client certificate from another CA is rejected', async () => {
    const foreignCa = await createCertificateAuthority({ commonName: 'not-this-clusters-ca', validityDays: 30 });
    const foreign = await apiserverEtcdClient(foreignCa, { validityDays: 7 });
    const root = join(dir, 'foreign');
    await writeKubeadmExternalEtcdFiles(root, ca.certPem, foreign);
    const logBefore = members.map((m) => m.log.length);
    const refused = await etcdctl({
      cacert: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.caFile),
      cert: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.certFile),
      key: join(root, KUBEADM_EXTERNAL_ETCD_PATHS.keyFile),
    }, ['endpoint', 'health']);
    assert.notEqual(refused.code, 0, refused.out);
    const newLogs = () => members.map((m, i) => m.log.slice(logBefore[i])).join('\n');
    const deadline = Date.now() + 5_000;
    while (!/unknown authority/.test(newLogs()) && Date.now() < deadline) await sleep(100);
    assert.match(newLogs(), /rejected connection.*certificate signed by unknown authority/);
  });
});
