// Starting a runbook: validated inventory in, a workflow handle out, or a clear refusal naming
// the run that holds the cluster.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Inventory } from '../config/schema.js';
import { CLUSTER, RUNBOOK, PHASE } from '../workflows/runbook/search-attributes.js';
import { DEFAULT_TASK_QUEUE } from '../workers/connection.js';
import { workflowIdFor, type RunbookOptions, type RunbookSpec } from './runbooks.js';

export class ClusterBusyError extends Error {
  override readonly name = 'ClusterBusyError';
  constructor(readonly workflowId: string, readonly runId: string | undefined, readonly runningRunbook: string | undefined, readonly startedAt: Date | undefined) {
    super(`cluster is busy: ${runningRunbook ?? 'a runbook'} is already running as ${workflowId}${runId ? ` (run ${runId})` : ''}` +
      `${startedAt ? `, started ${startedAt.toISOString()}` : ''}. Follow it with \`mooring status ${workflowId} --follow\`, or wait until it ends.`);
  }
}

export interface StartOptions extends RunbookOptions {
  taskQueue?: string;
}

export async function startRunbook(client: Client, rb: RunbookSpec, inv: Inventory, opts: StartOptions = {}): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const workflowId = workflowIdFor(rb, inv.cluster.name, opts.planOnly);
  try {
    return await client.workflow.start(rb.workflowType, {
      workflowId,
      taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: rb.args(inv, opts),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: CLUSTER, value: inv.cluster.name },
        { key: RUNBOOK, value: rb.name },
        { key: PHASE, value: 'starting' },
      ]),
      staticSummary: `${rb.name}${opts.planOnly ? ' (plan only)' : ''} on ${inv.cluster.name}`,
      staticDetails: `**${rb.name}** on cluster \`${inv.cluster.name}\`: ${rb.summary}.`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const running = client.workflow.getHandle(workflowId);
      const d = await running.describe().catch(() => undefined);
      throw new ClusterBusyError(workflowId, d?.runId, d?.typedSearchAttributes.get(RUNBOOK) ?? d?.type, d?.startTime);
    }
    throw err;
  }
}
