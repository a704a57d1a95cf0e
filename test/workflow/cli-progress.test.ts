// `mooring status` during a backup shows the upload's bytes done, total and rate, read from the
// server's copy of the activity's last heartbeat (no workflow change). Real Temporal dev server,
// the real etcd-backup workflow and the real heartbeat code (activities/heartbeat.ts); the
// upload itself is SIMULATED: a FAKE activity that "sends" 1 MiB every 100 ms and reports it
// exactly as the real upload does (`reportProgress({ bytes, of })` inside `heartbeatWhile`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { MooringActivities } from '../../activities/index.js';
import type { TakenSnapshot } from '../../activities/backup/node-snapshot.js';
import type { RetentionOutcome, UploadResult } from '../../activities/backup/index.js';
import { heartbeatWhile, reportProgress } from '../../activities/heartbeat.js';
import type { MemberView } from '../../workflows/etcd-recovery/assessment.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { RateTracker, type ActivityProgress } from '../../client/transfers.js';
import { renderActivities } from '../../client/render.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { externalEtcdInventory } from '../helpers/inventory.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const PACE = 10 * MiB; // bytes per second of the SIMULATED upload

const view = (name: string): MemberView => ({ name, ip: '10.0.0.1', reachable: true, healthy: true, isLeader: name === 'e1', clusterId: 'c', revision: 10 });
const retention = (where: string): RetentionOutcome => ({ where, dryRun: false, table: where, deleted: [], plan: { now: '2026-12-01T00:00:00.000Z', policy: { keepLast: 3, hourly: 0, daily: 0, weekly: 0, monthly: 0 }, keep: [], delete: [] } });

/** FAKE activities around a SIMULATED upload that reports bytes the way the real one does. */
const acts: Partial<MooringActivities> = {
  observeEtcd: async () => ['e1', 'e2', 'e3'].map(view),
  takeEtcdSnapshot: async (input) => ({ member: input.host.name, path: `${input.dir}/${input.name}`, size: TOTAL, sha256: 'a'.repeat(64), revision: 10, hash: 1, totalKeys: 5, etcdVersion: '3.4.23', takenAt: '2026-12-01T00:00:00.000Z', reused: false } satisfies TakenSnapshot),
  uploadEtcdSnapshot: async (input) => heartbeatWhile(`upload of ${input.snapshot.path}`, async (signal) => {
    for (let sent = 0; sent < TOTAL && !signal.aborted; sent += PACE / 10) {
      reportProgress({ bytes: sent, of: TOTAL });
      await new Promise((r) => setTimeout(r, 100));
    }
    const u: UploadResult = { ...input.snapshot, cluster: 'c', keyId: 'k1-x', verified: true, key: 'etcd/c/x.db.enc', size: TOTAL, complete: true, alreadyUploaded: false };
    return u;
  }),
  applyRemoteRetention: async () => retention('s3'),
  applyLocalRetention: async (input) => input.hosts.map((h) => retention(h.name)),
};

describe('mooring status: bytes and rate of a running transfer (real dev server, SIMULATED upload)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  const taskQueue = uniqueTaskQueue('progress');

  before(async () => {
    t = await startTestTemporal();
    w = await startTestWorker(t.address, taskQueue, acts);
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
  });

  it('status shows the upload\'s bytes of total and a rate; -o json has the figures; status -f prints them while it follows', async () => {
    const inv = externalEtcdInventory('prog', {
      backup: { schedule: { every: '6h' }, objectStore: { endpoint: 'http://127.0.0.1:9', bucket: 'snapshots', accessKey: { env: 'A' }, secretKey: { env: 'S' } }, encryptionKey: { file: '/nonexistent/key' } },
    });
    const h = await startRunbook(t.client, findRunbook('etcd-backup'), inv, { taskQueue });
    const followed = mooring(['status', h.workflowId, '-f', '--address', t.address]);

    // The first heartbeat is sent at once (no bytes yet); the next reaches the server within 80% of the heartbeat timeout.
    const withBytes = await eventually('a heartbeat with bytes on the server', async () => {
      const r = await mooring(['status', h.workflowId, '--address', t.address, '-o', 'json']);
      const up = (JSON.parse(r.stdout) as { activities?: ActivityProgress[] }).activities?.find((a) => a.activityType === 'uploadEtcdSnapshot');
      return up?.bytes ? up : undefined;
    }, 40_000, 500);
    assert.equal(withBytes.of, TOTAL);
    assert.ok(withBytes.bytes! > 0 && withBytes.bytes! < TOTAL);
    assert.match(withBytes.what ?? '', /^upload of \/var\/backups\/etcd\/prog-.*\.db$/);
    // The average since the attempt began (the SIMULATED pace, less the set-up time): within a factor of 3.
    assert.ok(withBytes.bytesPerSecond! > PACE / 3 && withBytes.bytesPerSecond! < PACE * 3, `rate ${withBytes.bytesPerSecond}`);

    const text = await mooring(['status', h.workflowId, '--address', t.address]);
    assert.match(text.stdout, /Running steps\n {2}upload of \/var\/backups\/etcd\/prog-\S+: \d+\.\d MiB of 200\.0 MiB \(\d+%\), \d+\.\d MiB\/s/);

    await h.result();
    const f = await followed;
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /upload of \S+: \d+\.\d MiB of 200\.0 MiB \(\d+%\), \d+\.\d MiB\/s/);
  });

  it('the rate between two heartbeats is what the transfer does now, not its average', () => {
    const rates = new RateTracker();
    const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 3, 0, s)).toISOString();
    const p = (bytes: number, s: number): ActivityProgress => ({ activityId: '5', activityType: 'uploadEtcdSnapshot', state: 'STARTED', attempt: 1, what: 'upload of x', bytes, of: 100 * MiB, heartbeatAt: at(s), bytesPerSecond: 1 });
    assert.equal(rates.update([p(10 * MiB, 0)])[0]!.bytesPerSecond, 1); // first sight: the average it came with
    assert.equal(rates.update([p(40 * MiB, 10)])[0]!.bytesPerSecond, 3 * MiB); // 30 MiB in 10 s
    assert.equal(rates.update([p(40 * MiB, 10)])[0]!.bytesPerSecond, 3 * MiB); // same heartbeat: same rate
    assert.match(renderActivities(rates.update([p(70 * MiB, 20)])), /upload of x: 70\.0 MiB of 100\.0 MiB \(70%\), 3\.0 MiB\/s, ~10 s left/);
  });
});
