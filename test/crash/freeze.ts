// The crash workers' one addition to a production worker: right after the N-th activity (of one
// workflow type, when given) completed, the process freezes (the JavaScript thread blocks), so the
// completion reaches the server but the workflow cannot act on it until the harness SIGKILLs the
// process. That puts every kill exactly on its boundary, the last one of a runbook included, which
// a harness polling a running worker would usually miss.
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** Longest freeze; the harness kills within seconds, this only ends a worker it forgot. */
const FREEZE_MS = 120_000;

/** `--name VALUE` from the command line; `required` throws when it is missing. */
export function flag(tool: string, name: string, required = true): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v && required) throw new Error(`${tool}: --${name} is required`);
  return v;
}

function freeze(completed?: number): void {
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'WARN', msg: 'crash-worker frozen', ...(completed ? { completed } : {}) })}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FREEZE_MS);
}

export function freezeAfter(n: number, workflowType?: string): ActivityInterceptorsFactory {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--freeze-after ${n} is not a positive integer`);
  let completed = 0;
  return () => ({
    inbound: {
      async execute(input, next) {
        const result: unknown = await next(input);
        if (workflowType && Context.current().info.workflowType !== workflowType) return result;
        // setImmediate: after the SDK handed the result to the native core (which sends it from its
        // own threads) and before the server's next workflow task can arrive on this thread. If it
        // ever froze too early, the completion would not reach the server and the harness would
        // fail the case for not reaching its boundary: never a silent pass.
        if (++completed === n) setImmediate(() => freeze(completed));
        return result;
      },
    } satisfies ActivityInboundCallsInterceptor,
  });
}

/** Freezes right after the first completion of activity type `activityType` in this process. */
export function freezeOn(activityType: string): ActivityInterceptorsFactory {
  let frozen = false;
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result: unknown = await next(input);
        if (ctx.info.activityType === activityType && !frozen) { frozen = true; setImmediate(freeze); }
        return result;
      },
    } satisfies ActivityInboundCallsInterceptor,
  });
}
