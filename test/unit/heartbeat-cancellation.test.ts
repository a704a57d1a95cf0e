// heartbeatWhile and cancellation: steps that turn a failed SSH session into a result
// ("unreachable", "not reached") also catch the error a cancelled command raises; the activity must
// still end as cancelled, not report the host as unreachable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { heartbeatWhile } from '../../activities/heartbeat.js';

/** What the catch sites do: wait for the command; on any error, report the host as unreachable. */
const probe = () => heartbeatWhile('probe etcd on etcd-2', async (signal) => {
  try {
    await new Promise((_, reject) => {
      const timer = setTimeout(() => reject(new Error('connect timed out')), 200);
      signal.addEventListener('abort', () => { clearTimeout(timer); reject(new Error('command cancelled')); }, { once: true });
    });
    return { reachable: true };
  } catch (err) {
    return { reachable: false, problem: (err as Error).message };
  }
});

describe('heartbeatWhile and cancellation', () => {
  it('a cancelled activity ends cancelled, even when its step caught the error as "unreachable"', async () => {
    const env = new MockActivityEnvironment();
    const running = env.run(probe);
    setTimeout(() => env.cancel('CANCELLED'), 20);
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure && /probe etcd on etcd-2 cancelled/.test((err as Error).message));
  });

  it('without a cancellation the caught error stays a result', async () => {
    const r = await new MockActivityEnvironment().run(probe);
    assert.deepEqual(r, { reachable: false, problem: 'connect timed out' });
  });
});
