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
import { Context, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { SshSession, type SshOptions, type SshTarget } from '../../activities/ssh/session.js';
import { withSession } from '../../activities/ssh/access.js';
import { sh } from '../../activities/ssh/quote.js';
import { scratchDir } from '../helpers/scratch.js';

interface LabNode { name: string; ip: string; hostKey: string }

describe('SSH session on real sshd', () => {
  let lab: Lab;
  let nodes: Map<string, LabNode>;
  let opts: SshOptions;
  let keyPath: string;
  const target = (name: string, hostKey?: string): SshTarget => {
    const n = nodes.get(name)!;
    return { name, host: n.ip, port: 22, hostKey: hostKey ?? n.hostKey, where: name };
  };

  before(async () => {
    lab = new Lab({ dir: scratchDir('mooring-ssh-'), subnet: '127.24.0' });
    await lab.up();
    const inv = parse(readFileSync(lab.inventoryFile, 'utf8')) as { gateways: LabNode[]; masters: LabNode[]; workers: LabNode[]; etcd: { members: LabNode[] }; ssh: { privateKeyPath: string } };
    nodes = new Map([...inv.gateways, ...inv.masters, ...inv.workers, ...inv.etcd.members].map((n) => [n.name, n]));
    keyPath = inv.ssh.privateKeyPath;
    opts = { user: 'root', privateKey: readFileSync(keyPath), connectTimeoutMs: 10_000 };
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

  it('an activity cancelled during a command ends as cancelled (CancelledFailure), not failed, and the command stops', async () => {
    const marker = `31.${process.pid}`;
    const n = nodes.get('etcd-3')!;
    const host = { name: 'etcd-3', ip: n.ip, sshPort: 22, hostKey: n.hostKey, where: 'etcd.members[2]' };
    const access = { user: 'root', privateKeyPath: keyPath, connectTimeoutSeconds: 10 };
    const cancelled = (what: RegExp) => (err: unknown) => {
      // The worker reports an activity as cancelled only for a CancelledFailure (or an AbortError).
      assert.ok(err instanceof CancelledFailure, `a CancelledFailure, got ${(err as Error).name}: ${(err as Error).message}`);
      assert.match(err.message, what);
      return true;
    };
    // As in the activities: the session and the command get the activity's cancellationSignal.
    const activity = (wrap: boolean) => {
      const env = new MockActivityEnvironment();
      const run = env.run(() => withSession({}, access, host, Context.current().cancellationSignal, async (s) => {
        const signal = Context.current().cancellationSignal;
        const cmd = s.run(`exec sleep ${marker}`, { signal });
        // A caller that wraps errors does not turn the cancellation into a failure either.
        return wrap ? cmd.catch((e: Error) => { throw new Error(`wrapped: ${e.message}`); }) : cmd;
      }));
      setTimeout(() => env.cancel(), 500);
      return run;
    };
    await assert.rejects(activity(false), cancelled(/^etcd-3: command cancelled \(CANCELLED\)$/));
    await assert.rejects(activity(true), cancelled(/^etcd-3: activity cancelled \(CANCELLED\)$/));
    // A streamed command and a connection being opened, cancelled the same way.
    const s = await SshSession.open(target('etcd-3'), opts);
    try {
      const ac = new AbortController();
      const out = await s.streamOut(`exec sleep ${marker}`, { signal: ac.signal });
      const ended = new Promise((resolve, reject) => { out.on('error', reject); out.on('end', resolve); out.resume(); });
      setTimeout(() => ac.abort(), 300);
      await assert.rejects(ended, cancelled(/^etcd-3: command cancelled/));
    } finally {
      s.close();
    }
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(SshSession.open(target('etcd-3'), { ...opts, signal: ac.signal }), cancelled(/^etcd-3: connection cancelled/));
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
