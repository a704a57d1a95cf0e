// Snapshot handling of the majority recovery against real etcd (3.4 and 3.6) and real sshd:
// candidates are found, a truncated one is rejected by `snapshot status`, a good one restores
// (etcdctl on 3.4, etcdutl with --bump-revision --mark-compacted on 3.6) into a data dir that a
// real etcd of the same release then serves the keys from; restoring over foreign data is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, truncateSync, copyFileSync, utimesSync, renameSync, existsSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Lab } from '../../lab/lab.js';
import { SshSession } from '../../activities/ssh/session.js';
import { checkSnapshot, listSnapshots, restoreSnapshot } from '../../activities/etcd-recovery/snapshots.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import type { SnapshotSearch } from '../../activities/etcd-recovery/index.js';
import { loadInventory } from '../../config/load.js';
import { etcdTargetOf, memberRefsOf } from '../../workflows/etcd-recovery/target.js';
import { freeLoopbackPorts } from '../helpers/ports.js';
import { scratchDir } from '../helpers/scratch.js';
import { etcdVersionsUnderTest } from '../helpers/etcd-versions.js';

for (const v of etcdVersionsUnderTest({ '3.4': '127.26.0', '3.6': '127.66.0' })) {
  const ETCDCTL = (endpoint: string, ...args: string[]) => execFileSync(v.bin('etcdctl'), [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' } }).toString();

  function startEtcd(dataDir: string, name: string, client: number, peer: number, extra: string[] = []): ChildProcess {
    return spawn(v.bin('etcd'), ['--name', name, '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, ...extra], { stdio: 'ignore' });
  }

  async function until(what: string, fn: () => boolean, ms = 15_000) {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const healthy = (endpoint: string) => () => { try { ETCDCTL(endpoint, 'endpoint', 'health'); return true; } catch { return false; } };

  describe(`etcd ${v.etcd} snapshots over SSH (real etcd, real sshd)`, () => {
    let lab: Lab;
    let s: SshSession;
    let version: string;
    const dir = scratchDir('snap-');
    const procs: ChildProcess[] = [];

    before(async () => {
      lab = new Lab({ dir: join(dir, 'lab'), subnet: v.subnet, etcdVersion: v.etcd });
      await lab.up();
      version = lab.etcdVersions['etcd-1']!;
      const inv = parse(readFileSync(lab.inventoryFile, 'utf8')) as { etcd: { members: { name: string; ip: string; hostKey: string }[] }; ssh: { privateKeyPath: string } };
      const m = inv.etcd.members[0]!;
      s = await SshSession.open({ name: m.name, host: m.ip, port: 22, hostKey: m.hostKey, where: m.name }, { user: 'root', privateKey: readFileSync(inv.ssh.privateKeyPath), connectTimeoutMs: 10_000 });
    });
    after(async () => {
      s?.close();
      for (const p of procs) p.kill('SIGKILL');
      await lab?.down();
    });

    it('finds, checks, rejects a truncated copy, restores, and the restored etcd serves the data', async () => {
      const [c1, p1, c2, p2] = await freeLoopbackPorts(4) as [number, number, number, number];
      const src = startEtcd(join(dir, 'src'), 'src', c1, p1, ['--initial-cluster', `src=http://127.0.0.1:${p1}`]);
      procs.push(src);
      const e1 = `http://127.0.0.1:${c1}`;
      await until('source etcd', healthy(e1));
      for (let i = 0; i < 20; i++) ETCDCTL(e1, 'put', `/canary/${i}`, `value-${i}`);
      const snaps = join(dir, 'snaps');
      mkdirSync(snaps);
      ETCDCTL(e1, 'snapshot', 'save', join(snaps, 'good.db'));
      copyFileSync(join(snaps, 'good.db'), join(snaps, 'newer-but-truncated.db'));
      truncateSync(join(snaps, 'newer-but-truncated.db'), 8192);
      utimesSync(join(snaps, 'good.db'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      writeFileSync(join(snaps, 'notes.txt'), 'not a snapshot');
      src.kill('SIGKILL');

      const ac = new AbortController();
      const found = await listSnapshots(s, snaps, ac.signal);
      assert.deepEqual(found.map((f) => f.path), [join(snaps, 'newer-but-truncated.db'), join(snaps, 'good.db')]);
      const [bad, good] = [await checkSnapshot(s, found[0]!, ac.signal), await checkSnapshot(s, found[1]!, ac.signal)];
      assert.equal(bad.ok, false);
      assert.ok(bad.error);
      assert.equal(good.ok, true);
      assert.ok((good.revision ?? 0) >= 20, `revision ${good.revision}`);

      const dataDir = join(dir, 'restored');
      mkdirSync(dataDir);
      const spec = { snapshot: good.path, name: 'r1', initialCluster: `r1=http://127.0.0.1:${p2}`, clusterToken: 'mooring-restore-test', peerUrl: `http://127.0.0.1:${p2}`, dataDir };
      const r = await restoreSnapshot(s, spec, version, ac.signal);
      const on34 = version.startsWith('3.4.');
      assert.deepEqual([r.tool, r.alreadyRestored], [on34 ? 'etcdctl' : 'etcdutl', false]);
      // Debian's 3.4.23 predates --bump-revision (3.4.27); etcdutl 3.6 has it.
      assert.equal(r.bumpedRevision, !on34, r.note);
      assert.match(r.note, on34 ? /bump-revision skipped/ : /revision bumped/);
      const again = await restoreSnapshot(s, spec, version, ac.signal);
      assert.equal(again.alreadyRestored, true, 'a retried restore leaves the restored data alone');
      // A crash after the marker but before the move: the retry finishes the move.
      renameSync(dataDir, `${dataDir}.restoring`);
      const resumed = await restoreSnapshot(s, spec, version, ac.signal);
      assert.equal(resumed.alreadyRestored, true);
      assert.ok(existsSync(join(dataDir, 'member', 'snap', 'db')) && !existsSync(`${dataDir}.restoring`), 'moved into place by the retry');

      const restored = startEtcd(dataDir, 'r1', c2, p2, ['--initial-cluster', `r1=http://127.0.0.1:${p2}`]);
      procs.push(restored);
      const e2 = `http://127.0.0.1:${c2}`;
      await until('restored etcd', healthy(e2));
      assert.equal(ETCDCTL(e2, 'get', '/canary/19', '--print-value-only').trim(), 'value-19');
      assert.equal(ETCDCTL(e2, 'get', '/canary/', '--prefix', '--keys-only').split('\n').filter(Boolean).length, 20);
      const revision = Number(/"revision":(\d+)/.exec(ETCDCTL(e2, 'endpoint', 'status', '-w', 'json'))?.[1]);
      if (!on34) assert.ok(revision > 1_000_000_000, `revision ${revision} bumped past the snapshot's ${good.revision}`);
      else assert.ok(revision >= (good.revision ?? 0) && revision < 1_000_000_000, `revision ${revision}`);

      const foreign = join(dir, 'foreign');
      mkdirSync(foreign);
      writeFileSync(join(foreign, 'something'), 'x');
      await assert.rejects(restoreSnapshot(s, { ...spec, dataDir: foreign }, version, ac.signal), /not empty and was not restored by this run/);
    });

    it('findEtcdSnapshots checks newest first and stops at the first good file; heartbeats carry progress; a retry reuses recorded checks', async () => {
      // Three files of the first test's good snapshot: the newest truncated, then two good ones.
      const find = join(dir, 'find');
      mkdirSync(find);
      const at = (name: string, agoS: number) => { const d = new Date(Date.now() - agoS * 1000); utimesSync(join(find, name), d, d); };
      copyFileSync(join(dir, 'snaps', 'good.db'), join(find, 'oldest-good.db'));
      copyFileSync(join(dir, 'snaps', 'good.db'), join(find, 'middle-good.db'));
      copyFileSync(join(dir, 'snaps', 'good.db'), join(find, 'newest-truncated.db'));
      truncateSync(join(find, 'newest-truncated.db'), 8192);
      at('oldest-good.db', 300); at('middle-good.db', 200); at('newest-truncated.db', 100);
      const inv = await loadInventory(lab.inventoryFile);
      const input = { target: etcdTargetOf(inv), hosts: memberRefsOf(inv).slice(0, 1), dir: find };

      const env = new MockActivityEnvironment();
      const beats: { checking?: string; bytes?: number; checked?: Record<string, { path: string }[]> }[] = [];
      env.on('heartbeat', (d: (typeof beats)[number]) => beats.push(d));
      const [first] = (await env.run(createActivities().findEtcdSnapshots, input)) as SnapshotSearch[];
      assert.deepEqual(first!.checks.map((c) => [c.path.split('/').pop(), c.ok]), [['newest-truncated.db', false], ['middle-good.db', true]]);
      assert.equal(first!.notChecked, 1, 'the oldest file is not read: an older file on the same host is never chosen');
      const recorded = beats.at(-1)?.checked?.[input.hosts[0]!.name];
      assert.deepEqual(recorded?.map((c) => c.path.split('/').pop()), ['newest-truncated.db', 'middle-good.db'], 'each finished check is in the heartbeat');

      // A retry (the worker was killed) starts from the last heartbeat: the truncated file's check is
      // taken from it, not made again; a recorded check of a file that changed since is ignored.
      const stale = { ...first!.checks[1]!, mtime: first!.checks[1]!.mtime - 1, ok: false, error: 'recorded for another file' };
      const earlier = { ...first!.checks[0]!, error: 'recorded by the killed attempt' };
      const retry = new MockActivityEnvironment({ heartbeatDetails: { checked: { [input.hosts[0]!.name]: [earlier, stale] } } });
      const [again] = (await retry.run(createActivities().findEtcdSnapshots, input)) as SnapshotSearch[];
      assert.equal(again!.checks[0]!.error, 'recorded by the killed attempt');
      assert.equal(again!.checks[1]!.ok, true, 'the changed file was checked again');
    });
  });
}
