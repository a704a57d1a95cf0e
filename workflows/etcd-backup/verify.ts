// `mooring backup verify ID`: prove a stored snapshot can be used — download, decrypt with the
// configured key (authenticated), sha256 against the catalogue, `snapshot status` and a trial
// restore into a scratch directory on the worker. The result is written into the snapshot's
// manifest (so `backup list` and retention see it). Read-only towards the cluster.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { VerifyOutcome } from '../../activities/backup/index.js';
import type { Inventory } from '../../config/schema.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { backupTargetOf } from './target.js';
import { VERIFY } from './options.js';

export interface VerifyBackupInput {
  inventory: Inventory;
  /** Object key of the snapshot, as `mooring backup list` prints it. */
  key: string;
}

const { verifyBackupSnapshot } = proxyActivities<MooringActivities>(VERIFY);

export async function verifyEtcdBackup(input: VerifyBackupInput): Promise<VerifyOutcome & { report: string }> {
  const inv = input.inventory;
  const backup = backupTargetOf(inv);
  if (!backup) throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: `the inventory of ${inv.cluster.name} has no backup section: nothing to verify against` });
  const rb = new Runbook('etcd-backup-verify', inv.cluster.name, [
    { id: 'verify', title: `Download, decrypt, check and trial-restore ${input.key}` },
    { id: 'report', title: 'Report' },
  ]);
  const out = await rb.step('verify', () => verifyBackupSnapshot({ backup, key: input.key, holder: workflowInfo().workflowId }),
    (v) => (v.ok ? `good: revision ${v.revision}, ${v.totalKeys} keys, restored with ${v.restoreTool}` : `BAD: ${v.problem}`));
  const result = await rb.step('report', () => {
    const report = [
      `Verification of s3://${backup.objectStore.bucket}/${input.key}: ${out.ok ? 'GOOD' : 'BAD'}`,
      `  ${out.bytes} bytes decrypted; sha256 matches the catalogue: ${out.problem?.includes('sha256') ? 'no' : 'yes'}`,
      ...(out.revision !== undefined ? [`  snapshot status: revision ${out.revision}, ${out.totalKeys} keys, hash ${out.hash}`] : []),
      ...(out.restored !== undefined ? [`  trial restore with ${out.restoreTool}: ${out.restored ? 'a member data dir with its database' : 'failed'}`] : []),
      ...(out.problem ? [`  problem: ${out.problem}`] : []),
      '  the result is recorded in the snapshot\'s manifest',
    ].join('\n');
    rb.setReport(report);
    rb.finish(out.ok ? 'completed' : 'completed-with-findings');
    return Promise.resolve({ ...out, report });
  }, () => (out.ok ? 'good' : 'bad'));
  // A bad snapshot fails the run, so `mooring backup verify` exits non-zero and the UI shows red.
  if (!out.ok) throw ApplicationFailure.create({ type: 'SnapshotBad', nonRetryable: true, message: `snapshot ${input.key} failed verification: ${out.problem}` });
  return result;
}
