// The machinery every runbook shares: named steps with durations exposed by a query, approval
// gates that record who/when/why, phase search attributes, and UI details kept current.
import {
  ApplicationFailure, condition, log, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import {
  decideSignal, decideUpdate, FailureTypes, progressQuery,
  type ApprovalRequest, type Decision, type DecisionInput, type RefusedDecision, type RunbookProgress, type StepState,
} from './definitions.js';
import { PHASE } from './search-attributes.js';
import { renderProgressMarkdown } from './markdown.js';

export interface GateOptions {
  /** What approving means, in one or two sentences: shown to the approver. */
  plan: string;
  /** How long to wait; when it passes, the runbook stops safely (never proceeds). */
  timeoutMs?: number;
}

/** How many refused decision signals the progress keeps (the newest). */
const MAX_REFUSED_KEPT = 20;

export class Runbook {
  private readonly state: RunbookProgress;

  constructor(runbook: string, cluster: string, steps: { id: string; title: string }[]) {
    this.state = {
      runbook, cluster, phase: 'starting', decisions: [],
      steps: steps.map((s) => ({ ...s, status: 'pending' as const })),
    };
    setHandler(progressQuery, () => this.state);
    setHandler(decideUpdate, (input) => this.applyDecision(input), { validator: (input) => this.validateDecision(input) });
    setHandler(decideSignal, (input) => {
      // A signal cannot be refused like an update: one that does not match the pending gate is
      // not applied, but logged and kept in the progress so the sender can see why.
      try {
        this.validateDecision(input);
      } catch (err) {
        this.recordRefusedSignal(input, err instanceof Error ? err.message : String(err));
        return;
      }
      this.applyDecision(input);
    });
    this.publish();
  }

  get progress(): Readonly<RunbookProgress> { return this.state; }

  /** Adds a step discovered at run time (e.g. one per host), at the end or right after step `after`. */
  addStep(id: string, title: string, after?: string): void {
    if (this.state.steps.some((s) => s.id === id)) return;
    const at = after === undefined ? -1 : this.state.steps.findIndex((s) => s.id === after);
    if (at < 0) this.state.steps.push({ id, title, status: 'pending' });
    else this.state.steps.splice(at + 1, 0, { id, title, status: 'pending' });
  }

  /** Runs `fn` as step `id`: marks it running, then done with an optional detail, or failed. */
  async step<T>(id: string, fn: () => Promise<T>, detailOf?: (result: T) => string): Promise<T> {
    const s = this.find(id);
    s.status = 'running';
    s.startedAt = Date.now();
    this.setPhase(id);
    try {
      const result = await fn();
      s.status = 'done';
      s.detail = detailOf?.(result);
      return result;
    } catch (err) {
      s.status = 'failed';
      s.detail = messageOf(rootCause(err));
      this.setPhase(`failed:${id}`);
      throw err;
    } finally {
      s.endedAt = Date.now();
      this.publish();
    }
  }

  /** Sets a step's state from outside a `step()` call (a child run reporting its own progress). */
  update(id: string, status: StepState['status'], detail?: string): void {
    const s = this.find(id);
    const now = Date.now();
    if (status === 'running' && s.startedAt === undefined) s.startedAt = now;
    if (status === 'done' || status === 'failed' || status === 'skipped') { s.startedAt ??= now; s.endedAt = now; }
    s.status = status;
    if (detail !== undefined) s.detail = detail;
    this.publish();
  }

  skip(id: string, why: string): void {
    const s = this.find(id);
    s.status = 'skipped';
    s.detail = why;
    this.publish();
  }

  /**
   * Waits for a person to approve step `id`. Rejection or timeout throws a non-retryable
   * ApplicationFailure: the runbook stops where it is, nothing further is done.
   */
  async approval(id: string, opts: GateOptions): Promise<Decision> {
    const s = this.find(id);
    s.status = 'waiting';
    s.startedAt = Date.now();
    const request: ApprovalRequest = { step: id, plan: opts.plan, requestedAt: Date.now() };
    if (opts.timeoutMs !== undefined) request.deadline = request.requestedAt + opts.timeoutMs;
    this.state.pendingApproval = request;
    this.setPhase(`awaiting-approval:${id}`);

    const decided = () => this.state.decisions.some((d) => d.step === id);
    let inTime = true;
    if (opts.timeoutMs === undefined) await condition(decided);
    else inTime = await condition(decided, opts.timeoutMs);
    this.state.pendingApproval = undefined;
    s.endedAt = Date.now();
    if (!inTime) {
      s.status = 'failed';
      s.detail = `no decision within ${Math.round((opts.timeoutMs ?? 0) / 1000)}s: stopped safely, nothing was changed after this point`;
      this.publish();
      throw ApplicationFailure.create({ type: FailureTypes.approvalTimedOut, message: `approval for "${id}" timed out; the runbook stopped without proceeding`, nonRetryable: true });
    }
    const decision = this.state.decisions.find((d) => d.step === id)!;
    const who = `${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`;
    if (!decision.approved) {
      s.status = 'failed';
      s.detail = `rejected by ${who}`;
      this.publish();
      throw ApplicationFailure.create({ type: FailureTypes.rejected, message: `"${id}" rejected by ${who}`, nonRetryable: true });
    }
    s.status = 'done';
    s.detail = `approved by ${who}`;
    this.publish();
    return decision;
  }

  /**
   * Holds at step `id` (something blocked or failed) and asks for one of `choices`; who chose what,
   * when and why is kept with the approvals. `needsReason`: choices that must come with a comment.
   * No timeout: a hold waits for a person (the cluster is left as the question says).
   */
  async hold(id: string, question: string, choices: string[], needsReason: string[] = []): Promise<Decision> {
    const s = this.find(id);
    s.status = 'waiting';
    s.startedAt = Date.now();
    this.state.pendingApproval = { step: id, plan: question, requestedAt: Date.now(), choices, ...(needsReason.length ? { needsReason } : {}) };
    this.setPhase(`held:${id}`);
    await condition(() => this.state.decisions.some((d) => d.step === id));
    this.state.pendingApproval = undefined;
    const d = this.state.decisions.find((x) => x.step === id)!;
    s.status = 'done';
    s.endedAt = Date.now();
    s.detail = `${d.choice} chosen by ${d.by}${d.comment ? `: ${d.comment}` : ''}`;
    this.publish();
    return d;
  }

  setReport(markdown: string): void {
    this.state.report = markdown;
    this.publish();
  }

  finish(phase = 'completed'): void {
    this.setPhase(phase);
  }

  private validateDecision(input: DecisionInput): void {
    const pending = this.state.pendingApproval;
    if (!pending) throw new Error('nothing is waiting for approval in this run');
    if (input.step !== pending.step) throw new Error(`the pending approval is "${pending.step}", not "${input.step}"`);
    if (typeof input.by !== 'string' || input.by.trim() === '') throw new Error('a decision needs the approver\'s name (--by NAME)');
    if (pending.choices) {
      if (typeof input.choice !== 'string' || !pending.choices.includes(input.choice)) throw new Error(`"${pending.step}" is a hold: choose one of ${pending.choices.join(', ')} (--choice)`);
      if (pending.needsReason?.includes(input.choice) && !(typeof input.comment === 'string' && input.comment.trim())) throw new Error(`choosing ${input.choice} needs a reason (--comment)`);
    } else if (input.choice !== undefined) {
      throw new Error(`"${pending.step}" is an approval, not a hold: approve or reject it`);
    }
    if (typeof input.approved !== 'boolean') throw new Error('a decision must say approved: true or false');
    // Two decisions can arrive in one activation, before the gate closes: only the first counts.
    const earlier = this.state.decisions.find((d) => d.step === pending.step);
    if (earlier) throw new Error(`"${pending.step}" was already ${earlier.approved ? 'approved' : 'rejected'} by ${earlier.by}: this second decision is refused`);
  }

  private recordRefusedSignal(input: DecisionInput, reason: string): void {
    const by = typeof input?.by === 'string' ? input.by.trim() : '';
    const r: RefusedDecision = { reason, at: Date.now(), step: typeof input?.step === 'string' ? input.step : '', by };
    if (typeof input?.approved === 'boolean') r.approved = input.approved;
    if (typeof input?.identity === 'string') r.identity = input.identity;
    log.warn('decide-signal refused: it was not applied', { step: r.step, by: r.by, reason });
    const refused = (this.state.refusedSignals ??= []);
    refused.push(r);
    // Bounded: a client resending in a loop must not grow the state (and every query) without end.
    if (refused.length > MAX_REFUSED_KEPT) refused.splice(0, refused.length - MAX_REFUSED_KEPT);
    this.publish();
  }

  private applyDecision(input: DecisionInput): Decision {
    const d: Decision = { step: input.step, approved: input.approved, by: input.by.trim(), at: Date.now() };
    if (input.comment) d.comment = input.comment;
    if (input.identity) d.identity = input.identity;
    if (input.choice !== undefined) d.choice = input.choice;
    this.state.decisions.push(d);
    return d;
  }

  private find(id: string): StepState {
    const s = this.state.steps.find((x) => x.id === id);
    if (!s) throw ApplicationFailure.create({ type: 'RunbookBug', message: `unknown step "${id}"`, nonRetryable: true });
    return s;
  }

  private setPhase(phase: string): void {
    this.state.phase = phase;
    upsertSearchAttributes([{ key: PHASE, value: phase }]);
    this.publish();
  }

  private publish(): void {
    setCurrentDetails(renderProgressMarkdown(this.state, workflowInfo().workflowId));
  }
}

/** The innermost cause: an activity's own ApplicationFailure rather than the ActivityFailure around it. */
export function rootCause(err: unknown): unknown {
  let e = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  return e;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
