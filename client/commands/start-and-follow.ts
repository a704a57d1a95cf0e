// The CLI's common path for commands that start one runbook and watch it.
import type { Inventory } from '../../config/schema.js';
import { connectClient, runUrl } from '../connect.js';
import { connectionFlags, fail } from '../cli-shared.js';
import { findRunbook } from '../runbooks.js';
import { ClusterBusyError, startRunbook, type StartOptions } from '../start.js';
import { follow } from '../watch.js';

/**
 * Starts a runbook from a CLI command's options (connection flags, --task-queue, --no-wait),
 * prints its ID and Web UI link, and follows it to the end; a failed run exits non-zero, a busy
 * cluster exits 3.
 */
export async function startAndFollow(o: Record<string, string | boolean>, inv: Inventory, runbook: string, opts: StartOptions, note?: string): Promise<void> {
  const mc = await connectClient(connectionFlags(o));
  try {
    const handle = await startRunbook(mc.client, findRunbook(runbook), inv, { ...opts, taskQueue: String(o.taskQueue) });
    process.stderr.write(`started ${runbook}${note ? ` (${note})` : ''}: ${handle.workflowId}\n  Web UI: ${runUrl(mc.namespace, handle.workflowId, handle.firstExecutionRunId)}\n`);
    if (o.wait === false) return;
    const outcome = await follow(mc.client, handle.workflowId, { runId: handle.firstExecutionRunId });
    if (outcome.status !== 'COMPLETED') fail(`${handle.workflowId} ended ${outcome.status}${outcome.failure ? `: ${outcome.failure.type ? `[${outcome.failure.type}] ` : ''}${outcome.failure.message}` : ''}`);
  } catch (err) {
    if (err instanceof ClusterBusyError) fail(err.message, 3);
    throw err;
  } finally {
    await mc.close();
  }
}
