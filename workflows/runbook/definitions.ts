// The messages every runbook answers: one progress query, one approval update (with a signal of
// the same meaning for operators in the Web UI). Shared by workflows and the client; pure.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type StepStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'skipped';

export interface StepState {
  id: string;
  title: string;
  status: StepStatus;
  /** Epoch milliseconds (workflow time). */
  startedAt?: number;
  endedAt?: number;
  /** One line for humans: what the step found or why it failed. */
  detail?: string;
}

export interface ApprovalRequest {
  step: string;
  /** What will happen if approved: shown by `mooring status` and in the Web UI. */
  plan: string;
  requestedAt: number;
  /** Epoch ms after which the runbook stops safely instead of waiting further. */
  deadline?: number;
  /** A hold (something blocked or failed) asks for one of these instead of approve/reject. */
  choices?: string[];
  /** Choices that need a comment saying why (e.g. skip). */
  needsReason?: string[];
}

export interface Decision {
  step: string;
  approved: boolean;
  by: string;
  comment?: string;
  /** Workflow time the decision was applied. */
  at: number;
  /** Temporal client identity that sent it (audit trail). */
  identity?: string;
  /** At a hold: the choice made (e.g. retry, skip, stop). */
  choice?: string;
}

/** A decision sent as a Signal that did not apply (a Signal cannot be refused to its sender). */
export interface RefusedDecision {
  step: string;
  by: string;
  approved?: boolean;
  identity?: string;
  /** Workflow time it arrived. */
  at: number;
  /** Why it was not applied, as the Update's validator would have said. */
  reason: string;
}

export interface RunbookProgress {
  runbook: string;
  cluster: string;
  phase: string;
  steps: StepState[];
  pendingApproval?: ApprovalRequest;
  decisions: Decision[];
  /** Decision signals that were not applied, newest last (bounded). */
  refusedSignals?: RefusedDecision[];
  /** Markdown report once the runbook has one (tables, findings). */
  report?: string;
}

export interface DecisionInput {
  step: string;
  approved: boolean;
  by: string;
  comment?: string;
  identity?: string;
  /** Required at a hold: one of its choices (`approved` is then true unless the choice is stop). */
  choice?: string;
}

export const progressQuery = defineQuery<RunbookProgress>('progress');
/** Approve or reject the pending gate. Rejected by the validator unless it names the pending step. */
export const decideUpdate = defineUpdate<Decision, [DecisionInput]>('decide');
/** Same meaning as the update, for operators who use the Web UI's "Send signal". */
export const decideSignal = defineSignal<[DecisionInput]>('decide-signal');

export { FailureTypes } from './failure-types.js';
