// Approving or rejecting a run's pending gate, or answering a hold (retry/skip/stop), through the
// workflow Update (validated by the workflow, so a stale or wrong step or choice is refused with the reason).
import type { Client } from '@temporalio/client';
import { decideUpdate, progressQuery, type Decision } from '../workflows/runbook/definitions.js';
import { cliIdentity } from './connect.js';

export async function decide(client: Client, workflowId: string, d: { approved: boolean; by: string; comment?: string; step?: string; choice?: string }): Promise<Decision> {
  const handle = client.workflow.getHandle(workflowId);
  let step = d.step;
  if (!step) {
    const p = await handle.query(progressQuery);
    if (!p.pendingApproval) throw new Error(`${workflowId} is not waiting for an approval (phase ${p.phase})`);
    step = p.pendingApproval.step;
  }
  return handle.executeUpdate(decideUpdate, {
    args: [{ step, approved: d.approved, by: d.by, identity: cliIdentity(), ...(d.comment ? { comment: d.comment } : {}), ...(d.choice ? { choice: d.choice } : {}) }],
  });
}
