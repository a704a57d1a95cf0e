// The recoveries' approval gate: an approval can come hours after the plan was shown, so after
// every approval the runbook looks at the cluster again with the activities it assessed it with,
// and acts only if the plan still holds. A change that the runbook can still handle is shown as a
// new plan behind a new gate; a change that forbids the runbook stops it before anything is touched.
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './approval-defaults.js';

export { DEFAULT_APPROVAL_TIMEOUT_MS };

/** A flapping cluster would otherwise ask forever: after this many gates the runbook stops. */
export const MAX_APPROVAL_ROUNDS = 5;

/** The timeout of a recovery's gate: the input's, else the default (guarded: recorded runs had none). */
export function approvalTimeoutOf(input: { approvalTimeoutMs?: number }, scenario: keyof typeof DEFAULT_APPROVAL_TIMEOUT_MS): number | undefined {
  if (input.approvalTimeoutMs !== undefined) return input.approvalTimeoutMs;
  return patched('recovery-default-approval-timeout') ? DEFAULT_APPROVAL_TIMEOUT_MS[scenario] : undefined;
}

/** What a re-assessment found, compared with the picture the approved plan was built on. */
export interface PlanCheck {
  /** What changed, one sentence each; empty when the plan still holds. */
  changes: string[];
  /** Set when the new state forbids the runbook altogether: it stops instead of asking again. */
  refusal?: string;
  /** Changes seen that do not touch the plan: shown, not asked about. */
  notes?: string[];
}

export interface ApprovalLoop<S> {
  runbook: string;
  /** What the plan was built on (the assessment). */
  state: S;
  plan(state: S): string;
  /** Looks again with the same observe activities the assessment used. */
  observe(approved: S): Promise<S>;
  /** `state`: what to go on with when it is not `now` as observed (e.g. another snapshot chosen). */
  compare(approved: S, now: S): PlanCheck & { state?: S };
  timeoutMs: number | undefined;
}

/**
 * Gate `approve`, then re-assess; while the picture changed but the runbook may still go on, show
 * the new plan behind gate `approve-2`, `approve-3`, … Returns the state and plan finally approved.
 */
export async function approveStillTrue<S>(rb: Runbook, loop: ApprovalLoop<S>): Promise<{ state: S; plan: string }> {
  let state = loop.state;
  let plan = loop.plan(state);
  let gate = 'approve';
  for (let round = 1; ; round++) {
    await rb.approval(gate, { plan, ...(loop.timeoutMs !== undefined ? { timeoutMs: loop.timeoutMs } : {}) });
    // Guarded: runs recorded before the re-assessment existed went straight to the first change.
    if (!patched('recovery-reassess-after-approval')) return { state, plan };
    const check = round === 1 ? 'reassess' : `reassess-${round}`;
    rb.addStep(check, 'Re-assess the cluster: does the approved plan still hold?', gate);
    const found = await rb.step(check, async () => {
      const now = await loop.observe(state);
      const r = loop.compare(state, now);
      if (r.refusal) {
        const message = `${loop.runbook} stopped after the approval of "${gate}", before changing anything: ${r.changes.join('; ') || 'the cluster changed'}. ${r.refusal}`;
        rb.setReport(`${plan}\n\n**Stopped, nothing changed**: ${message}`);
        throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message });
      }
      return { ...r, now: r.state ?? now };
    }, (r) => `${r.changes.length ? `changed since the plan was shown: ${r.changes.join('; ')}` : 'unchanged: the approved plan holds'}${r.notes?.length ? ` (also seen, not affecting the plan: ${r.notes.join('; ')})` : ''}`);
    if (found.changes.length === 0) return { state, plan };
    if (round >= MAX_APPROVAL_ROUNDS) {
      throw ApplicationFailure.create({ type: FailureTypes.preconditionFailed, nonRetryable: true, message: `${loop.runbook} stopped before changing anything: the cluster changed after each of ${round} approvals (last: ${found.changes.join('; ')}); wait until it is stable and run it again` });
    }
    state = found.now;
    const next = `approve-${round + 1}`;
    plan = `The cluster changed after the approval of "${gate}", so nothing was done: ${found.changes.join('; ')}.\nNew plan:\n${loop.plan(state)}`;
    rb.addStep(next, 'Approve the new plan (the cluster changed)', check);
    gate = next;
  }
}
