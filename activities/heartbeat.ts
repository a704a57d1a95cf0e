// Long activities heartbeat on a short interval so a killed worker's task is retried within
// seconds (the heartbeat timeout), not after the whole start-to-close timeout.
import { Context } from '@temporalio/activity';

export async function heartbeatWhile<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, everyMs = 1000): Promise<T> {
  const ctx = Context.current();
  const started = Date.now();
  const beat = () => ctx.heartbeat({ what, elapsedMs: Date.now() - started });
  beat();
  const timer = setInterval(beat, everyMs);
  try {
    return await fn(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
