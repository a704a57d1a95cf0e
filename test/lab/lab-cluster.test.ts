// The lab from nothing: per-node filesystem views, a TLS etcd cluster from Mooring's PKI, each
// fault caused and observed on the real cluster, and nothing left running after `down`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import { nodeRoot } from '../../lab/node-view.js';
import { SshSession } from '../../activities/ssh/session.js';

describe('lab: real etcd cluster with faults (real sshd, etcd 3.4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mooring-labtest-'));
  const lab = new Lab({ dir, subnet: '127.29.0' });
  const ep = (name: string) => clientEndpoint(lab.etcdSettings, lab.etcdMembers().find((m) => m.name === name)!);
  const ctl = (via: string, endpoints: string[], args: string[]) => hostEtcdctl(lab.etcdSettings, lab.etcdMembers().find((m) => m.name === via)!, endpoints, args, 3);
  const healthy = async (name: string) => memberHealthy(lab.etcdSettings, lab.etcdMembers().find((m) => m.name === name)!);
  let inv: { ssh: { privateKeyPath: string }; etcd: { members: { name: string; ip: string; hostKey: string }[] } };
  const ssh = (name: string) => {
    const m = inv.etcd.members.find((x) => x.name === name)!;
    return SshSession.open({ name, host: m.ip, port: 22, hostKey: m.hostKey, where: name }, { user: 'root', privateKey: readFileSync(inv.ssh.privateKeyPath), connectTimeoutMs: 5000 });
  };

  before(async () => {
    await lab.up();
    inv = parse(readFileSync(lab.inventoryFile, 'utf8'));
  });
  after(async () => { await lab.down(); });

  it('comes up with three healthy TLS members, each host with its own /etc/etcd', async () => {
    assert.equal((await ctl('etcd-1', [ep('etcd-1')], ['member', 'list'])).trim().split('\n').length, 3);
    for (const n of ['etcd-1', 'etcd-2', 'etcd-3']) assert.ok(await healthy(n), n);
    const s1 = await ssh('etcd-1');
    const s2 = await ssh('etcd-2');
    try {
      assert.match(await s1.run('grep ^name: /etc/etcd/etcd.conf.yaml'), /name: etcd-1/);
      assert.match(await s2.run('grep ^name: /etc/etcd/etcd.conf.yaml'), /name: etcd-2/);
      assert.match(await s1.run('systemctl is-active etcd'), /^active/);
    } finally {
      s1.close();
      s2.close();
    }
    assert.ok(!existsSync('/etc/etcd/etcd.conf.yaml'), "the machine's own /etc/etcd is untouched");
    // Client TLS is enforced: plain HTTP and HTTPS without a client certificate both fail.
    assert.throws(() => execFileSync('etcdctl', [`--endpoints=http://${inv.etcd.members[0]!.ip}:2379`, '--dial-timeout=2s', 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' }));
    assert.throws(() => execFileSync('etcdctl', [`--endpoints=${ep('etcd-1')}`, `--cacert=${join(nodeRoot(lab.nodeDir('etcd-1')), '/etc/etcd/ssl/ca.crt')}`, '--dial-timeout=2s', 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' }));
    const a = await lab.up();
    assert.equal(a, lab.inventoryFile, 'a second up is harmless');
  });

  it('object storage: a real S3 server holds the snapshot bucket, and the inventory points at it', async () => {
    const store = lab.objectStore;
    assert.ok(store, 'S3 is running');
    const body = Buffer.from(`snapshot bytes ${Date.now()}`);
    const put = await fetch(`${store.endpoint}/${store.bucket}/probe/object.bin`, { method: 'PUT', body });
    assert.equal(put.status, 200);
    const got = Buffer.from(await (await fetch(`${store.endpoint}/${store.bucket}/probe/object.bin`)).arrayBuffer());
    assert.deepEqual(got, body);
    const listing = await (await fetch(`${store.endpoint}/${store.bucket}?list-type=2&prefix=probe/`)).text();
    assert.match(listing, /<Key>probe\/object\.bin<\/Key>/);
    const invBackup = (parse(readFileSync(lab.inventoryFile, 'utf8')) as { backup: { objectStore: { endpoint: string; bucket: string } } }).backup;
    assert.deepEqual([invBackup.objectStore.endpoint, invBackup.objectStore.bucket], [store.endpoint, store.bucket]);
  });

  it('kill-etcd: the member is down, the other two keep quorum and accept writes', async () => {
    lab.killEtcd('etcd-3');
    assert.equal(await healthy('etcd-3'), false);
    await ctl('etcd-1', [ep('etcd-1'), ep('etcd-2')], ['put', 'k', 'v']);
    assert.equal((await lab.status()).find((n) => n.name === 'etcd-3')?.etcd, 'stopped');
    await lab.up();
    assert.ok(await healthy('etcd-3'), 'lab up restarts it');
  });

  it('kill-leader: another member leads at a higher term', async () => {
    const term = (out: string) => Number(/"raftTerm":(\d+)/.exec(out)?.[1]);
    const before = term(await ctl('etcd-1', [ep('etcd-1')], ['endpoint', 'status', '-w', 'json']));
    const old = await lab.killLeader();
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

  it('kill-majority: writes are refused', async () => {
    const killed = lab.killMajority();
    const alive = ['etcd-1', 'etcd-2', 'etcd-3'].find((n) => !killed.includes(n))!;
    await assert.rejects(ctl(alive, [ep(alive)], ['put', 'k', 'v2']));
    await lab.up();
  });

  it('lose-disk: the data dir is gone and etcd is down', async () => {
    lab.loseDisk('etcd-2');
    assert.deepEqual(readdirSync(join(nodeRoot(lab.nodeDir('etcd-2')), '/var/lib/etcd')), []);
    assert.equal(await healthy('etcd-2'), false);
  });

  it('corrupt and truncate a snapshot: snapshot status or its hash check fails', async () => {
    const path = '/var/backups/etcd/s.db';
    await ctl('etcd-1', [ep('etcd-1')], ['snapshot', 'save', lab.viewPath('etcd-1', path)]);
    execFileSync('cp', [lab.viewPath('etcd-1', path), lab.viewPath('etcd-1', '/var/backups/etcd/t.db')]);
    lab.corruptSnapshot('etcd-1', path);
    lab.truncateSnapshot('etcd-1', '/var/backups/etcd/t.db');
    const s = await ssh('etcd-1');
    try {
      for (const f of [path, '/var/backups/etcd/t.db']) {
        const r = await s.exec(`f=${f}; [ "$(head -c -32 "$f" | sha256sum | cut -d' ' -f1)" = "$(tail -c 32 "$f" | od -An -v -tx1 | tr -d ' \\n')" ]`);
        assert.notEqual(r.code, 0, `${f} fails its integrity check`);
      }
    } finally {
      s.close();
    }
  });

  it('cut-ssh: a session is dropped mid-command', async () => {
    lab.cutSsh('etcd-1', 1);
    const s = await ssh('etcd-1');
    try {
      await assert.rejects(s.exec('sleep 5; echo never'), /session ended before the command finished/);
    } finally {
      s.close();
      lab.clearFaults();
    }
  });

  it('power-off: sshd and etcd are both gone', async () => {
    await lab.powerOff('etcd-3');
    await assert.rejects(ssh('etcd-3'));
    assert.equal(await healthy('etcd-3'), false);
  });

  it('down leaves no lab process behind', async () => {
    await lab.down();
    await new Promise((r) => setTimeout(r, 300));
    const left = execFileSync('ps', ['-eo', 'stat=,args=']).toString().split('\n').filter((l) => l.includes(dir) && !l.startsWith('Z'));
    assert.deepEqual(left, []);
  });
});
