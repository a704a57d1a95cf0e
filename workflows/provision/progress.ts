// How the phases of `provision` report progress to it: a child run (the cloud phase, the host
// phase) signals its parent a list of step updates, which the parent shows as its own steps (the
// CLI's progress, `mooring status`, the Web UI), one per resource and per host. A child started
// on its own (no parent) only sets its own details. Pure definitions plus one workflow helper.
import { defineSignal, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import type { StepStatus } from '../runbook/definitions.js';

export interface PhaseStep {
  /** Unique within the run, e.g. "cloud:network" or "host:gateway-1". */
  id: string;
  title: string;
  status: StepStatus;
  detail?: string;
}

/** Sent by a phase child to its parent; the parent adds each step the first time it sees it. */
export const phaseStepsSignal = defineSignal<[PhaseStep[]]>('provision-phase-steps');

/** Sends the updates to the parent run, if there is one. */
export async function reportToParent(steps: PhaseStep[]): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent || !steps.length) return;
  await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(phaseStepsSignal, steps);
}
