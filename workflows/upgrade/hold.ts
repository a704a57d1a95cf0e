// When a step of a Kubernetes hop fails or is blocked (a drain a PodDisruptionBudget holds up, a
// kubeadm that fails, a node that does not come back), the run does not fail: it holds at a step
// of its own and asks a person to retry, skip the node (with a reason) or stop here. The choice,
// who made it and why are kept with the run's decisions (Runbook.hold).
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { messageOf, rootCause, type Runbook } from '../runbook/runbook.js';
import type { Decision } from '../runbook/definitions.js';

export type HoldChoice = 'retry' | 'skip' | 'stop';
export const STOPPED = 'UpgradeStopped';

export type Attempt<T> = { done: true; value: T } | { done: false; skipped: Decision };

/**
 * Runs `fn` until it succeeds, holding after each failure. `skip` is offered only when the step
 * may be left undone (`canSkip`); `onStop` runs before the run stops (e.g. uncordon, and say so).
 */
export async function untilDone<T>(rb: Runbook, stepId: string, what: string, fn: () => Promise<T>, opts: { canSkip: boolean; stopNote?: () => Promise<string> }): Promise<Attempt<T>> {
  for (let n = 1; ; n++) {
    let reason: string;
    try {
      return { done: true, value: await fn() };
    } catch (err) {
      if (isCancellation(err)) throw err;
      reason = messageOf(rootCause(err));
    }
    const holdId = `${stepId}:hold-${n}`;
    rb.addStep(holdId, `Held: ${what}`, n === 1 ? stepId : `${stepId}:hold-${n - 1}`);
    const choices: HoldChoice[] = opts.canSkip ? ['retry', 'skip', 'stop'] : ['retry', 'stop'];
    const question = [
      `${what} did not succeed: ${reason}`, '',
      '- retry: run this step again (after fixing the cause, e.g. relaxing a PodDisruptionBudget)',
      ...(opts.canSkip ? ['- skip: leave this node on its current version and go on (give the reason with --comment); the run will not start another hop while a node is behind'] : []),
      '- stop: end the run here (nodes this run cordoned are uncordoned first, and the report says so)',
    ].join('\n');
    const d = await rb.hold(holdId, question, choices, ['skip']);
    if (d.choice === 'retry') continue;
    if (d.choice === 'skip') return { done: false, skipped: d };
    const note = opts.stopNote ? await opts.stopNote() : '';
    throw ApplicationFailure.create({ type: STOPPED, nonRetryable: true, message: `stopped by ${d.by}${d.comment ? ` (${d.comment})` : ''} at "${what}" after: ${reason}${note ? `. ${note}` : ''}` });
  }
}
