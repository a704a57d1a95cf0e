// The crash harness's accounting of activity boundaries, on a run's event history: boundary N is
// the moment right after the run's N-th activity completed. A case counts only if its worker was
// killed there, while the run was still open; a run that ends first fails the case, saying which
// boundary it never reached (a boundary past the end of the runbook, or a kill that came too late).
// Pure, so the accounting is tested without a lab (test/unit/crash-boundary.test.ts).
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface RunSnapshot {
  /** Activities completed so far (ActivityTaskCompleted events). */
  completed: number;
  /** How the run ended ('completed', 'failed', …), or undefined while it is open. */
  closed?: string;
  /** The run waits at its approval gate (its last MooringPhase is awaiting-approval:…). */
  atGate: boolean;
}

const CLOSE_EVENTS = [
  ['workflowExecutionCompletedEventAttributes', 'completed'],
  ['workflowExecutionFailedEventAttributes', 'failed'],
  ['workflowExecutionTimedOutEventAttributes', 'timed out'],
  ['workflowExecutionCanceledEventAttributes', 'was cancelled'],
  ['workflowExecutionTerminatedEventAttributes', 'was terminated'],
  ['workflowExecutionContinuedAsNewEventAttributes', 'continued as new'],
] as const;

export function snapshotOf(events: readonly HistoryEvent[]): RunSnapshot {
  let completed = 0;
  let closed: string | undefined;
  let phase = '';
  for (const ev of events) {
    if (ev.activityTaskCompletedEventAttributes) completed++;
    for (const [key, how] of CLOSE_EVENTS) if (ev[key]) closed = how;
    const upserted = ev.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.MooringPhase?.data;
    if (upserted) phase = String(JSON.parse(Buffer.from(upserted).toString('utf8')));
  }
  return { completed, ...(closed ? { closed } : {}), atGate: phase.startsWith('awaiting-approval:') };
}

export class BoundaryMissed extends Error {
  override readonly name = 'BoundaryMissed';
}

/**
 * What the harness does next on its way to boundary `boundary`: kill the worker once the run has
 * completed that many activities, approve the gate when the boundary lies beyond it, else wait.
 * Throws BoundaryMissed when the run has ended: the boundary can no longer be killed.
 */
export function nextStep(boundary: number, run: RunSnapshot, approved: boolean): 'kill' | 'approve' | 'wait' {
  if (run.closed) throw missed(boundary, run);
  if (run.completed >= boundary) return 'kill';
  if (run.atGate && !approved) return 'approve';
  return 'wait';
}

/**
 * Checks the history read after the worker died: the run must still be open (else the kill
 * crashed nothing) with at least `boundary` activities completed. Returns after how many
 * activities the worker was killed (more than `boundary` when parallel ones completed together).
 */
export function killedAt(boundary: number, run: RunSnapshot): number {
  if (run.closed) throw missed(boundary, run);
  if (run.completed < boundary) throw new BoundaryMissed(`boundary ${boundary}: the worker was killed after ${run.completed} activities, before the boundary`);
  return run.completed;
}

function missed(boundary: number, run: RunSnapshot): BoundaryMissed {
  return new BoundaryMissed(run.completed < boundary
    ? `boundary ${boundary} was never reached: the run ${run.closed} after ${run.completed} activities`
    : `boundary ${boundary} was reached, but the run ${run.closed} (after ${run.completed} activities) before its worker was killed`);
}
