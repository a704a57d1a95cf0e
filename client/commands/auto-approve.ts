// `--yes --by NAME` of provision and deprovision: the person running the command approves the
// run's approval gates up front, for a lab or a pipeline that has no one to ask. Each gate is still
// decided through the workflow's Update, one at a time, with the approver, this CLI's identity and
// a comment saying it was given by --yes, so the history keeps who approved what and how.
import type { Client } from '@temporalio/client';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { decide } from '../decide.js';

/** Approves every gate the run waits at until `stop` aborts or the run closes; returns the steps approved. */
export async function approveGates(client: Client, workflowId: string, by: string, stop: AbortSignal,
  o: { comment?: string; everyMs?: number } = {}): Promise<string[]> {
  const comment = o.comment ?? 'approved in advance with --yes on the command line';
  const handle = client.workflow.getHandle(workflowId);
  const approved: string[] = [];
  while (!stop.aborted) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    const step = p?.pendingApproval?.step;
    if (step && !approved.includes(step)) {
      try {
        await decide(client, workflowId, { approved: true, by, step, comment });
        approved.push(step);
        process.stderr.write(`approved ${step} as ${by} (${comment})\n`);
      } catch (e) {
        // The gate moved on meanwhile (decided in the UI, timed out): the next look decides what is pending then.
        process.stderr.write(`--yes: ${step}: ${(e as Error).message}\n`);
      }
    }
    if (!p && (await handle.describe().catch(() => undefined))?.status.name !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, o.everyMs ?? 500));
  }
  return approved;
}
