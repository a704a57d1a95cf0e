// What the crash harnesses of provision share around a kill: its approval gate, a (child)
// workflow's history, the attempts the dead worker left running failed by their activity IDs, and
// a run left open by a failed case ended. The server would retry each
// only when its start-to-close or heartbeat timeout expired (minutes for the long host steps); a
// failed attempt is exactly what that timeout produces (a retryable attempt failure), only sooner.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually } from '../helpers/temporal.js';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The history of `workflowId` so far; empty while that (child) workflow is not started. */
export async function eventsOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  try {
    return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  } catch (err) {
    // The child is not started yet: fetchHistory throws the service's NOT_FOUND (gRPC code 5) as is.
    if ((err as { code?: number }).code === 5 || (err as Error).name === 'WorkflowNotFoundError') return [];
    throw err;
  }
}

/** An attempt the harness failed: its activity type and its input as JSON text (to see which host it was for). */
export interface FailedAttempt { activityType: string; input: string }

/** Fails every activity attempt the dead worker left running (what its timeout would do later). */
export async function failInFlight(client: Client, workflowId: string, events: HistoryEvent[]): Promise<FailedAttempt[]> {
  const closed = new Set<number>();
  for (const ev of events) {
    const a = ev.activityTaskCompletedEventAttributes ?? ev.activityTaskFailedEventAttributes ?? ev.activityTaskTimedOutEventAttributes ?? ev.activityTaskCanceledEventAttributes;
    if (a) closed.add(Number(a.scheduledEventId));
  }
  const failed: FailedAttempt[] = [];
  for (const ev of events) {
    const s = ev.activityTaskScheduledEventAttributes;
    if (!s || closed.has(Number(ev.eventId))) continue;
    try {
      await client.activity.fail({ workflowId, activityId: s.activityId! }, new Error('the worker running this attempt was SIGKILLed (crash matrix): failed now instead of at its timeout'));
      const data = s.input?.payloads?.[0]?.data;
      failed.push({ activityType: s.activityType?.name ?? '?', input: data ? Buffer.from(data).toString('utf8') : '' });
    } catch {
      // Not started yet (still in the task queue): the next worker picks it up as it is.
    }
  }
  return failed;
}

/** Waits for the run's approval gate and approves it. */
export async function approveGate(client: Client, h: WorkflowHandle): Promise<void> {
  await eventually('the approval gate', async () => (await h.query(progressQuery)).pendingApproval, 120_000, 100);
  await decide(client, h.workflowId, { approved: true, by: 'crash-matrix' });
}

/** Terminates the run if a failed case left it open. */
export async function endOpen(h: WorkflowHandle | undefined, why: string): Promise<void> {
  if (h && (await h.describe()).status.name === 'RUNNING') await h.terminate(why);
}
