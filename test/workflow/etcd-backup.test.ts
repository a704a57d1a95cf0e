// Orchestration of the etcd-backup runbook on the real dev server. The activities are FAKES that
// record calls and fail on demand (this file tests the runbook's choices: member order, fallback
// to the next member, degraded mode, dry run); test/e2e/etcd-backup.test.ts runs the real ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { MemberView } from '../../workflows/etcd-recovery/assessment.js';
import type { MooringActivities } from '../../activities/index.js';
import type { TakenSnapshot } from '../../activities/backup/node-snapshot.js';
import type { RetentionOutcome, UploadResult } from '../../activities/backup/index.js';
import type { EtcdBackupResult } from '../../workflows/etcd-backup/backup.js';
import { orderCandidates } from '../../workflows/etcd-backup/backup.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker } from '../helpers/worker.js';
import { externalEtcdInventory } from '../helpers/inventory.js';
import { scratchDir } from '../helpers/scratch.js';
import { runCli } from '../../client/cli.js';
import { openClientConnections } from '../../client/connect.js';
import { ExitCode } from '../../client/exit-codes.js';
import { CLUSTER, PHASE, RUNBOOK } from '../../workflows/runbook/search-attributes.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

function inventory(cluster: string, withBackup = true) {
  return externalEtcdInventory(cluster, withBackup ? {
    backup: {
      schedule: { every: '6h' },
      objectStore: { endpoint: 'http://127.0.0.1:9', bucket: 'snapshots', accessKey: { env: 'S3_ACCESS' }, secretKey: { env: 'S3_SECRET' } },
      encryptionKey: { file: '/nonexistent/key' },
    },
  } : {});
}

const view = (name: string, over: Partial<MemberView> = {}): MemberView => ({ name, ip: '10.0.0.1', reachable: true, healthy: true, isLeader: false, clusterId: 'c', revision: 10, ...over });

/** FAKE activities: a cluster where e1 leads; `fail` makes chosen calls throw. */
function fakes(opts: { unhealthy?: string[]; failSnapshotOn?: string[]; storeDown?: boolean }) {
  const calls: string[] = [];
  const retention = (where: string, dryRun: boolean): RetentionOutcome => ({
    where, dryRun, table: `${where} table`, deleted: dryRun ? [] : ['old'],
    plan: { now: '2026-12-01T00:00:00.000Z', policy: { keepLast: 3, hourly: 0, daily: 0, weekly: 0, monthly: 0 }, keep: [], delete: [{ id: 'old', takenAt: '2026-11-01T00:00:00.000Z', verified: true, reason: 'not selected' }] },
  });
  const acts: Partial<MooringActivities> = {
    observeEtcd: async () => { calls.push('observe'); return ['e1', 'e2', 'e3'].map((n) => view(n, { isLeader: n === 'e1', healthy: !opts.unhealthy?.includes(n) })); },
    takeEtcdSnapshot: async (input) => {
      calls.push(`snapshot:${input.host.name}`);
      if (opts.failSnapshotOn?.includes(input.host.name)) throw ApplicationFailure.retryable(`${input.host.name}: etcd died`, 'MemberUnavailable');
      const s: TakenSnapshot = { member: input.host.name, path: `${input.dir}/${input.name}`, size: 100, sha256: 'a'.repeat(64), revision: 10, hash: 1, totalKeys: 5, etcdVersion: '3.4.23', takenAt: '2026-12-01T00:00:00.000Z', reused: false };
      return s;
    },
    uploadEtcdSnapshot: async (input) => {
      calls.push(`upload:${input.host.name}`);
      if (opts.storeDown) throw ApplicationFailure.retryable('cannot reach the server (ECONNREFUSED)', 'ObjectStoreUnavailable');
      const u: UploadResult = { ...input.snapshot, cluster: 'c', keyId: 'k1-x', verified: true, key: 'etcd/c/x.db.enc', size: 200, complete: true, alreadyUploaded: false };
      return u;
    },
    applyRemoteRetention: async (input) => { calls.push(`remote-retention:${input.dryRun}`); return retention('s3 snapshots/etcd/c/', input.dryRun); },
    applyLocalRetention: async (input) => { calls.push(`local-retention:${input.hosts.map((h) => h.name).join(',')}:${input.dryRun}`); return input.hosts.map((h) => retention(`${h.name}:/var/backups/etcd`, input.dryRun)); },
  };
  return { calls, acts };
}

describe('etcd-backup runbook (FAKE activities, real Temporal dev server)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t.stop(); });

  async function run(cluster: string, f: ReturnType<typeof fakes>, planOnly = false): Promise<EtcdBackupResult> {
    const taskQueue = uniqueTaskQueue('backup-wf');
    const w = await startTestWorker(t.address, taskQueue, f.acts);
    try {
      const h = await startRunbook(t.client, findRunbook('etcd-backup'), inventory(cluster), { taskQueue, ...(planOnly ? { planOnly } : {}) });
      return (await h.result()) as EtcdBackupResult;
    } finally {
      await w.stop();
    }
  }

  it('snapshots a follower, uploads from that member, then applies retention remotely and on every healthy member', async () => {
    const f = fakes({});
    const r = await run('b1', f);
    assert.equal(r.outcome, 'completed');
    assert.deepEqual(f.calls, ['observe', 'snapshot:e2', 'upload:e2', 'remote-retention:false', 'local-retention:e1,e2,e3:false']);
    assert.match(r.snapshot!.path, /^\/var\/backups\/etcd\/b1-\d{8}T\d{6}Z-e2\.db$/);
  });

  it('a member that fails its snapshot (both attempts) is skipped for the next; the failure is reported', async () => {
    const f = fakes({ failSnapshotOn: ['e2'] });
    const r = await run('b2', f);
    assert.equal(r.outcome, 'completed');
    assert.deepEqual(f.calls.filter((c) => c.startsWith('snapshot')), ['snapshot:e2', 'snapshot:e2', 'snapshot:e3']);
    assert.equal(r.snapshot!.member, 'e3');
    assert.deepEqual(r.attempts.map((a) => a.member), ['e2']);
    assert.match(r.report, /Member e2 failed to snapshot and was skipped: e2: etcd died/);
  });

  it('the leader is used only when no follower is healthy; unhealthy members are never tried', async () => {
    const f = fakes({ unhealthy: ['e2', 'e3'] });
    const r = await run('b3', f);
    assert.equal(r.snapshot!.member, 'e1');
    assert.ok(f.calls.includes('local-retention:e1:false'));
    assert.match(r.problems.join('\n'), /not healthy, local retention not applied: e2, e3/);
  });

  it('the object store down: degraded, the snapshot is kept, no retention anywhere', async () => {
    const f = fakes({ storeDown: true });
    const r = await run('b4', f);
    assert.equal(r.outcome, 'degraded');
    assert.equal(f.calls.filter((c) => c.startsWith('upload')).length, 4, 'retried per the upload policy');
    assert.ok(!f.calls.some((c) => c.includes('retention')));
    assert.match(r.report, /DEGRADED/);
    assert.match(r.report, /nothing was deleted locally or remotely/);
  });

  it('degraded is not success: a scheduled run ends FAILED as BackupDegraded (MooringPhase degraded); `backup run` exits 6 and closes its connection', async () => {
    const f = fakes({ storeDown: true });
    const taskQueue = uniqueTaskQueue('backup-wf');
    const w = await startTestWorker(t.address, taskQueue, f.acts);
    try {
      // As the Schedule starts it (client/schedules.ts).
      const h = await t.client.workflow.start('scheduledEtcdBackup', {
        workflowId: 'scheduled-backup/b7', taskQueue, args: [{ inventory: inventory('b7') }],
        typedSearchAttributes: [{ key: CLUSTER, value: 'b7' }, { key: RUNBOOK, value: 'etcd-backup' }],
      });
      const err = await h.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, 'the degraded scheduled run ends FAILED');
      const cause = err.cause as ApplicationFailure;
      assert.equal(cause.type, 'BackupDegraded');
      assert.match(cause.message, /degraded \(no off-site copy\): object store unavailable/);
      assert.equal(((cause.details?.[0] as { result: EtcdBackupResult }).result).outcome, 'degraded');
      assert.equal((await h.describe()).typedSearchAttributes.get(PHASE), 'degraded');

      const file = join(scratchDir('backup-wf-'), 'b8.yaml');
      writeFileSync(file, stringify(inventory('b8')));
      const code = await runCli(['backup', 'run', '-c', file, '--address', t.address, '--task-queue', taskQueue]);
      assert.equal(code, ExitCode.degraded);
      assert.equal(openClientConnections(), 0);
      const r = (await t.client.workflow.getHandle('ops/b8').result()) as EtcdBackupResult;
      assert.equal(r.outcome, 'degraded');
    } finally {
      await w.stop();
    }
  });

  it('a dry run takes and uploads nothing, and plans retention without deleting', async () => {
    const f = fakes({});
    const r = await run('b5', f, true);
    assert.equal(r.outcome, 'dry-run');
    assert.deepEqual(f.calls, ['observe', 'remote-retention:true', 'local-retention:e1,e2,e3:true']);
    assert.match(r.report, /DRY RUN: nothing deleted/);
  });

  it('an inventory without a backup section is refused before anything runs', async () => {
    const f = fakes({});
    const taskQueue = uniqueTaskQueue('backup-wf');
    const w = await startTestWorker(t.address, taskQueue, f.acts);
    try {
      const h = await startRunbook(t.client, findRunbook('etcd-backup'), inventory('b6', false), { taskQueue });
      await assert.rejects(h.result(), (err: Error & { cause?: { type?: string; message?: string } }) => err.cause?.type === 'InvalidInput' && /no backup section/.test(err.cause.message ?? ''));
      assert.deepEqual(f.calls, []);
    } finally {
      await w.stop();
    }
  });
});

describe('orderCandidates', () => {
  it('healthy followers first, freshest revision first, the leader last, unhealthy never', () => {
    assert.deepEqual(orderCandidates([
      view('a', { isLeader: true, revision: 12 }), view('b', { revision: 11 }), view('c', { revision: 12 }), view('d', { healthy: false }),
    ]), ['c', 'b', 'a']);
    assert.deepEqual(orderCandidates([view('a', { healthy: false }), view('b', { healthy: false })]), []);
  });
});
