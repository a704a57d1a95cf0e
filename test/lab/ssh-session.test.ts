// The SSH layer against real OpenSSH sshd (lab nodes on loopback): streamed output, exit codes,
// timeouts and cancellation that stop the remote command, atomic uploads with mode and owner,
// a jump host, and host-key pinning on both hops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Lab } from '../../lab/lab.js';
import { SshSession, type SshOptions, type SshTarget } from '../../activities/ssh/session.js';
import { sh } from '../../activities/ssh/quote.js';
import { scratchDir } from '../helpers/scratch.js';

interface LabNode { name: string; ip: string; hostKey: string }

describe('SSH session on real sshd', () => {
  let lab: Lab;
  let nodes: Map<string, LabNode>;
  let opts: SshOptions;
  const target = (name: string, hostKey?: string): SshTarget => {
    const n = nodes.get(name)!;
    return { name, host: n.ip, port: 22, hostKey: hostKey ?? n.hostKey, where: name };
  };

  before(async () => {
    lab = new Lab({ dir: scratchDir('mooring-ssh-'), subnet: '127.24.0' });
    await lab.up();
    const inv = parse(readFileSync(lab.inventoryFile, 'utf8')) as { gateways: LabNode[]; masters: LabNode[]; workers: LabNode[]; etcd: { members: LabNode[] }; ssh: { privateKeyPath: string } };
    nodes = new Map([...inv.gateways, ...inv.masters, ...inv.workers, ...inv.etcd.members].map((n) => [n.name, n]));
    opts = { user: 'root', privateKey: readFileSync(inv.ssh.privateKeyPath), connectTimeoutMs: 10_000 };
  });
  after(async () => { await lab?.down(); });

  it('streams output as it comes and returns the exit code', async () => {
    const s = await SshSession.open(target('etcd-1'), opts);
    try {
      const chunks: string[] = [];
      const r = await s.exec('for i in 1 2 3; do echo line$i; sleep 0.3; done; echo oops >&2; exit 7', { onOutput: (c) => chunks.push(c) });
      assert.equal(r.code, 7);
      assert.equal(r.stdout, 'line1\nline2\nline3\n');
      assert.equal(r.stderr, 'oops\n');
      assert.ok(chunks.length >= 3, `output arrived in pieces: ${JSON.stringify(chunks)}`);
      await assert.rejects(s.run('echo bad >&2; exit 3'), /etcd-1: exit 3: bad/);
      // One connection serves several commands.
      assert.equal((await s.run('echo again')).trim(), 'again');
      assert.equal((await s.exec('cat', { stdin: 'from stdin' })).stdout, 'from stdin');
    } finally {
      s.close();
    }
  });

  it('a timeout or a cancellation stops the remote command too', async () => {
    const s = await SshSession.open(target('etcd-2'), opts);
    const marker = `30.${process.pid}`; // a sleep duration no other process uses
    try {
      await assert.rejects(s.exec(`exec sleep ${marker}`, { timeoutMs: 500 }), /timed out after 500ms/);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await assert.rejects(s.exec(`exec sleep ${marker}`, { signal: ac.signal }), /cancelled/);
    } finally {
      s.close();
    }
    const deadline = Date.now() + 5000;
    let left = '';
    while (Date.now() < deadline) {
      left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l === `sleep ${marker}`).join('\n');
      if (!left) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, '', 'no remote sleep survives');
  });

  it('uploads atomically with mode and owner, and refuses unsafe paths', async () => {
    const dir = scratchDir('upload-');
    const file = join(dir, 'etcd.conf.yaml');
    const s = await SshSession.open(target('master-1'), opts);
    try {
      await s.upload(file, "name: 'x'\n$(not run)\n", { mode: 0o600, owner: 'nobody:nogroup' });
      assert.equal(readFileSync(file, 'utf8'), "name: 'x'\n$(not run)\n");
      const st = statSync(file);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.uid, Number(execFileSync('id', ['-u', 'nobody']).toString()));
      await s.upload(file, 'second\n', { mode: 0o644 });
      assert.equal(readFileSync(file, 'utf8'), 'second\n');
      assert.equal(statSync(file).mode & 0o777, 0o644);
      assert.ok(!existsSync(`${file}.mooring-tmp`), 'no temporary file left');
      await assert.rejects(s.upload(`${dir}/a b; rm -rf /`, 'x', { mode: 0o600 }), /unsafe path/);
      await assert.rejects(s.upload(join(dir, 'no-such-dir', 'f'), 'x', { mode: 0o600 }), /exit 1/);
    } finally {
      s.close();
    }
  });

  it('goes through a jump host; only the target runs the command', async () => {
    const gwBefore = lab.commandsReceived('gw-1').length;
    const s = await SshSession.open(target('etcd-3'), { ...opts, bastion: target('gw-1') });
    try {
      assert.equal((await s.run(sh`echo ${'via bastion'}`)).trim(), 'via bastion');
    } finally {
      s.close();
    }
    assert.equal(lab.commandsReceived('gw-1').length, gwBefore, 'the bastion only forwarded');
    assert.ok(lab.commandsReceived('etcd-3').some((c) => c.includes('via bastion')));
  });

  it('refuses a target or a bastion whose key does not match its pin', async () => {
    const wrong = nodes.get('worker-1')!.hostKey;
    await assert.rejects(SshSession.open(target('etcd-1', wrong), opts), (err: Error) => err.name === 'HostKeyMismatch' && /etcd-1\.hostKey pins/.test(err.message));
    await assert.rejects(SshSession.open(target('etcd-1'), { ...opts, bastion: target('gw-1', wrong) }), (err: Error) => err.name === 'HostKeyMismatch' && /gw-1\.hostKey pins/.test(err.message));
    const unpinned = { ...target('etcd-1') };
    delete unpinned.hostKey;
    await assert.rejects(SshSession.open(unpinned, opts), /no pinned host key/);
  });
});
