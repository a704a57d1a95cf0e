// A production-sized database on the lab: etcd with the inventory's etcd.quotaBackendBytes
// (MOORING_LARGE_DB_QUOTA, default 8GiB, the production setting and etcd's suggested maximum;
// without it etcd's 2 GiB default refuses writes long before), filled to MOORING_LARGE_DB_MB
// (default 3584 MiB), then a backup (snapshot save, checks, sha256, encrypted multipart upload to
// the real S3), `backup verify` (download, decrypt, trial restore) and a majority recovery whose
// backup directory holds the dozens of snapshots retention keeps (MOORING_LARGE_DB_RETAINED hard
// links of the real snapshot: the same bytes without the disk, each read and hashed in full like a
// distinct file). With the recovery's old 2-minute start-to-close, checking every retained file took
// longer than one attempt, each of the five attempts started over, and the recovery failed before
// restoring anything. The recovered members run on configs the recovery rendered: they must carry
// the quota too, or the restored database (over 2 GiB) raises NOSPACE and writes are refused.
// Runs alone: `npm run test:large` (15-30 min, see README).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import type { EtcdBackupResult } from '../../workflows/etcd-backup/backup.js';
import { parseEndpointStatus } from '../../activities/etcd-recovery/etcdctl.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { mooring } from '../helpers/cli.js';
import { fillEtcd, labSsh } from '../helpers/fill-etcd.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const MIB = 1024 * 1024;
const DB_MB = Number(process.env.MOORING_LARGE_DB_MB ?? 3584);
const QUOTA = process.env.MOORING_LARGE_DB_QUOTA ?? '8GiB';
/**
 * What the CLI is given per command, scaled by the size: on this 2-core machine at load ~28 a
 * 3.6 GiB snapshot took 6 min to save and its encrypted upload did not finish within 20 min.
 */
const BUDGET_MS = Math.max(20, Math.ceil(DB_MB / 80)) * 60_000;
const RETAINED = Number(process.env.MOORING_LARGE_DB_RETAINED ?? 24);
const log = (line: string) => process.stderr.write(`[large-database] ${new Date().toISOString().slice(11, 19)} ${line}\n`);

describe(`a ${DB_MB} MiB etcd database: backup, verify and majority recovery on the lab`, () => {
  let stack: LabStack | undefined;
  let lab: Lab;
  let env: NodeJS.ProcessEnv;
  let backup: EtcdBackupResult;

  const members = () => lab.etcdMembers();
  const etcdctl = (args: string[]) => hostEtcdctl(lab.etcdSettings, members()[0]!, members().map((m) => clientEndpoint(lab.etcdSettings, m)), args, 10);

  before(async () => {
    stack = await startLabStack('large-db', '127.40.0', { etcdQuotaBackendBytes: QUOTA });
    ({ lab, env } = stack);
    for (const m of members()) {
      const config = readFileSync(lab.viewPath(m.name, '/etc/etcd/etcd.conf.yaml'), 'utf8');
      assert.match(config, /^quota-backend-bytes: \d+$/m, `${m.name}'s member config carries the inventory's quota`);
    }
    await etcdctl(['put', 'canary-large', 'before-the-fill']);
    const started = Date.now();
    const size = await fillEtcd(lab, members()[0]!, DB_MB, { log });
    log(`filled to ${(size / MIB).toFixed(0)} MiB in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  after(async () => { await stack?.stop(); });

  it('backup run: the whole database is saved, checked, encrypted and uploaded', async () => {
    const started = Date.now();
    const r = await mooring(['backup', 'run', '-c', lab.inventoryFile], env, BUDGET_MS);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    backup = (await stack!.t.client.workflow.getHandle('ops/lab').result()) as EtcdBackupResult;
    log(`backup: ${backup.outcome} in ${((Date.now() - started) / 1000).toFixed(0)} s, ${backup.uploaded?.parts} parts`);
    assert.equal(backup.outcome, 'completed', backup.report);
    assert.ok(backup.snapshot!.size >= DB_MB * MIB * 0.9, `snapshot of ${backup.snapshot!.size} bytes for a ${DB_MB} MiB database`);
    assert.equal(backup.uploaded?.parts, Math.ceil(backup.uploaded!.size / (16 * MIB)), 'a multipart upload of 16 MiB parts');
    assert.equal(backup.uploaded?.sha256, backup.snapshot!.sha256);
  });

  it('backup verify: downloaded, decrypted, trial-restored', async () => {
    const id = backup.uploaded!.key.split('/').pop()!.replace(/\.db\.enc$/, '');
    const started = Date.now();
    const v = await mooring(['backup', 'verify', '-c', lab.inventoryFile, id], env, BUDGET_MS);
    log(`verify: exit ${v.code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
  });

  it(`majority recovery with ${RETAINED} retained snapshots of that size: restored and grown back to three`, async () => {
    // Retention's older copies beside the new snapshot, older by name and listed after it.
    const holder = members().find((m) => m.name === backup.snapshot!.member)!;
    const dir = '/var/backups/etcd';
    await labSsh(lab, holder.ip, `cd ${dir} && for i in $(seq -w 1 ${RETAINED}); do ln -f "$(basename '${backup.snapshot!.path}')" "lab-retained-$i.db"; done`);
    lab.killMajority();

    const started = Date.now();
    const running = mooring(['recover', 'etcd', 'majority', '-c', lab.inventoryFile, '--canary', 'canary-large=before-the-fill'], env, BUDGET_MS + 10 * 60_000);
    const handle = stack!.t.client.workflow.getHandle('ops/lab');
    // While the snapshots are checked (before the approval gate), the activity's heartbeats say
    // how many bytes are hashed: watch the pending activity until the gate is reached.
    let seen: { checking?: string; bytes?: number; of?: number } | undefined;
    let gate = false;
    const watching = (async () => {
      while (!gate && !seen) {
        const d = await handle.describe().catch(() => undefined);
        for (const a of d?.raw.pendingActivities ?? []) {
          const p = a.heartbeatDetails?.payloads?.[0];
          const details = p ? defaultPayloadConverter.fromPayload<{ checking?: string; bytes?: number; of?: number }>(p) : undefined;
          if (details?.checking && (details.bytes ?? 0) > 0) seen = details;
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    // A recovery that fails before its gate (the old 2-minute timeouts) ends the CLI first.
    // (A plain poll that stops with `gate`, so a failed run does not keep polling for 15 minutes.)
    const gateReached = (async () => {
      const deadline = Date.now() + 15 * 60_000;
      while (!gate) {
        if ((await handle.query(progressQuery).catch(() => undefined))?.pendingApproval) return 'gate' as const;
        if (Date.now() > deadline) throw new Error('timed out after 15 min waiting for the approval gate');
        await new Promise((res) => setTimeout(res, 500));
      }
      return 'stopped' as const;
    })();
    const first = await Promise.race([gateReached, running]).finally(() => { gate = true; });
    if (typeof first !== 'string') assert.fail(`the recovery ended before its approval gate, after ${((Date.now() - started) / 1000).toFixed(0)} s:\n${first.stdout}\n${first.stderr}`);
    await watching;
    assert.ok(seen, 'a heartbeat of the snapshot check carried the bytes hashed');
    log(`heartbeat: ${seen.checking} ${seen.bytes} of ${seen.of} bytes`);
    assert.ok(seen.of! >= DB_MB * MIB * 0.9);
    const ok = await mooring(['approve', 'ops/lab', '--by', 'oncall', '--comment', 'large database recovery'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const r = await running;
    log(`majority recovery: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok((await Promise.all(members().map((m) => memberHealthy(lab.etcdSettings, m)))).every(Boolean), 'three healthy members');
    assert.equal((await etcdctl(['member', 'list'])).trim().split('\n').length, 3);
    assert.equal((await etcdctl(['get', 'canary-large', '--print-value-only'])).trim(), 'before-the-fill');
    const sizes = parseEndpointStatus(await etcdctl(['endpoint', 'status', '-w', 'json'])).map((s) => s.dbSize);
    assert.ok(sizes.length === 3 && sizes.every((n) => n >= DB_MB * MIB * 0.9), `every member holds the whole database again: ${sizes.join(', ')}`);
    // The configs the recovery wrote carry the quota: a restored member over etcd's 2 GiB default
    // would raise NOSPACE and refuse this write.
    await etcdctl(['put', 'canary-after-recovery', 'writable']);
    assert.equal((await etcdctl(['alarm', 'list'])).trim(), '', 'no NOSPACE alarm after the recovery');
    log(`database sizes after recovery: ${sizes.map((n) => `${(n / MIB).toFixed(0)} MiB`).join(', ')} (quota ${QUOTA})`);
  });
});
