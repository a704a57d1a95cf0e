// etcd-backup end to end on the lab: the real Temporal dev server and Schedules, a worker with
// the real activities, the lab's real TLS etcd 3.4 behind real sshd, and real SeaweedFS S3 with
// authentication. Every failure the issue names is caused for real: a member dying during its
// snapshot, the object store crashing, a snapshot truncated on disk before it ships.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Lab } from '../../lab/lab.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import type { EtcdBackupResult } from '../../workflows/etcd-backup/backup.js';
import { backupTargetOf } from '../../workflows/etcd-backup/target.js';
import { etcdTargetOf, memberRefsOf } from '../../workflows/etcd-recovery/target.js';
import { createBackupActivities, remotePrefix } from '../../activities/backup/index.js';
import { createActivities } from '../../activities/index.js';
import { openObjectStore } from '../../activities/backup/object-store.js';
import { isTrusted, snapshotKey } from '../../activities/backup/snapshot-meta.js';
import { openDecryptedSnapshot, shipSnapshot } from '../../activities/backup/transfer.js';
import { keyFingerprint } from '../../activities/backup/encryption.js';
import { resolveKey256 } from '../../activities/secrets.js';
import type { TakenSnapshot } from '../../activities/backup/node-snapshot.js';
import { createBackupSchedule } from '../../client/schedules.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { eventually } from '../helpers/temporal.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('etcd-backup on the lab (real etcd, sshd, S3, Temporal Schedules)', () => {
  let stack: LabStack | undefined;
  let lab: Lab;
  let env: NodeJS.ProcessEnv;
  let inv: Inventory;
  before(async () => {
    stack = await startLabStack('backup', '127.35.0');
    ({ lab, env } = stack);
    inv = await loadInventory(lab.inventoryFile);
  });
  after(async () => { await stack?.stop(); });

  const remote = async () => {
    const b = backupTargetOf(inv)!;
    const store = await openObjectStore(b.objectStore);
    try { return await store.listSnapshots(remotePrefix(b)); } finally { store.close(); }
  };
  const localFiles = (node: string) => {
    const dir = lab.viewPath(node, '/var/backups/etcd');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.db')).sort() : [];
  };
  const backupRun = async (args: string[] = [], inventoryFile = lab.inventoryFile) => {
    const r = await mooring(['backup', 'run', '-c', inventoryFile, ...args], env, 240_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return (await stack!.t.client.workflow.getHandle(args.includes('--dry-run') ? 'plan/etcd-backup/lab' : 'ops/lab').result()) as EtcdBackupResult;
  };

  it('a scheduled run snapshots a follower and ships a verified, encrypted snapshot to S3; list and verify (trial restore) work from the CLI', async () => {
    const client = stack!.t.client;
    // Data to back up (a fresh cluster's keyspace is empty, at revision 0).
    await new MockActivityEnvironment().run(createActivities().etcdCanary, { target: etcdTargetOf(inv), via: memberRefsOf(inv)[0]!, endpoints: lab.etcdMembers().map((m) => `https://${m.ip}:2379`), op: 'put' as const, key: 'backup-canary', value: 'v1' });
    await createBackupSchedule(client, inv, { every: '1h', jitter: '0s', taskQueue: stack!.taskQueue });
    await client.schedule.getHandle('backup/lab').trigger();
    const result = await eventually('the scheduled run to finish', async () => {
      const d = await client.schedule.getHandle('backup/lab').describe();
      const action = d.info.recentActions.at(-1);
      if (!action) return undefined;
      const parent = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
      const desc = await parent.describe();
      return desc.status.name === 'RUNNING' ? undefined : (await parent.result()) as { outcome: string; result: EtcdBackupResult };
    }, 180_000, 500);
    assert.equal(result.outcome, 'ran');
    const r = result.result;
    assert.equal(r.outcome, 'completed', r.report);
    const status = await mooring(['run', 'etcd-status', '-c', lab.inventoryFile, '--wait', '-o', 'json'], env);
    const leaderName = (JSON.parse(status.stdout) as { result: { leader: string } }).result.leader;
    assert.notEqual(r.snapshot!.member, leaderName, 'a follower is preferred');
    assert.ok(r.snapshot!.revision > 0 && r.snapshot!.totalKeys > 0 && /^3\.4\./.test(r.snapshot!.etcdVersion), JSON.stringify(r.snapshot));
    assert.ok(localFiles(r.snapshot!.member).includes(r.snapshot!.path.split('/').pop()!), 'the local copy stays on the member');

    const stored = await remote();
    assert.equal(stored.length, 1);
    const s = stored[0]!;
    assert.equal(s.complete, true);
    assert.equal(s.verified, true);
    assert.equal(s.sha256, r.snapshot!.sha256);
    assert.equal(s.member, r.snapshot!.member);
    assert.equal(s.revision, r.snapshot!.revision);
    assert.equal(s.cluster, 'lab');
    assert.ok(s.size > r.snapshot!.size, 'ciphertext carries a header and a tag per chunk');

    const list = await mooring(['backup', 'list', '-c', lab.inventoryFile], env);
    assert.equal(list.code, 0, list.stderr);
    const id = s.key.split('/').pop()!.replace(/\.db\.enc$/, '');
    assert.match(list.stdout, new RegExp(`${id}.*${s.member}.*${s.revision}.*verified`));

    const verify = await mooring(['backup', 'verify', '-c', lab.inventoryFile, id], env, 240_000);
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    const after = (await remote())[0]!;
    assert.equal(after.roundTrip?.ok, true, 'the round trip is recorded in the manifest');
    const listed = await mooring(['backup', 'list', '-c', lab.inventoryFile, '-o', 'json'], env);
    assert.equal((JSON.parse(listed.stdout) as { roundTrip?: { ok: boolean } }[])[0]?.roundTrip?.ok, true);
    await client.schedule.getHandle('backup/lab').delete();
  });

  it('verify on a worker that cannot check (etcdutl not executable, scratch dir too small) is INCONCLUSIVE and the snapshot stays trusted; a corrupt one becomes BAD', async () => {
    const b = backupTargetOf(inv)!;
    const good = (await remote())[0]!;
    assert.equal(isTrusted(good), true);
    const id = good.key.split('/').pop()!.replace(/\.db\.enc$/, '');
    const labDir = dirname(lab.inventoryFile);
    // The worker runs in this process: these variables are its environment.
    const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };

    const notExecutable = join(labDir, 'etcdutl-not-executable');
    copyFileSync(execFileSync('sh', ['-c', 'command -v etcdctl']).toString().trim(), notExecutable);
    chmodSync(notExecutable, 0o644);
    const savedUtl = process.env.MOORING_ETCDUTL_BIN;
    process.env.MOORING_ETCDUTL_BIN = notExecutable;
    let v: Awaited<ReturnType<typeof mooring>>;
    try {
      v = await mooring(['backup', 'verify', '-c', lab.inventoryFile, id], env, 240_000);
    } finally {
      restore('MOORING_ETCDUTL_BIN', savedUtl);
    }
    assert.notEqual(v.code, 0, 'nothing was proved: the command does not report success');
    assert.match(`${v.stdout}\n${v.stderr}`, /VerificationInconclusive/);
    assert.match(v.stdout, /INCONCLUSIVE \(this worker could not check it; the snapshot keeps its trust\)/);
    let entry = (await remote()).find((x) => x.key === good.key)!;
    assert.equal(entry.roundTrip?.ok, true, 'the earlier conclusive round trip stands');
    assert.match(entry.inconclusive?.problem ?? '', /etcdutl-not-executable could not be started \(EACCES: not executable\)/);
    assert.equal(isTrusted(entry), true);

    const tiny = join(labDir, 'tiny-scratch');
    mkdirSync(tiny, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tiny]);
    const savedDir = process.env.MOORING_VERIFY_DIR;
    process.env.MOORING_VERIFY_DIR = tiny;
    try {
      v = await mooring(['backup', 'verify', '-c', lab.inventoryFile, id], env, 240_000);
    } finally {
      restore('MOORING_VERIFY_DIR', savedDir);
      execFileSync('umount', [tiny]);
    }
    assert.notEqual(v.code, 0);
    entry = (await remote()).find((x) => x.key === good.key)!;
    assert.match(entry.inconclusive?.problem ?? '', /scratch dir .*tiny-scratch.* has [\d.]+ MiB free; .* need about/);
    assert.equal(entry.roundTrip?.ok, true);
    assert.equal(isTrusted(entry), true);
    const listed = await mooring(['backup', 'list', '-c', lab.inventoryFile], env);
    assert.match(listed.stdout, new RegExp(`${id}.*restores .*; last verify inconclusive`));
    // Retention counts it as verified: the inconclusive checks are not held against it.
    const dry = await backupRun(['--dry-run']);
    const planned = [...dry.retention.find((x) => x.where.startsWith('s3'))!.plan.keep, ...dry.retention.find((x) => x.where.startsWith('s3'))!.plan.delete].find((x) => x.id === good.key);
    assert.equal(planned?.verified, true);

    // A snapshot whose own bytes are wrong: both bolt meta pages damaged, the appended sha256
    // recomputed, stored under its own (matching) catalogue sha256. Only etcd can tell it is bad.
    const encryptionKey = await resolveKey256(b.encryptionKey, 'backup.encryptionKey');
    const keyId = keyFingerprint(encryptionKey);
    const resolve = () => encryptionKey;
    const store = await openObjectStore(b.objectStore);
    const corruptKey = snapshotKey(b.prefix, { cluster: 'lab', member: good.member, revision: good.revision, takenAt: '2020-01-01T00:00:00.000Z' });
    try {
      const chunks: Buffer[] = [];
      for await (const c of (await openDecryptedSnapshot(store, good.key, resolve)).stream) chunks.push(c as Buffer);
      const plain = Buffer.concat(chunks);
      const body = Buffer.from(plain.subarray(0, plain.length - 32));
      body[24]! ^= 0xff;
      body[4096 + 24]! ^= 0xff;
      const damaged = Buffer.concat([body, createHash('sha256').update(body).digest()]);
      await shipSnapshot(store, Readable.from([damaged]), { key: corruptKey, encryptionKey, metadata: {
        cluster: 'lab', member: good.member, revision: good.revision, etcdVersion: good.etcdVersion, takenAt: '2020-01-01T00:00:00.000Z', keyId, verified: true,
        sha256: createHash('sha256').update(damaged).digest('hex'),
      } });
      const bad = await mooring(['backup', 'verify', '-c', lab.inventoryFile, corruptKey.split('/').pop()!.replace(/\.db\.enc$/, '')], env, 240_000);
      assert.notEqual(bad.code, 0);
      assert.match(`${bad.stdout}\n${bad.stderr}`, /SnapshotBad/);
      const c = (await remote()).find((x) => x.key === corruptKey)!;
      assert.equal(c.roundTrip?.ok, false);
      assert.match(c.roundTrip?.problem ?? '', /snapshot status refused it: .*checksum error/);
      assert.equal(isTrusted(c), false);
    } finally {
      await store.deleteSnapshot(corruptKey);
      store.close();
    }
  });

  it('a member that dies during its snapshot: the run moves to the next healthy member', async () => {
    for (const m of lab.etcdMembers()) lab.slowSsh(m.name, 2); // room to kill etcd while the save command starts
    const seen = new Map(lab.etcdMembers().map((m) => [m.name, lab.commandsReceived(m.name).length]));
    const running = backupRun();
    const victim = await eventually('a snapshot save to start', () => Promise.resolve(lab.etcdMembers().find((m) =>
      lab.commandsReceived(m.name).slice(seen.get(m.name)).some((c) => c.replace(/['\\]/g, '').includes('snapshot save')))?.name), 60_000, 20);
    lab.killEtcd(victim);
    const r = await running;
    lab.clearFaults();
    assert.equal(r.outcome, 'completed', r.report);
    assert.equal(r.attempts[0]?.member, victim, r.report);
    assert.notEqual(r.snapshot!.member, victim);
    assert.ok((await remote()).some((s) => s.sha256 === r.snapshot!.sha256 && s.complete));
    assert.ok(!readdirSync(lab.viewPath(victim, '/var/backups/etcd')).some((f) => f.includes('.partial')), 'no partial file left behind');
    await lab.up();
  });

  it('the object store down: the snapshot stays on the node, the run is degraded, nothing is deleted', async () => {
    const before = await remote();
    const localBefore = new Map(lab.etcdMembers().map((m) => [m.name, localFiles(m.name)]));
    await lab.stopObjectStore();
    const r = await backupRun();
    assert.equal(r.outcome, 'degraded', r.report);
    assert.match(r.problems.join('\n'), /object store unavailable: .*cannot reach/);
    assert.match(r.report, /nothing was deleted/);
    assert.equal(r.retention.length, 0);
    const name = r.snapshot!.path.split('/').pop()!;
    for (const m of lab.etcdMembers()) {
      const now = localFiles(m.name);
      for (const f of localBefore.get(m.name)!) assert.ok(now.includes(f), `${f} on ${m.name} was kept`);
    }
    assert.ok(localFiles(r.snapshot!.member).includes(name));
    await lab.up(); // the store comes back on the same address
    assert.deepEqual((await remote()).map((s) => s.key), before.map((s) => s.key), 'nothing reached or left the bucket');
  });

  it('retention: a dry run prints what would go and why; a real run deletes exactly that, in the bucket and on the member', async () => {
    while ((await remote()).length < 3) await backupRun();
    // The same lab with keep-last 1: all snapshots lie in one hour, so every bucket keeps only the newest.
    const strict = join(dirname(lab.inventoryFile), 'inventory-keep1.yaml');
    const doc = parse(readFileSync(lab.inventoryFile, 'utf8')) as { backup: { retention: Record<string, number> } };
    doc.backup.retention = { keepLast: 1, hourly: 1, daily: 1, weekly: 1, monthly: 1 };
    writeFileSync(strict, stringify(doc));
    const dry = await backupRun(['--dry-run'], strict);
    assert.equal(dry.outcome, 'dry-run');
    const plan = dry.retention.find((x) => x.where.startsWith('s3'))!.plan;
    const all = await remote();
    assert.deepEqual(plan.delete.map((d) => d.id).sort(), all.slice(0, -1).map((s) => s.key).sort(), 'all but the newest');
    assert.deepEqual(plan.keep.map((k) => k.id), [all.at(-1)!.key]);
    assert.ok(plan.delete.every((d) => /not selected by the policy/.test(d.reason)));
    assert.deepEqual((await remote()).map((s) => s.key), all.map((s) => s.key), 'a dry run deletes nothing');
    const shown = await mooring(['status', 'plan/etcd-backup/lab'], env);
    assert.match(shown.stdout, /DRY RUN/);
    assert.match(shown.stdout, /DELETE/);

    const r = await backupRun([], strict);
    const remoteOutcome = r.retention.find((x) => x.where.startsWith('s3'))!;
    const left = await remote();
    assert.deepEqual(left.map((s) => s.key), [r.uploaded!.key], 'only the new snapshot is left in the bucket');
    assert.deepEqual(remoteOutcome.deleted.sort(), all.map((s) => s.key).sort(), 'exactly what the plan said: every older one');
    for (const local of r.retention.filter((x) => !x.where.startsWith('s3'))) {
      const node = local.where.split(':')[0]!;
      const files = localFiles(node);
      for (const d of local.deleted) assert.ok(!files.includes(d), `${d} deleted on ${node}`);
      assert.ok(files.length <= 1, `${node} keeps only its newest: ${files.join(', ')}`);
    }
  });

  it('a snapshot truncated on the node after its check is refused by the upload: nothing is committed as good', async () => {
    const b = backupTargetOf(inv)!;
    const target = etcdTargetOf(inv);
    const host = memberRefsOf(inv)[0]!;
    const acts = createBackupActivities({});
    const env0 = new MockActivityEnvironment();
    const snap: TakenSnapshot = await env0.run(acts.takeEtcdSnapshot, { target, host, dir: b.localDir, name: 'lab-20200101T000000Z-etcd-1.db' });
    lab.truncateSnapshot('etcd-1', snap.path);
    await assert.rejects(new MockActivityEnvironment().run(acts.uploadEtcdSnapshot, { target, host, backup: b, snapshot: snap }),
      (err: Error & { type?: string }) => err.type === 'SnapshotDigestMismatch' || /bytes arrived|sha256/.test(err.message));
    const key = snapshotKey(b.prefix, { cluster: 'lab', member: 'etcd-1', revision: snap.revision, takenAt: snap.takenAt });
    assert.ok(!(await remote()).some((s) => s.key === key && s.complete), 'no committed object for the truncated file');
    // Taking it again finds the damaged file and refuses to vouch for it.
    await assert.rejects(new MockActivityEnvironment().run(acts.takeEtcdSnapshot, { target, host, dir: b.localDir, name: 'lab-20200101T000000Z-etcd-1.db' }),
      (err: Error & { type?: string }) => err.type === 'CorruptSnapshot');
  });

  it('a majority recovery with no snapshot left on the members restores the newest verified one from the bucket', async () => {
    const target = etcdTargetOf(inv);
    const endpoints = lab.etcdMembers().map((m) => `https://${m.ip}:2379`);
    await new MockActivityEnvironment().run(createActivities().etcdCanary, { target, via: memberRefsOf(inv)[0]!, endpoints, op: 'put' as const, key: 'offsite-canary', value: 'v3' });
    const backup = await backupRun();
    for (const m of lab.etcdMembers()) for (const f of localFiles(m.name)) rmSync(join(lab.viewPath(m.name, '/var/backups/etcd'), f));
    lab.killMajority();
    const h = await startRunbook(stack!.t.client, findRunbook('recover-etcd-majority'), inv, { taskQueue: stack!.taskQueue, canary: { key: 'offsite-canary', value: 'v3' } });
    const gate = await eventually('the approval gate', async () => {
      const p = await h.query(progressQuery);
      if ((await h.describe()).status.name !== 'RUNNING') throw new Error(`the run ended before its gate: ${JSON.stringify(p.steps)}`);
      return p.pendingApproval;
    }, 120_000, 200);
    assert.match(gate.plan, new RegExp(`fetched from the bucket: ${backup.uploaded!.key}`));
    await decide(stack!.t.client, h.workflowId, { approved: true, by: 'test' });
    const r = (await h.result()) as { snapshot?: { remoteKey?: string }; recovered?: string };
    assert.equal(r.snapshot?.remoteKey, backup.uploaded!.key);
    assert.equal(r.recovered?.split(',').length, 3, 'all three members back, canary verified by the runbook');
  });
});
