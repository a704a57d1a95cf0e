// The checks `backup verify` runs on the worker, against a real snapshot of a real etcd 3.4 and the
// real etcdctl: a good snapshot restores; a snapshot whose own bytes are wrong is BAD; and every
// way this worker can fail to run the check (tool missing, not executable, hanging, the scratch
// file system full) is INCONCLUSIVE, which retention never holds against the snapshot.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAndTrialRestore, workerTrouble } from '../../activities/backup/trial-restore.js';
import { freeLoopbackPorts } from '../helpers/ports.js';
import { scratchDir } from '../helpers/scratch.js';

const etcdctl = (endpoint: string, ...args: string[]) => execFileSync('etcdctl', [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' } }).toString();

/** Runs `fn` with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('trial restore on the worker (real etcd 3.4 snapshot, real etcdctl)', () => {
  const dir = scratchDir('trial-restore-');
  let etcd: ChildProcess | undefined;
  let good: string;
  let tmpfs: string | undefined;
  const fresh = () => mkdtempSync(join(dir, 'scratch-'));

  before(async () => {
    const [client, peer] = await freeLoopbackPorts(2) as [number, number];
    const endpoint = `http://127.0.0.1:${client}`;
    etcd = spawn('etcd', ['--name', 'src', '--data-dir', join(dir, 'src'), '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `src=http://127.0.0.1:${peer}`], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try { etcdctl(endpoint, 'endpoint', 'health'); break; } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error('the source etcd did not come up');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 30; i++) etcdctl(endpoint, 'put', `/k/${i}`, `v${i}`);
    good = join(dir, 'good.db');
    etcdctl(endpoint, 'snapshot', 'save', good);
  });
  after(() => {
    etcd?.kill('SIGKILL');
    if (tmpfs) execFileSync('umount', [tmpfs]);
  });

  it('a good snapshot: good, with its revision and keys, restored with etcdctl', async () => {
    const r = await checkAndTrialRestore(good, fresh());
    assert.equal(r.verdict, 'good', r.problem);
    assert.equal(r.ok, true);
    assert.ok((r.revision ?? 0) >= 30 && (r.totalKeys ?? 0) >= 30, JSON.stringify(r));
    assert.equal(r.restored, true);
  });

  it('bad bytes are BAD: truncated, or damaged inside with a matching appended sha256 (snapshot status refuses it)', async () => {
    const bytes = readFileSync(good);
    const truncated = join(dir, 'truncated.db');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    const t = await checkAndTrialRestore(truncated, fresh());
    assert.deepEqual([t.ok, t.verdict], [false, 'bad']);
    assert.match(t.problem!, /appended by snapshot save does not match/);

    // Both bolt meta pages damaged, then the appended sha256 recomputed: only etcd can tell.
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
    body[24]! ^= 0xff;
    body[4096 + 24]! ^= 0xff;
    const damaged = join(dir, 'damaged.db');
    writeFileSync(damaged, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    const d = await checkAndTrialRestore(damaged, fresh());
    assert.deepEqual([d.ok, d.verdict], [false, 'bad']);
    assert.match(d.problem!, /snapshot status refused it: .*checksum error/);
  });

  it('etcdctl or etcdutl missing, or not executable: INCONCLUSIVE, not bad', async () => {
    const missing = join(dir, 'no-such-etcdctl');
    const a = await withEnv({ MOORING_ETCDCTL_BIN: missing }, () => checkAndTrialRestore(good, fresh()));
    assert.deepEqual([a.ok, a.verdict], [false, 'inconclusive']);
    assert.match(a.problem!, /cannot run snapshot status: MOORING_ETCDCTL_BIN=.*no-such-etcdctl does not exist/);

    const b = await withEnv({ MOORING_ETCDUTL_BIN: join(dir, 'no-such-etcdutl') }, () => checkAndTrialRestore(good, fresh()));
    assert.equal(b.verdict, 'inconclusive', 'a named etcdutl that is missing is reported, not replaced by etcdctl');
    assert.match(b.problem!, /cannot run the trial restore: MOORING_ETCDUTL_BIN=.*does not exist/);

    const notExecutable = join(dir, 'etcdutl-copy');
    copyFileSync(execFileSync('sh', ['-c', 'command -v etcdctl']).toString().trim(), notExecutable);
    chmodSync(notExecutable, 0o644);
    const c = await withEnv({ MOORING_ETCDUTL_BIN: notExecutable }, () => checkAndTrialRestore(good, fresh()));
    assert.deepEqual([c.ok, c.verdict], [false, 'inconclusive']);
    assert.match(c.problem!, /trial restore could not run on this worker: .*etcdutl-copy could not be started \(EACCES: not executable\)/);
  });

  it('a restore tool that hangs past its time limit: INCONCLUSIVE', async () => {
    const hanging = join(dir, 'etcdutl-hangs');
    writeFileSync(hanging, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const r = await withEnv({ MOORING_ETCDUTL_BIN: hanging }, () => checkAndTrialRestore(good, fresh(), undefined, { restoreMs: 500 }));
    assert.deepEqual([r.ok, r.verdict], [false, 'inconclusive']);
    assert.match(r.problem!, /etcdutl-hangs was stopped after its time limit/);
    assert.equal(r.revision !== undefined, true, 'snapshot status had passed');
  });

  it('a scratch file system without space (a 2 MiB tmpfs): the real etcdctl fails with ENOSPC, INCONCLUSIVE', async () => {
    tmpfs = join(dir, 'tiny');
    mkdirSync(tmpfs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', tmpfs]);
    const r = await checkAndTrialRestore(good, tmpfs);
    assert.deepEqual([r.ok, r.verdict], [false, 'inconclusive'], r.problem);
    assert.match(r.problem!, /no space left on device/i);
  });

  it('workerTrouble: real errors of this machine are named; a tool that ran and refused the file is not', () => {
    let enoent: unknown;
    try { execFileSync(join(dir, 'absent-tool')); } catch (err) { enoent = err; }
    assert.match(workerTrouble(enoent, 'absent-tool') ?? '', /could not be started \(ENOENT/);
    let enospc: unknown;
    try { writeFileSync('/dev/full', 'x'); } catch (err) { enospc = err; }
    assert.match(workerTrouble(enospc, 'x') ?? '', /^ENOSPC/);
    let refused: unknown;
    try { execFileSync('etcdctl', ['snapshot', 'status', join(dir, 'damaged.db')], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' }); } catch (err) { refused = err; }
    assert.ok(refused, 'etcdctl refuses the damaged snapshot');
    assert.equal(workerTrouble(refused, 'etcdctl'), undefined);
  });
});
