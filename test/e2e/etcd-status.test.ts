// `etcd-status` end to end: the real Temporal dev server, a worker with the real activities, the
// `mooring` CLI, and the lab's real TLS etcd 3.4 cluster behind real sshd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { Lab } from '../../lab/lab.js';
import type { EtcdStatusResult } from '../../workflows/etcd-status.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('etcd-status on the lab (real etcd, sshd, Temporal)', () => {
  let stack: LabStack | undefined;
  let lab: Lab;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    stack = await startLabStack('status', '127.30.0');
    ({ lab, env } = stack);
  });
  after(async () => { await stack?.stop(); });

  const run = () => mooring(['run', 'etcd-status', '-c', lab.inventoryFile, '--wait', '-o', 'json'], env);
  const status = async () => {
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { result: EtcdStatusResult }).result;
  };

  it('three healthy members and exactly one leader, asked over SSH on each member; `mooring status` shows the table', async () => {
    const s = await status();
    assert.deepEqual(s.members.map((m) => [m.name, m.healthy]), [['etcd-1', true], ['etcd-2', true], ['etcd-3', true]]);
    assert.equal(s.members.filter((m) => m.isLeader).length, 1);
    assert.equal(s.leader, s.members.find((m) => m.isLeader)?.name);
    assert.deepEqual(s.findings, []);
    for (const m of s.members) {
      assert.match(m.version ?? '', /^3\.4\.\d+$/);
      assert.match(m.memberId ?? '', /^[0-9a-f]{1,16}$/, 'uint64 IDs kept exact, as hex');
      assert.ok((m.raftTerm ?? 0) > 0 && (m.raftIndex ?? 0) > 0 && (m.dbSize ?? 0) > 0);
      assert.deepEqual(m.memberList?.map((x) => x.name).sort(), ['etcd-1', 'etcd-2', 'etcd-3']);
    }
    assert.equal(new Set(s.members.map((m) => m.memberId)).size, 3);
    // The commands really ran on the member's host, with the production TLS paths.
    const unquoted = lab.commandsReceived('etcd-2').map((c) => c.replace(/['\\]/g, ''));
    assert.ok(unquoted.some((c) => c.includes('etcdctl --endpoints=https://127.30.0.12:2379 --cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key') && c.includes('endpoint status -w json')), unquoted.join('\n'));
    assert.ok(unquoted.some((c) => c.includes('member list -w json')));

    const shown = await mooring(['status', 'etcd-status/lab'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\| member \| endpoint \| health \| role \| raft term \| raft index \| revision \| db size \| version \| member ID \|/);
    for (const m of s.members) assert.match(shown.stdout, new RegExp(`\\| ${m.name} \\| https://${m.ip.replace(/\./g, '\\.')}:2379 \\| healthy \\| ${m.isLeader ? 'leader' : 'follower'} \\|`));
    assert.match(shown.stdout, /All 3 members healthy; leader etcd-\d\./);
  });

  it('a killed member: the run completes with a finding that names it', async () => {
    lab.killEtcd('etcd-2');
    const s = await status();
    assert.equal(s.quorum, true);
    assert.equal(s.members.filter((m) => m.isLeader).length, 1);
    assert.equal(s.members.find((m) => m.name === 'etcd-2')?.healthy, false);
    assert.deepEqual(s.findings, ['etcd-2: etcd not healthy (connect: connection refused)']);
  });

  it('no member answers: the run fails and says so for each member', async () => {
    lab.killEtcd('etcd-1');
    lab.killEtcd('etcd-3');
    const r = await run();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no etcd member answers: etcd-1: connect: connection refused; etcd-2: connect: connection refused; etcd-3: connect: connection refused/);
    await lab.up();
    assert.equal((await status()).findings.length, 0, 'healthy again after `lab up`');
  });
});
