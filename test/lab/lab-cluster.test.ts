// The lab from nothing: a real sshd per node in its own filesystem view, a real etcd 3.4 cluster
// with TLS from Mooring's PKI, every fault caused through `mooring lab fault` and observed on the
// real cluster, and nothing left running after `down`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Lab } from '../../lab/lab.js';
import { INVENTORY_SCHEMA_FILE } from '../../config/json-schema.js';
import { clientEndpoint, etcdPid, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import { nodeRoot } from '../../lab/node-view.js';
import { SshSession } from '../../activities/ssh/session.js';
import { etcdctl } from '../../activities/etcd-recovery/etcdctl.js';
import { sh } from '../../activities/ssh/quote.js';
import { mooring } from '../helpers/cli.js';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { scratchDir } from '../helpers/scratch.js';

interface InvNode { name: string; ip: string; hostKey: string }
const MEMBERS = ['etcd-1', 'etcd-2', 'etcd-3'];

describe('lab: real etcd cluster with faults (real sshd, etcd 3.4)', () => {
  const dir = scratchDir('mooring-labtest-');
  const lab = new Lab({ dir, subnet: '127.29.0' });
  const member = (name: string) => lab.etcdMembers().find((m) => m.name === name)!;
  const ep = (name: string) => clientEndpoint(lab.etcdSettings, member(name));
  const ctl = (via: string, endpoints: string[], args: string[]) => hostEtcdctl(lab.etcdSettings, member(via), endpoints, args, 3);
  const healthy = (name: string) => memberHealthy(lab.etcdSettings, member(name));
  const allHealthy = async () => (await Promise.all(MEMBERS.map(healthy))).every(Boolean);
  const fault = async (...args: string[]) => {
    const r = await mooring(['lab', 'fault', ...args, '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  let nodes: Map<string, InvNode>;
  let keyPath: string;
  const ssh = (name: string) => {
    const n = nodes.get(name)!;
    return SshSession.open({ name, host: n.ip, port: 22, hostKey: n.hostKey, where: name }, { user: 'root', privateKey: readFileSync(keyPath), connectTimeoutMs: 5000 });
  };
  const onNode = async (name: string, command: string) => {
    const s = await ssh(name);
    try {
      return await s.exec(command, { timeoutMs: 30_000 });
    } finally {
      s.close();
    }
  };

  before(async () => {
    await lab.up();
    const inv = parse(readFileSync(lab.inventoryFile, 'utf8')) as { ssh: { privateKeyPath: string }; gateways: InvNode[]; etcd: { members: InvNode[] }; masters: InvNode[]; workers: InvNode[] };
    keyPath = inv.ssh.privateKeyPath;
    nodes = new Map([...inv.gateways, ...inv.etcd.members, ...inv.masters, ...inv.workers].map((n) => [n.name, n]));
  });
  after(async () => { await lab.down(); });

  it('comes up from nothing: 3 healthy members, one leader; a second `up` leaves everything alone', async () => {
    assert.equal((await ctl('etcd-1', [ep('etcd-1')], ['member', 'list'])).trim().split('\n').length, 3);
    assert.ok(await allHealthy());
    const status = await lab.status();
    assert.equal(status.filter((n) => n.etcd === 'leader').length, 1, JSON.stringify(status));
    assert.ok(status.every((n) => n.sshd === 'up'));
    const pids = () => ({ etcd: MEMBERS.map((m) => etcdPid(lab.nodeDir(m))), state: readFileSync(join(dir, 'state.json'), 'utf8') });
    const first = pids();
    const r = await mooring(['lab', 'up', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pids(), first, 'same sshd and etcd processes');
  });

  it('its inventory points editors at the inventory JSON Schema', () => {
    const first = readFileSync(lab.inventoryFile, 'utf8').split('\n')[0] ?? '';
    const target = /^# yaml-language-server: \$schema=(.+)$/.exec(first)?.[1];
    assert.ok(target, first);
    assert.equal(resolve(dirname(lab.inventoryFile), target), INVENTORY_SCHEMA_FILE);
    assert.ok(existsSync(INVENTORY_SCHEMA_FILE));
  });

  it('each node has its own filesystem view at production paths; the machine\'s own stays untouched', async () => {
    const e1 = await onNode('etcd-1', 'ls /etc/etcd /etc/etcd/ssl && grep -E "^(name|initial-cluster-state):" /etc/etcd/etcd.conf.yaml && sha256sum /etc/etcd/ssl/server.crt /etc/etcd/ssl/ca.crt');
    const e2 = await onNode('etcd-2', 'ls /etc/etcd /etc/etcd/ssl && grep -E "^(name|initial-cluster-state):" /etc/etcd/etcd.conf.yaml && sha256sum /etc/etcd/ssl/server.crt /etc/etcd/ssl/ca.crt');
    assert.equal(e1.code, 0, e1.stderr);
    assert.match(e1.stdout, /etcd\.conf\.yaml[\s\S]*ca\.crt[\s\S]*peer\.key[\s\S]*server\.key[\s\S]*name: etcd-1\ninitial-cluster-state: new/);
    assert.match(e2.stdout, /name: etcd-2/);
    const hash = (out: string, file: string) => out.split('\n').find((l) => l.endsWith(` /etc/etcd/ssl/${file}`))?.split(' ')[0];
    assert.match(hash(e1.stdout, 'server.crt') ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(hash(e1.stdout, 'server.crt'), hash(e2.stdout, 'server.crt'), 'each member has its own server certificate');
    assert.equal(hash(e1.stdout, 'ca.crt'), hash(e2.stdout, 'ca.crt'), 'one CA');
    const master = await onNode('master-1', 'ls /etc/kubernetes/pki /etc/kubernetes/pki/etcd; ls -A /etc/etcd/ssl | wc -l');
    assert.match(master.stdout, /apiserver-etcd-client\.crt[\s\S]*apiserver-etcd-client\.key[\s\S]*ca\.crt\n0\n$/);
    assert.notEqual((await onNode('gw-1', 'test -e /etc/etcd/etcd.conf.yaml')).code, 0);
    // The SIMULATED systemctl answers like systemd: 0 active, 3 inactive.
    assert.deepEqual(await onNode('etcd-1', 'systemctl is-active etcd').then((r) => [r.code, r.stdout.trim()]), [0, 'active']);
    assert.deepEqual(await onNode('gw-1', 'systemctl is-active etcd').then((r) => [r.code, r.stdout.trim()]), [3, 'inactive']);
    assert.ok(!existsSync('/etc/etcd/etcd.conf.yaml') && !existsSync('/etc/etcd/ssl/ca.crt'), "this machine's /etc/etcd is untouched");
    assert.ok(!existsSync('/etc/kubernetes/pki/apiserver-etcd-client.crt'), "this machine's /etc/kubernetes is untouched");
  });

  it('the SIMULATED systemctl stops, starts, restarts, kills and reports the real etcd like systemd', async () => {
    const untilHealthy = async () => {
      for (let i = 0; i < 60 && !(await healthy('etcd-3')); i++) await new Promise((r) => setTimeout(r, 250));
      assert.ok(await healthy('etcd-3'));
    };
    const before = etcdPid(lab.nodeDir('etcd-3'));
    const stop = await onNode('etcd-3', 'systemctl stop etcd && systemctl is-active etcd; echo "rc=$?"; systemctl status etcd; echo "rc=$?"');
    assert.match(stop.stdout, /^inactive\nrc=3\n[\s\S]*Active: inactive \(dead\)\nrc=3\n$/);
    assert.equal(await healthy('etcd-3'), false);
    const start = await onNode('etcd-3', 'systemctl daemon-reload && systemctl start etcd && systemctl status etcd');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /Active: active \(running\), main PID (\d+)/);
    await untilHealthy();
    const started = etcdPid(lab.nodeDir('etcd-3'));
    assert.ok(started && started !== before);
    assert.equal((await onNode('etcd-3', 'systemctl restart etcd')).code, 0);
    await untilHealthy();
    assert.notEqual(etcdPid(lab.nodeDir('etcd-3')), started, 'restart runs a new process');
    assert.equal((await onNode('etcd-3', 'systemctl kill -s SIGKILL etcd')).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await onNode('etcd-3', 'systemctl is-active --quiet etcd')).code, 3);
    assert.match((await onNode('etcd-3', 'systemctl start kubelet')).stderr, /Unit kubelet\.service not found/);
    assert.equal((await onNode('etcd-3', 'systemctl start etcd')).code, 0);
    await untilHealthy();
  });

  it('object storage: a real S3 server holds the snapshot bucket, refuses anonymous requests, and the inventory points at it with its keys', async () => {
    const store = lab.objectStore;
    assert.ok(store, 'S3 is running');
    const anonymous = await fetch(`${store.endpoint}/${store.bucket}/probe/object.bin`, { method: 'PUT', body: 'x' });
    assert.equal(anonymous.status, 403, 'the lab store requires credentials');
    const invBackup = (parse(readFileSync(lab.inventoryFile, 'utf8')) as { backup: { objectStore: { endpoint: string; bucket: string; accessKey: { file: string }; secretKey: { file: string } } } }).backup;
    assert.deepEqual([invBackup.objectStore.endpoint, invBackup.objectStore.bucket], [store.endpoint, store.bucket]);
    const s3 = new S3Client({
      endpoint: store.endpoint, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: readFileSync(invBackup.objectStore.accessKey.file, 'utf8').trim(), secretAccessKey: readFileSync(invBackup.objectStore.secretKey.file, 'utf8').trim() },
    });
    try {
      const body = Buffer.from(`snapshot bytes ${Date.now()}`);
      await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: 'probe/object.bin', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: 'probe/object.bin' }));
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
      const listing = await s3.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: 'probe/' }));
      assert.deepEqual(listing.Contents?.map((o) => o.Key), ['probe/object.bin']);
    } finally {
      s3.destroy();
    }
  });

  it('TLS on client and peer URLs: only a client certificate from the lab CA gets an answer', async () => {
    const ip = nodes.get('etcd-1')!.ip;
    const ssl = (f: string) => readFileSync(join(nodeRoot(lab.nodeDir('etcd-1')), '/etc/etcd/ssl', f));
    const etcdctlEnv = { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' as const };
    assert.throws(() => execFileSync('etcdctl', [`--endpoints=http://${ip}:2379`, '--dial-timeout=2s', '--command-timeout=2s', 'endpoint', 'health'], etcdctlEnv));
    assert.throws(() => execFileSync('etcdctl', [`--endpoints=${ep('etcd-1')}`, `--cacert=${join(nodeRoot(lab.nodeDir('etcd-1')), '/etc/etcd/ssl/ca.crt')}`, '--dial-timeout=2s', '--command-timeout=2s', 'endpoint', 'health'], etcdctlEnv));
    assert.ok(await healthy('etcd-1'), 'with the client certificate it answers');

    const peer = (withCert: boolean) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: ip, port: 2380, path: '/version', ca: ssl('ca.crt'), timeout: 3000, ...(withCert ? { cert: ssl('peer.crt'), key: ssl('peer.key') } : {}) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.end();
    });
    const ok = await peer(true);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /"etcdserver":"3\.4\.\d+"/);
    await assert.rejects(peer(false), 'the peer URL refuses a client without a certificate');
    const plain = await fetch(`http://${ip}:2380/version`).then(async (r) => `${r.status} ${await r.text()}`, (e: Error) => e.message);
    assert.doesNotMatch(plain, /etcdserver/, `plain HTTP on the peer port: ${plain}`);
  });

  it('kill-etcd: the member is down, the other two keep quorum and accept writes', async () => {
    assert.match(await fault('kill-etcd', 'etcd-3'), /killed etcd on etcd-3/);
    assert.equal(await healthy('etcd-3'), false);
    assert.equal((await onNode('etcd-3', 'systemctl is-active etcd')).code, 3);
    await ctl('etcd-1', [ep('etcd-1'), ep('etcd-2')], ['put', 'k', 'v']);
    assert.equal((await lab.status()).find((n) => n.name === 'etcd-3')?.etcd, 'stopped');
    await lab.up();
    assert.ok(await healthy('etcd-3'), 'lab up restarts it');
  });

  it('kill-leader: another member leads at a higher term', async () => {
    const term = (out: string) => Number(/"raftTerm":(\d+)/.exec(out)?.[1]);
    const before = term(await ctl('etcd-1', [ep('etcd-1')], ['endpoint', 'status', '-w', 'json']));
    const old = /killed the leader, (etcd-\d)/.exec(await fault('kill-leader'))?.[1];
    assert.ok(old && MEMBERS.includes(old));
    assert.equal(await healthy(old), false);
    let leader: string | undefined;
    for (let i = 0; i < 50 && !leader; i++) {
      await new Promise((r) => setTimeout(r, 200));
      leader = (await lab.status()).find((n) => n.etcd === 'leader')?.name;
    }
    assert.ok(leader && leader !== old, `new leader ${leader}, old ${old}`);
    const after = term(await ctl(leader, [ep(leader)], ['endpoint', 'status', '-w', 'json']));
    assert.ok(after > before, `term ${after} > ${before}`);
    await lab.up();
  });

  it('kill-majority: writes are refused; `up` brings quorum back', async () => {
    const killed = /killed etcd on (.+)/.exec(await fault('kill-majority'))?.[1]?.split(', ') ?? [];
    assert.equal(killed.length, 2);
    const survivor = MEMBERS.find((n) => !killed.includes(n))!;
    await assert.rejects(ctl(survivor, [ep(survivor)], ['put', 'k', 'v2']));
    assert.ok((await lab.status()).every((n) => n.etcd !== 'leader'), 'no leader');
    await lab.up();
    await ctl(survivor, [ep(survivor)], ['put', 'k', 'v3']);
  });

  it('lose-disk: etcd dies and the node finds its data dir empty; `fault clear` gives the disk back', async () => {
    assert.match(await onNode('etcd-2', 'ls -A /var/lib/etcd').then((r) => r.stdout), /member/);
    await fault('lose-disk', 'etcd-2');
    assert.equal((await onNode('etcd-2', 'ls -A /var/lib/etcd')).stdout, '');
    assert.equal(await healthy('etcd-2'), false);
    assert.deepEqual((await lab.status()).find((n) => n.name === 'etcd-2')?.faults, ['lost disk']);
    await fault('clear');
    assert.match(await onNode('etcd-2', 'ls -A /var/lib/etcd').then((r) => r.stdout), /member/);
    await lab.up();
    assert.ok(await healthy('etcd-2'));
  });

  it('corrupt-snapshot and truncate-snapshot: etcd refuses to restore either file; the intact copy restores', async () => {
    const dir = '/var/backups/etcd';
    const save = await onNode('etcd-1', etcdctl(lab.etcdSettings.tls, [ep('etcd-1')], ['snapshot', 'save', `${dir}/good.db`]));
    assert.equal(save.code, 0, save.stderr);
    assert.equal((await onNode('etcd-1', sh`cp ${`${dir}/good.db`} ${`${dir}/corrupt.db`} && cp ${`${dir}/good.db`} ${`${dir}/short.db`}`)).code, 0);
    await fault('corrupt-snapshot', 'etcd-1', `${dir}/corrupt.db`);
    await fault('truncate-snapshot', 'etcd-1', `${dir}/short.db`);
    const restore = (file: string) => onNode('etcd-1', sh`d=$(mktemp -d) && ETCDCTL_API=3 etcdctl snapshot restore ${file} --data-dir "$d/r"; rc=$?; rm -rf "$d"; exit $rc`);
    assert.equal((await restore(`${dir}/good.db`)).code, 0);
    const corrupt = await restore(`${dir}/corrupt.db`);
    assert.notEqual(corrupt.code, 0);
    assert.match(corrupt.stderr, /expected sha256/);
    const short = await restore(`${dir}/short.db`);
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /snapshot missing hash|expected sha256/);
  });

  it('cut-ssh: a session is dropped mid-command; after `fault clear` sessions work again', async () => {
    await fault('cut-ssh', 'etcd-1', '1');
    const s = await ssh('etcd-1');
    try {
      await assert.rejects(s.exec('sleep 5; echo never'), /session ended before the command finished/);
    } finally {
      s.close();
    }
    await fault('clear');
    assert.equal((await onNode('etcd-1', 'sleep 1.5; echo done')).stdout, 'done\n');

    // --once: only the next session is cut, so a retry gets through.
    await fault('cut-ssh', 'etcd-1', '1', '--once');
    await assert.rejects(onNode('etcd-1', 'sleep 5; echo never'), /session ended before the command finished/);
    assert.equal((await onNode('etcd-1', 'sleep 1.5; echo done')).stdout, 'done\n');
  });

  it('drop-ssh: a session open right now is dropped mid-command; new ones are accepted', async () => {
    const s = await ssh('etcd-2');
    try {
      const dropped = assert.rejects(s.exec('sleep 20; echo never'), /session ended before the command finished/);
      await new Promise((r) => setTimeout(r, 500));
      assert.match(await fault('drop-ssh', 'etcd-2'), /dropped [1-9]\d* SSH connection\(s\) to etcd-2/);
      await dropped;
    } finally {
      s.close();
    }
    assert.equal((await onNode('etcd-2', 'echo again')).stdout, 'again\n');
    assert.ok(!lab.processes().some((p) => p.node === 'etcd-2' && p.command.startsWith('sleep 20')), 'the dropped command died with its channel');
  });

  it('power-off: every process of the node is gone, the others run on', async () => {
    assert.ok(lab.processes().some((p) => p.node === 'etcd-3'));
    await fault('power-off', 'etcd-3');
    await assert.rejects(ssh('etcd-3'));
    assert.equal(await healthy('etcd-3'), false);
    assert.deepEqual(lab.processes().filter((p) => p.node === 'etcd-3'), []);
    const r = await mooring(['lab', 'status', '--dir', dir, '-o', 'json']);
    const status = JSON.parse(r.stdout) as { name: string; sshd: string; etcd?: string }[];
    const e3 = status.find((n) => n.name === 'etcd-3');
    assert.deepEqual([e3?.sshd, e3?.etcd], ['down', 'stopped']);
    assert.ok(status.filter((n) => n.name !== 'etcd-3').every((n) => n.sshd === 'up'));
    await ctl('etcd-1', [ep('etcd-1'), ep('etcd-2')], ['put', 'k', 'after-power-off']);
  });

  it('clear + up: every node and member is back and healthy', async () => {
    await fault('clear');
    await lab.up();
    assert.ok(await allHealthy());
    const status = await lab.status();
    assert.ok(status.every((n) => n.sshd === 'up' && n.faults.length === 0), JSON.stringify(status));
    assert.equal(status.filter((n) => n.etcd === 'leader').length, 1);
    assert.equal((await onNode('etcd-3', 'echo up')).stdout, 'up\n');
  });

  it('down leaves no lab process behind (etcd included)', async () => {
    const etcdPids = MEMBERS.map((m) => etcdPid(lab.nodeDir(m))!);
    assert.ok(etcdPids.every(Boolean));
    const r = await mooring(['lab', 'down', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lab.processes(), []);
    const left = execFileSync('ps', ['-eo', 'pid=,stat=,args=']).toString().split('\n')
      .filter((l) => l.includes(dir) || etcdPids.includes(Number(l.trim().split(/\s+/)[0])))
      .filter((l) => !/^\s*\d+\s+Z/.test(l));
    assert.deepEqual(left, []);
  });

  it('destroy asks for --yes, then deletes what the lab made and keeps anything else', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'the operator\'s own file\n');
    const dry = await mooring(['lab', 'destroy', '--dir', dir]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /--yes/);
    assert.ok(existsSync(join(dir, 'nodes')), 'without --yes nothing is deleted');
    const r = await mooring(['lab', 'destroy', '--dir', dir, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /notes\.txt/);
    for (const gone of ['nodes', 'pki', 's3', 'state.json', 'id_ed25519']) assert.ok(!existsSync(join(dir, gone)), `${gone} deleted`);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'the operator\'s own file\n');
    assert.deepEqual(lab.processes(), []);
  });
});

describe('lab: a failed `up` leaves nothing running after `down`', () => {
  const dir = scratchDir('mooring-labfail-');
  const lab = new Lab({ dir, subnet: '127.21.0' });
  after(async () => { await lab.down(); });

  it('etcd-2 cannot start (a broken config): up fails naming it, down stops every process it had started', async () => {
    const config = join(nodeRoot(lab.nodeDir('etcd-2')), '/etc/etcd/etcd.conf.yaml');
    mkdirSync(dirname(config), { recursive: true });
    writeFileSync(config, 'name: etcd-2\nlisten-client-urls: not-a-url\n');
    await assert.rejects(lab.up(), /etcd-2/);
    assert.ok(lab.processes().some((p) => p.node === 'etcd-1'), 'sshd and etcd of the other nodes were running');
    await lab.down();
    assert.deepEqual(lab.processes(), []);
    assert.deepEqual(execFileSync('ps', ['-eo', 'args=']).toString().split('\n').filter((l) => l.includes(dir)), []);
  });
});
