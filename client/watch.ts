// Following a run: poll the progress query, print what changed, end with the run's outcome.
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { progressQuery, type RunbookProgress } from '../workflows/runbook/definitions.js';
import { renderActivities, renderProgress } from './render.js';
import { pendingActivities, RateTracker, type ActivityProgress } from './transfers.js';
import { ExitCode, exitCodeForFailure } from './exit-codes.js';

export interface RunOutcome {
  workflowId: string;
  runId: string;
  status: string;
  progress?: RunbookProgress;
  result?: unknown;
  failure?: { type?: string; message: string };
  /** The steps running now and their last heartbeat's figures (bytes, total, rate): a running run only. */
  activities?: ActivityProgress[];
}

export async function snapshot(client: Client, workflowId: string, runId?: string): Promise<RunOutcome> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const d = await handle.describe();
  const out: RunOutcome = { workflowId, runId: d.runId, status: d.status.name };
  // A query needs a worker; a closed run with no worker would hang, so bound it.
  out.progress = await withTimeout(handle.query(progressQuery), 5000).catch(() => undefined);
  if (d.status.name === 'RUNNING') out.activities = await pendingActivities(client, d);
  if (d.status.name === 'COMPLETED') out.result = await handle.result();
  else if (d.status.name === 'FAILED') {
    try { await handle.result(); } catch (err) { out.failure = failureOf(err); }
  }
  return out;
}

export function failureOf(err: unknown): { type?: string; message: string } {
  if (err instanceof WorkflowFailedError) {
    // The deepest ApplicationFailure carries the type and the message meant for people.
    let found: ApplicationFailure | undefined;
    for (let c: unknown = err.cause; c instanceof Error; c = (c as { cause?: unknown }).cause) {
      if (c instanceof ApplicationFailure) found = c;
    }
    if (found) return { ...(found.type ? { type: found.type } : {}), message: found.message };
    return { message: err.cause?.message ?? err.message };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/** Prints progress whenever it changes until the run closes; returns its outcome. */
export async function follow(client: Client, workflowId: string, opts: { runId?: string; print?: (s: string) => void; everyMs?: number } = {}): Promise<RunOutcome> {
  const print = opts.print ?? ((s: string) => process.stdout.write(`${s}\n`));
  let last = '';
  let warned = false;
  const rates = new RateTracker();
  for (;;) {
    const snap = await snapshot(client, workflowId, opts.runId);
    if (snap.activities) snap.activities = rates.update(snap.activities);
    if (!snap.progress && snap.status === 'RUNNING' && !warned) {
      print(`${workflowId} is running but no worker answers its progress query: is \`mooring worker\` running on its task queue?`);
      warned = true;
    }
    if (snap.progress) {
      const running = renderActivities(snap.activities ?? []);
      const text = renderProgress(snap.progress, workflowId, snap.status) + (running ? `\n\n${running}` : '');
      const key = JSON.stringify([snap.progress, snap.activities]) + snap.status;
      if (key !== last) {
        print(`${process.stdout.isTTY && last ? '\x1b[2J\x1b[H' : last ? '\n' : ''}${text}`);
        last = key;
      }
    }
    if (snap.status !== 'RUNNING') return snap;
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 1000));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

/**
 * How a closed run ends the command: its exit code and one line. A completed run whose result
 * says it is degraded (a backup with no off-site copy) is not a success.
 */
export function endOf(outcome: RunOutcome): { code: number; message: string } {
  const id = outcome.workflowId;
  if (outcome.status === 'COMPLETED') {
    const r = outcome.result as { outcome?: unknown; problems?: unknown } | undefined;
    if (r?.outcome === 'degraded') {
      const problems = Array.isArray(r.problems) ? `: ${r.problems.map(String).join('; ')}` : '';
      return { code: ExitCode.degraded, message: `${id} completed DEGRADED${problems}` };
    }
    return { code: ExitCode.ok, message: `${id} completed` };
  }
  const f = outcome.failure;
  return {
    code: outcome.status === 'FAILED' ? exitCodeForFailure(f?.type) : ExitCode.failed,
    message: `${id} ended ${outcome.status}${f ? `: ${f.type ? `[${f.type}] ` : ''}${f.message}` : ''}`,
  };
}
