// Long activities heartbeat on a short interval so a killed worker's task is retried within
// seconds (the heartbeat timeout), not after the whole start-to-close timeout. Each beat carries
// the step's progress (bytes hashed, uploaded, which files are done), so the Web UI shows how far
// a long step got, and a retry can resume from the last beat's details (`lastHeartbeat`).
import { Context } from '@temporalio/activity';
import { cancellation } from './ssh/session.js';

/** What a step has done so far; merged into every heartbeat. Keep it small and free of secrets. */
export type Progress = Record<string, unknown>;

const current = new WeakMap<Context, Progress>();
const beats = new WeakMap<Context, () => void>();

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (unit tests, the CLI): progress goes nowhere
  }
}

export async function heartbeatWhile<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, everyMs = 1000): Promise<T> {
  const ctx = Context.current();
  const started = Date.now();
  // Whatever the last attempt recorded stays in the details until this attempt says otherwise,
  // so a retry that dies before its first report does not lose the earlier attempt's record.
  const previous = lastHeartbeat<Progress>() ?? {};
  current.set(ctx, { ...previous });
  const beat = () => ctx.heartbeat({ ...current.get(ctx), what, elapsedMs: Date.now() - started });
  beats.set(ctx, beat);
  beat();
  const timer = setInterval(beat, everyMs);
  try {
    const result = await fn(ctx.cancellationSignal);
    // Steps that report a host they cannot reach as a result ("unreachable", "not reached") catch
    // errors around their SSH sessions, a cancelled command's included: once the activity is
    // cancelled, what they return is no finding about the host. Say it was cancelled.
    if (ctx.cancellationSignal.aborted) throw cancellation(what, ctx.cancellationSignal);
    return result;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Merges `p` into the running activity's heartbeat details, sent with the next beat (within a
 * second), or at once with `now` for a milestone a retry resumes from (a file checked, a part
 * stored); the SDK still throttles what goes to the server.
 */
export function reportProgress(p: Progress, opts: { now?: boolean } = {}): void {
  const ctx = activityContext();
  if (!ctx) return;
  current.set(ctx, { ...current.get(ctx), ...p });
  if (opts.now) beats.get(ctx)?.();
}

/** The details of the previous attempt's last heartbeat, if this is a retry that has any. */
export function lastHeartbeat<T extends Progress>(): Partial<T> | undefined {
  const d = activityContext()?.info.heartbeatDetails as unknown;
  return d && typeof d === 'object' ? (d as Partial<T>) : undefined;
}

/**
 * A timeout for a command that reads `bytes` bytes: a floor for the fixed costs, plus the time at
 * a slow disk's pace (20 MB/s, far below what a healthy server does), so an 8 GB database on
 * a loaded host still fits while a hung command is still caught.
 */
export function sizedTimeoutMs(bytes: number, floorMs = 120_000, bytesPerSecond = 20e6): number {
  return floorMs + Math.ceil((Math.max(0, bytes) / bytesPerSecond) * 1000);
}

/** The byte count in the last `dd status=progress` line of `text` ("123456 bytes (123 kB) copied, …"). */
export function ddBytes(text: string): number | undefined {
  const all = [...text.matchAll(/(\d+) bytes/g)];
  const last = all.at(-1)?.[1];
  return last === undefined ? undefined : Number(last);
}
