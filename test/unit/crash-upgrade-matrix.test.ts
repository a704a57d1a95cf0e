// The upgrade hop's crash matrix without a lab: its boundary count against the recorded history of
// a real hop on the Kubernetes lab (test/histories/upgrade-kubernetes.json, the e2e run whose
// drain a PodDisruptionBudget held twice: each hold's retry is one more drainNode), where its
// approval gate falls for the harness, and MOORING_CRASH_BOUNDARIES's selection.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { nextStep, snapshotOf } from '../crash/boundary.js';
import { crashSelection } from '../crash/select.js';
import { UPGRADE_HOP_BOUNDARIES } from '../crash/upgrade-crash.js';

const events = historyFromJSON(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'histories', 'upgrade-kubernetes.json'), 'utf8'))).events ?? [];

/** The activity types the run completed, in order. */
function completedTypes(): string[] {
  const typeOf = new Map<string, string>();
  const out: string[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) typeOf.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c) out.push(typeOf.get(String(c.scheduledEventId))!);
  }
  return out;
}

/** How many activities had completed up to and including event `e`. */
const completedBefore = (e: (typeof events)[number]) => events.slice(0, events.indexOf(e) + 1).filter((x) => x.activityTaskCompletedEventAttributes).length;

describe('upgrade hop crash matrix: boundaries', () => {
  it('a hop without holds completes UPGRADE_HOP_BOUNDARIES activities (the recorded hop minus its two held drains)', () => {
    const types = completedTypes();
    const drains = types.filter((t) => t === 'drainNode').length;
    assert.equal(drains, 3, 'the recorded run drained worker-1 three times (two holds, then the drain that finished)');
    assert.equal(types.length - (drains - 1), UPGRADE_HOP_BOUNDARIES);
    assert.equal(types.at(-1), 'uncordonNode', 'the last boundary follows the uncordon');
  });

  it('boundaries 1-3 are killed before the gate is approved, 4 and later after it', () => {
    const third = events.findIndex((e) => e.activityTaskCompletedEventAttributes && completedBefore(e) === 3);
    const atThird = snapshotOf(events.slice(0, third + 1));
    assert.equal(atThird.atGate, false, 'the gate opens in the workflow task after the third activity');
    assert.equal(nextStep(3, atThird, false), 'kill');
    const atGate = snapshotOf(events.slice(0, events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes)));
    assert.equal(atGate.completed, 3);
    assert.ok(atGate.atGate, 'waiting at the gate with three activities done');
    assert.equal(nextStep(3, atGate, false), 'kill');
    assert.equal(nextStep(4, atGate, false), 'approve');
    assert.equal(nextStep(4, atGate, true), 'wait');
  });
});

describe('MOORING_CRASH_BOUNDARIES', () => {
  const saved = process.env.MOORING_CRASH_BOUNDARIES;
  afterEach(() => { if (saved === undefined) delete process.env.MOORING_CRASH_BOUNDARIES; else process.env.MOORING_CRASH_BOUNDARIES = saved; });
  const cases = ['follower:1', 'follower:2', 'upgrade-hop:1', 'upgrade-hop:2', 'upgrade-hop:3'];

  it('unset: every case', () => {
    delete process.env.MOORING_CRASH_BOUNDARIES;
    const selected = crashSelection(cases, 'follower:1');
    assert.deepEqual(cases.filter(selected), cases);
  });

  it('a list: only those cases', () => {
    process.env.MOORING_CRASH_BOUNDARIES = ' upgrade-hop:2,follower:1 ';
    const selected = crashSelection(cases, 'follower:1');
    assert.deepEqual(cases.filter(selected), ['follower:1', 'upgrade-hop:2']);
  });

  it('a name not in the matrix is refused with the valid ranges', () => {
    process.env.MOORING_CRASH_BOUNDARIES = 'upgrade-hop:2,upgrade-hop:9,leader:1';
    assert.throws(() => crashSelection(cases, 'follower:1'), {
      message: 'MOORING_CRASH_BOUNDARIES: upgrade-hop:9, leader:1 not in the matrix; give scenario:boundary, e.g. follower:1 (follower 1-2, upgrade-hop 1-3)',
    });
  });
});
