// What a backup Schedule starts: a thin workflow that runs the `etcd-backup` runbook as a child
// under the cluster's mutating-runbook ID (ops/<cluster>), so a scheduled backup never runs beside
// a recovery or another mutating runbook — it is skipped and says why.
import { ApplicationFailure, executeChild, ParentClosePolicy, workflowInfo } from '@temporalio/workflow';
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

export async function scheduledEtcdBackup(input: ScheduledBackupInput): Promise<ScheduledBackupResult> {
  const cluster = input.inventory.cluster.name;
  const backupWorkflowId = `ops/${cluster}`;
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
    return { outcome: 'ran', backupWorkflowId, result };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: 'skipped', reason: `cluster ${cluster} is busy: another mutating runbook runs as ${backupWorkflowId}` };
    }
    throw err instanceof ApplicationFailure ? err : ApplicationFailure.create({ type: 'BackupFailed', message: `scheduled backup of ${cluster} failed`, cause: err as Error, nonRetryable: true });
  }
}
