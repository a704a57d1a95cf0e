// `mooring backup verify ID`: prove a stored snapshot can be used — download, decrypt with the
// configured key (authenticated), sha256 against the catalogue, `snapshot status` and a trial
// restore into a scratch directory on the worker. The result is written into the snapshot's
// manifest (so `backup list` and retention see it). Read-only towards the cluster.
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { VerifyOutcome } from '../../activities/backup/index.js';
import type { CheckVerdict } from '../../activities/backup/trial-restore.js';
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
    (v) => (v.ok ? `good: revision ${v.revision}, ${v.totalKeys} keys, restored with ${v.restoreTool}` : `${verdictOf(v).toUpperCase()}: ${v.problem}`));
  // Histories from before the verdict existed carry only `ok`: a failure then was "bad".
  const verdict = verdictOf(out);
  const result = await rb.step('report', () => {
    const report = [
      `Verification of s3://${backup.objectStore.bucket}/${input.key}: ${verdict === 'good' ? 'GOOD' : verdict === 'bad' ? 'BAD' : 'INCONCLUSIVE (this worker could not check it; the snapshot keeps its trust)'}`,
      `  ${out.bytes} bytes decrypted; sha256 matches the catalogue: ${out.problem?.includes('sha256') ? 'no' : verdict === 'inconclusive' && out.bytes === 0 ? 'not checked' : 'yes'}`,
      ...(out.revision !== undefined ? [`  snapshot status: revision ${out.revision}, ${out.totalKeys} keys, hash ${out.hash}`] : []),
      ...(out.restored !== undefined ? [`  trial restore with ${out.restoreTool}: ${out.restored ? 'a member data dir with its database' : 'failed'}`] : []),
      ...(out.problem ? [`  problem: ${out.problem}`] : []),
      verdict === 'inconclusive' ? '  recorded in the manifest as inconclusive: not held against the snapshot by retention or recovery; fix the worker and verify again'
        : '  the result is recorded in the snapshot\'s manifest',
    ].join('\n');
    rb.setReport(report);
    rb.finish(verdict === 'good' ? 'completed' : verdict === 'bad' ? 'completed-with-findings' : 'completed-inconclusive');
    return Promise.resolve({ ...out, verdict, report });
  }, () => verdict);
  // A bad snapshot fails the run, so `mooring backup verify` exits non-zero and the UI shows red.
  if (verdict === 'bad') throw ApplicationFailure.create({ type: 'SnapshotBad', nonRetryable: true, message: `snapshot ${input.key} failed verification: ${out.problem}` });
  // Nothing was proved either way: also a failed run (the operator must act), of its own type.
  if (verdict === 'inconclusive') throw ApplicationFailure.create({ type: VERIFY_INCONCLUSIVE, nonRetryable: true, message: `snapshot ${input.key} could not be verified on this worker (it keeps its trust): ${out.problem}` });
  return result;
}

export const VERIFY_INCONCLUSIVE = 'VerificationInconclusive';

function verdictOf(v: { ok: boolean; verdict?: CheckVerdict }): CheckVerdict {
  return v.verdict ?? (v.ok ? 'good' : 'bad');
}
