// What a backup Schedule starts: a thin workflow that runs the `etcd-backup` runbook as a child
// under the cluster's mutating-runbook ID (ops/<cluster>), so a scheduled backup never runs beside
// a recovery or another mutating runbook — it is skipped and says why.
// A skipped or degraded run must not look like a good one on the Schedules page: since the patch
// below, it sets MooringPhase (skipped-busy / degraded / completed) and a skipped or degraded
// run ends FAILED with its own failure type (BackupSkippedBusy, BackupDegraded) carrying the result.
import { ApplicationFailure, executeChild, ParentClosePolicy, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Inventory } from '../../config/schema.js';
import { CLUSTER, PHASE, RUNBOOK } from '../runbook/search-attributes.js';

export interface ScheduledBackupInput {
  inventory: Inventory;
}

export type ScheduledBackupResult =
  | { outcome: 'ran'; backupWorkflowId: string; result: unknown }
  | { outcome: 'skipped'; reason: string };

export const BACKUP_WORKFLOW_TYPE = 'etcdBackup';
export const SCHEDULED_FAILURES = { skipped: 'BackupSkippedBusy', degraded: 'BackupDegraded' } as const;

export async function scheduledEtcdBackup(input: ScheduledBackupInput): Promise<ScheduledBackupResult> {
  const cluster = input.inventory.cluster.name;
  const backupWorkflowId = `ops/${cluster}`;
  let outcome: ScheduledBackupResult;
  try {
    const result = await executeChild(BACKUP_WORKFLOW_TYPE, {
      workflowId: backupWorkflowId,
      args: [{ inventory: input.inventory, trigger: `schedule ${workflowInfo().workflowId}` }],
      // A backup half-way through is finished even if this wrapper is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `etcd-backup on ${cluster} (scheduled)`,
      // Found in the Web UI and by `mooring list` like a run started from the CLI.
      typedSearchAttributes: [{ key: CLUSTER, value: cluster }, { key: RUNBOOK, value: 'etcd-backup' }, { key: PHASE, value: 'starting' }],
    });
    outcome = { outcome: 'ran', backupWorkflowId, result };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      throw err instanceof ApplicationFailure ? err : ApplicationFailure.create({ type: 'BackupFailed', message: `scheduled backup of ${cluster} failed`, cause: err as Error, nonRetryable: true });
    }
    outcome = { outcome: 'skipped', reason: `cluster ${cluster} is busy: another mutating runbook runs as ${backupWorkflowId}` };
  }
  // Histories from before the patch completed here whatever happened.
  if (!patched('scheduled-backup-visible-outcome')) return outcome;
  const degraded = outcome.outcome === 'ran' && (outcome.result as { outcome?: unknown } | undefined)?.outcome === 'degraded';
  const phase = outcome.outcome === 'skipped' ? 'skipped-busy' : degraded ? 'degraded' : 'completed';
  upsertSearchAttributes([{ key: PHASE, value: phase }]);
  if (outcome.outcome === 'skipped') {
    setCurrentDetails(`**SKIPPED**: ${outcome.reason}. No snapshot was taken by this run.`);
    throw ApplicationFailure.create({ type: SCHEDULED_FAILURES.skipped, nonRetryable: true, message: `scheduled backup skipped: ${outcome.reason}; no snapshot was taken`, details: [outcome] });
  }
  if (degraded) {
    const problems = (outcome.result as { problems?: unknown }).problems;
    const why = Array.isArray(problems) ? problems.map(String).join('; ') : 'no off-site copy';
    setCurrentDetails(`**DEGRADED**: ${why}`);
    throw ApplicationFailure.create({ type: SCHEDULED_FAILURES.degraded, nonRetryable: true, message: `scheduled backup of ${cluster} is degraded (no off-site copy): ${why}`, details: [outcome] });
  }
  return outcome;
}
