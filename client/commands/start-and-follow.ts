// The CLI's common path for commands that start one runbook and watch it.
import type { Inventory } from '../../config/schema.js';
import { connectClient, runUrl, type MooringClient } from '../connect.js';
import { connectionFlags, fail, printData } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';
import { findRunbook } from '../runbooks.js';
import { ClusterBusyError, startRunbook, type StartOptions } from '../start.js';
import { endOf, follow, type RunOutcome } from '../watch.js';

/**
 * Starts a runbook from a CLI command's options (connection flags, --task-queue, --no-wait),
 * prints its ID and Web UI link, and follows it to the end. The exit code says how it ended
 * (exit-codes.ts): failed, rejected, approval timed out, degraded, inconclusive; a busy cluster
 * exits 3. `afterSuccess` runs on the same connection once the run completed well. With -o json|yaml
 * the progress is not drawn: the outcome (steps, result or failure, Web UI link) is printed once at the end.
 */
export async function startAndFollow(o: Record<string, string | boolean>, inv: Inventory, runbook: string, opts: StartOptions, note?: string,
  afterSuccess?: (mc: MooringClient, outcome: RunOutcome) => Promise<void>, autoApprove?: { by: string }): Promise<void> {
  const mc = await connectClient(connectionFlags(o));
  try {
    const handle = await startRunbook(mc.client, findRunbook(runbook), inv, { ...opts, taskQueue: String(o.taskQueue) });
    const url = runUrl(mc.namespace, handle.workflowId, handle.firstExecutionRunId);
    process.stderr.write(`started ${runbook}${note ? ` (${note})` : ''}: ${handle.workflowId}\n  Web UI: ${url}\n`);
    if (o.wait === false) {
      await printData(o, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url });
      return;
    }
    const quiet = o.output === 'json' || o.output === 'yaml';
    // --yes: the gates are approved as they come while the run is followed (auto-approve.ts).
    const stopApproving = new AbortController();
    const approving = autoApprove ? (await import('./auto-approve.js')).approveGates(mc.client, handle.workflowId, autoApprove.by, stopApproving.signal) : undefined;
    let outcome: RunOutcome;
    try {
      outcome = await follow(mc.client, handle.workflowId, { runId: handle.firstExecutionRunId, ...(quiet ? { print: () => {} } : {}) });
    } finally {
      stopApproving.abort();
      await approving?.catch((e: unknown) => process.stderr.write(`--yes: ${(e as Error).message}\n`));
    }
    await printData(o, { ...outcome, url });
    const end = endOf(outcome);
    if (end.code !== ExitCode.ok) fail(end.message, end.code);
    await afterSuccess?.(mc, outcome);
  } catch (err) {
    if (err instanceof ClusterBusyError) fail(err.message, ExitCode.busy);
    throw err;
  } finally {
    await mc.close();
  }
}
