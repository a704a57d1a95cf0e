// Runs one real Mooring activity in a mock activity context and prints its outcome as one JSON
// line: { ok: true, result } or { ok: false, failure: { name, type, message, nonRetryable,
// nextRetryDelay } }. For tests that must run an activity somewhere the test process cannot be,
// e.g. inside a network namespace (`ip netns exec NS node dist/test/helpers/run-activity.js`),
// where the activity then reaches hosts exactly as a worker on that network would.
// Input on stdin: { "activity": "restartControlPlane", "args": { ... } }.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/activity';
import { createActivities } from '../../activities/index.js';

const input = JSON.parse(await new Promise<string>((resolve) => {
  let text = '';
  process.stdin.on('data', (d: Buffer) => { text += d.toString(); });
  process.stdin.on('end', () => resolve(text));
})) as { activity: string; args: unknown };

const acts = createActivities() as unknown as Record<string, (a: unknown) => Promise<unknown>>;
const fn = acts[input.activity];
if (!fn) throw new Error(`no activity ${input.activity}`);
try {
  const result = await new MockActivityEnvironment().run(fn, input.args);
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
} catch (err) {
  const e = err as Error;
  const failure = err instanceof ApplicationFailure
    ? { name: e.name, type: err.type, message: e.message, nonRetryable: err.nonRetryable, nextRetryDelay: err.nextRetryDelay }
    : { name: e.name, message: e.message };
  process.stdout.write(`${JSON.stringify({ ok: false, failure })}\n`);
}
