// Waiting inside one activity attempt: a probe asked every second until it gives a value or the
// time is up (the caller's heartbeatWhile keeps the attempt alive meanwhile).

export const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); });

/** Polls `probe` until it gives a value or `timeoutMs` passes. */
export async function poll<T>(what: string, timeoutMs: number, signal: AbortSignal, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (signal.aborted || Date.now() > end) throw new Error(`${what}: not reached in ${Math.round(timeoutMs / 1000)} s${last ? ` (last error: ${last})` : ''}`);
    await sleep(1000, signal);
  }
}
