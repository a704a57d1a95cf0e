// Runbook `etcd-backup` (seed 001's manual snapshot, seed 002's periodic dump): pick a healthy
// member (followers first, so the leader keeps its disk for the cluster), `snapshot save` on its
// host with TLS, check it, stream it encrypted to the object store with its metadata, then apply
// retention to the bucket and to the members' local directories separately.
// Failures: a member that dies mid-snapshot → the next healthy member; the object store down →
// the snapshot stays on the node, the run ends "degraded" and nothing is deleted anywhere.
// No approval gate: retention deletes only what the configured policy says (a dry run shows it),
// and scheduled runs have nobody to ask.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { UploadResult, RetentionOutcome } from '../../activities/backup/index.js';
import type { TakenSnapshot } from '../../activities/backup/node-snapshot.js';
import { compactTime, localSnapshotName } from '../../activities/backup/local-names.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook, messageOf, rootCause } from '../runbook/runbook.js';
import { compareCodePoints } from '../runbook/order.js';
import { NON_RETRYABLE, READ_ONLY_SSH } from '../runbook/activity-options.js';
import { FailureTypes } from '../runbook/definitions.js';
import { assess, type MemberView } from '../etcd-recovery/assessment.js';
import { etcdTargetOf, memberRefsOf } from '../etcd-recovery/target.js';
import { backupTargetOf } from './target.js';
import { renderBackupReport } from './report.js';
import { SNAPSHOT, UPLOAD, RETENTION } from './options.js';

export interface EtcdBackupInput {
  inventory: Inventory;
  /** Who started it, for the report: "schedule backup/lab", "cli". */
  trigger?: string;
  /** Take and upload nothing; print what retention would delete now, and why. */
  dryRun?: boolean;
}

export interface SnapshotAttempt { member: string; error: string }

export interface EtcdBackupResult {
  cluster: string;
  outcome: 'completed' | 'degraded' | 'dry-run';
  snapshot?: TakenSnapshot;
  uploaded?: UploadResult;
  attempts: SnapshotAttempt[];
  retention: RetentionOutcome[];
  problems: string[];
  report: string;
}

const observe = proxyActivities<MooringActivities>(READ_ONLY_SSH);
const save = proxyActivities<MooringActivities>(SNAPSHOT);
const ship = proxyActivities<MooringActivities>(UPLOAD);
const prune = proxyActivities<MooringActivities>(RETENTION);

export async function etcdBackup(input: EtcdBackupInput): Promise<EtcdBackupResult> {
  const inv = input.inventory;
  const backup = backupTargetOf(inv);
  if (!backup) {
    throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: `the inventory of ${inv.cluster.name} has no backup section: add backup.objectStore, backup.encryptionKey and backup.schedule (see docs/inventory.md)` });
  }
  const target = etcdTargetOf(inv);
  const members = memberRefsOf(inv);
  const dryRun = input.dryRun === true;
  const rb = new Runbook('etcd-backup', inv.cluster.name, [
    { id: 'choose', title: 'Probe the members; choose a healthy one (followers first)' },
    { id: 'snapshot', title: `snapshot save into ${backup.localDir} on that member, then check it (appended sha256, snapshot status)` },
    { id: 'upload', title: `Encrypt and stream it to ${backup.objectStore.endpoint} bucket ${backup.objectStore.bucket}` },
    { id: 'retention:remote', title: `Retention in the bucket${dryRun ? ' (dry run)' : ''}` },
    { id: 'retention:local', title: `Retention in ${backup.localDir} on the members${dryRun ? ' (dry run)' : ''}` },
    { id: 'report', title: 'Report' },
  ]);
  const result: EtcdBackupResult = { cluster: inv.cluster.name, outcome: dryRun ? 'dry-run' : 'completed', attempts: [], retention: [], problems: [], report: '' };
  const finish = (phase: string) => {
    result.report = renderBackupReport(result, { trigger: input.trigger ?? workflowInfo().workflowId, backup });
    rb.setReport(result.report);
    rb.finish(phase);
    return result;
  };

  const views = await rb.step('choose', () => observe.observeEtcd({ target, members }), (v) => {
    const a = assess(v);
    return `${a.healthy.length}/${a.size} healthy${a.leader ? `, leader ${a.leader}` : ''}`;
  });
  const candidates = orderCandidates(views);
  const healthyRefs = members.filter((m) => candidates.includes(m.name));

  if (dryRun) {
    rb.skip('snapshot', 'dry run');
    rb.skip('upload', 'dry run');
  } else {
    if (candidates.length === 0) {
      rb.skip('snapshot', 'no healthy member');
      throw ApplicationFailure.create({ type: 'NoHealthyMember', nonRetryable: true, message: `no etcd member of ${inv.cluster.name} is healthy: nothing to snapshot (see mooring run etcd-status)` });
    }
    // One name for the whole run, from workflow time: a retry after a crash finds its own file.
    const stamp = compactTime(Date.now());
    result.snapshot = await rb.step('snapshot', async () => {
      for (const name of candidates) {
        const host = members.find((m) => m.name === name)!;
        try {
          return await save.takeEtcdSnapshot.executeWithOptions({ summary: `snapshot save on ${name}` },
            [{ target, host, dir: backup.localDir, name: localSnapshotName(inv.cluster.name, stamp, name) }]);
        } catch (err) {
          if (NON_RETRYABLE.includes(failureType(err))) throw err; // the inventory is wrong: another member will not help
          result.attempts.push({ member: name, error: messageOf(rootCause(err)) });
        }
      }
      throw ApplicationFailure.create({ type: 'SnapshotFailed', nonRetryable: true, message: `no member produced a good snapshot: ${result.attempts.map((a) => `${a.member}: ${a.error}`).join('; ')}` });
    }, (s) => `${s.member}: revision ${s.revision}, ${s.totalKeys} keys, ${s.size} bytes, sha256 ${s.sha256.slice(0, 12)}…${s.reused ? ' (reused after a retry)' : ''}${result.attempts.length ? ` after ${result.attempts.length} failed member(s)` : ''}`);

    const snap = result.snapshot;
    const host = members.find((m) => m.name === snap.member)!;
    try {
      result.uploaded = await rb.step('upload', () => ship.uploadEtcdSnapshot.executeWithOptions({ summary: `upload ${snap.path} from ${snap.member}` }, [{ target, host, backup, snapshot: snap }]),
        (u) => `${u.key}, ${u.size} bytes stored${u.alreadyUploaded ? ' (committed by an earlier attempt)' : ''}`);
    } catch (err) {
      const why = messageOf(rootCause(err));
      if (['SnapshotDigestMismatch', 'SecretUnavailable', 'ObjectStoreAuthFailed', 'ObjectStoreAccessDenied', 'BucketNotFound'].includes(failureType(err))) {
        result.problems.push(`upload refused: ${why}`);
      } else {
        result.problems.push(`object store unavailable: ${why}`);
      }
      result.outcome = 'degraded';
      result.problems.push(`the snapshot is kept on ${snap.member} at ${snap.path}; nothing was deleted locally or remotely`);
      rb.skip('retention:remote', 'degraded: the new snapshot is not off-site, so nothing is deleted');
      rb.skip('retention:local', 'degraded: the new snapshot is not off-site, so nothing is deleted');
      await rb.step('report', () => Promise.resolve(finish('completed-degraded')), () => 'degraded');
      return result;
    }
  }

  const nowMs = Date.now();
  const remote = await rb.step('retention:remote', async () => {
    try {
      return await prune.applyRemoteRetention({ backup, nowMs, dryRun, ...(result.uploaded ? { protect: [result.uploaded.key] } : {}) });
    } catch (err) {
      if (!dryRun) throw err;
      // A dry run still shows the local plans when the bucket cannot be read.
      result.problems.push(`bucket not readable: ${messageOf(rootCause(err))}`);
      return undefined;
    }
  }, (r) => (r ? `${r.dryRun ? 'would delete' : 'deleted'} ${r.plan.delete.length}, kept ${r.plan.keep.length}` : 'bucket not readable'));
  if (remote) result.retention.push(remote);

  const local = await rb.step('retention:local', () => prune.applyLocalRetention({
    target, hosts: healthyRefs, backup, nowMs, dryRun, ...(result.snapshot ? { protect: [result.snapshot.path.split('/').pop()!] } : {}),
  }), (rs) => rs.map((r) => `${r.where}: ${r.error ? 'not reached' : `${r.dryRun ? 'would delete' : 'deleted'} ${r.plan.delete.length}`}`).join('; '));
  result.retention.push(...local);
  for (const r of local) if (r.error) result.problems.push(`${r.where}: retention skipped (${r.error})`);
  const unhealthy = members.filter((m) => !candidates.includes(m.name)).map((m) => m.name);
  if (unhealthy.length) result.problems.push(`not healthy, local retention not applied: ${unhealthy.join(', ')}`);

  return rb.step('report', () => Promise.resolve(finish(result.problems.length ? 'completed-with-findings' : 'completed')), () => result.outcome);
}

/** Healthy followers first (freshest revision first), the leader last; unhealthy members never. */
export function orderCandidates(views: readonly MemberView[]): string[] {
  return views.filter((v) => v.healthy)
    .slice()
    .sort((a, b) => Number(a.isLeader) - Number(b.isLeader) || (b.revision ?? 0) - (a.revision ?? 0) || compareCodePoints(a.name, b.name))
    .map((v) => v.name);
}

function failureType(err: unknown): string {
  const cause = rootCause(err) as { type?: unknown };
  return typeof cause.type === 'string' ? cause.type : '';
}
