// A check of the crash harness itself, two cases on one lab (127.38.0): the follower recovery's
// last boundary is killed with the run still open, and a boundary past its last activity fails
// the case saying it was never reached (it used to pass without killing anything). Then a suite
// whose case failed hands the next case a new lab (crashSuite), on which that case passes.
//   flock /tmp/mooring-lab.lock node --test dist/test/crash/harness.crash.js
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOUNDARIES, crashRecoveryAt, crashSuite, setUpCrashEnv, tearDownCrashEnv, type CrashEnv } from './recover-crash.js';
import { BoundaryMissed } from './boundary.js';

describe('crash harness: every boundary is killed, or the case fails', () => {
  let e: CrashEnv | undefined;
  before(async () => { e = await setUpCrashEnv('127.38.0'); });
  after(async () => { await tearDownCrashEnv(e); });
  const last = BOUNDARIES.follower;

  it(`follower boundary ${last}, the last: the worker is killed before the run ends`, async () => {
    const { total, killedAfter } = await crashRecoveryAt(e!, 'follower', last);
    assert.deepEqual([killedAfter, total], [last, last]);
  });

  it(`follower boundary ${last + 1}, past the end: fails saying it was never reached`, async () => {
    await assert.rejects(crashRecoveryAt(e!, 'follower', last + 1), (err: unknown) => {
      assert.ok(err instanceof BoundaryMissed, String(err));
      assert.equal(err.message, `boundary ${last + 1} was never reached: the run completed after ${last} activities`);
      return true;
    });
  });
});

describe('crash harness: a failed case does not fail the next one', () => {
  const suite = crashSuite('127.38.0');
  before(() => suite.setUp());
  after(() => suite.tearDown());

  it('after a case that failed, the next case runs on a new lab and passes', async () => {
    const first = suite.labDir();
    await assert.rejects(suite.crashAt('follower', BOUNDARIES.follower + 1), BoundaryMissed);
    assert.equal(suite.labDir(), first, 'the lab is replaced when the next case starts, not before');
    const { killedAfter } = await suite.crashAt('follower', 4);
    assert.ok(killedAfter >= 4);
    assert.notEqual(suite.labDir(), first, 'the case after a failure got a new lab');
  });
});
