// The crash harness's boundary accounting (test/crash/boundary.ts) on a real recorded history of a
// follower recovery: every boundary up to its last activity is killable while the run is open,
// and a boundary past the end fails the case saying so instead of passing without a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { BoundaryMissed, killedAt, nextStep, snapshotOf } from '../crash/boundary.js';

const history = historyFromJSON(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'histories', 'recover-etcd-follower.json'), 'utf8')));
const events = history.events ?? [];
const total = events.filter((e) => e.activityTaskCompletedEventAttributes).length;
/** The history as the harness would read it right after the n-th activity completed. */
const upTo = (n: number) => {
  let seen = 0;
  const i = events.findIndex((e) => e.activityTaskCompletedEventAttributes && ++seen === n);
  return snapshotOf(events.slice(0, i + 1));
};

describe('crash harness boundary accounting', () => {
  it('reads the recorded follower recovery: its activities, its gate, its end', () => {
    assert.ok(total >= 10, `the recorded run completed ${total} activities`);
    const end = snapshotOf(events);
    assert.deepEqual([end.completed, end.closed], [total, 'completed']);
    // Not every upsert carries MooringPhase (other attributes are upserted on their own).
    const gate = events.findIndex((e) => {
      const phase = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.MooringPhase?.data;
      return phase !== undefined && phase !== null && /awaiting-approval:/.test(Buffer.from(phase).toString());
    });
    assert.ok(gate > 0, 'the run upserts its awaiting-approval phase');
    assert.equal(snapshotOf(events.slice(0, gate + 1)).atGate, true);
    assert.equal(nextStep(total, snapshotOf(events.slice(0, gate + 1)), false), 'approve');
    assert.equal(nextStep(total, snapshotOf(events.slice(0, gate + 1)), true), 'wait');
  });

  it('every boundary of the run is killed while the run is open', () => {
    for (let b = 1; b <= total; b++) {
      assert.equal(nextStep(b, upTo(b), true), 'kill', `boundary ${b}`);
      assert.equal(killedAt(b, upTo(b)), b);
      if (b > 1) assert.notEqual(nextStep(b, upTo(b - 1), true), 'kill', `boundary ${b} is not killed one activity early`);
    }
  });

  it('a boundary past the end fails the case, saying the run completed first', () => {
    assert.throws(() => nextStep(total + 3, snapshotOf(events), true),
      (err: unknown) => err instanceof BoundaryMissed && err.message === `boundary ${total + 3} was never reached: the run completed after ${total} activities`);
  });

  it('a kill that came after the run ended fails the case, even at a boundary it passed', () => {
    assert.throws(() => nextStep(total, snapshotOf(events), true), /boundary \d+ was reached, but the run completed \(after \d+ activities\) before its worker was killed/);
    assert.throws(() => killedAt(total, snapshotOf(events)), BoundaryMissed);
    assert.throws(() => killedAt(3, upTo(2)), /killed after 2 activities, before the boundary/);
  });
});
