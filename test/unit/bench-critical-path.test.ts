// bench/critical-path.ts: the chain that gated a run's end, walked back through its activities,
// and the gaps between links named by what the histories show in them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { criticalPath, type Activity, type RunTimeline } from '../../bench/critical-path.js';
import { closedActivities, hostOf } from '../../bench/breakdown.js';

const act = (type: string, scheduledAt: number, startedAt: number, closedAt: number, workflow = 'ops/c'): Activity => ({ workflow, type, scheduledAt, startedAt, closedAt, attempt: 1 });

describe('criticalPath', () => {
  it('walks back from the last activity through the one that completed last before each link was scheduled', () => {
    // a → (b ∥ c, c slower) → d; e ran beside and closed before d was scheduled but before c did too.
    const t: RunTimeline = {
      startedAt: 0, closedAt: 100, workflows: ['ops/c'], marks: [],
      activities: [act('d', 60, 61, 95), act('a', 1, 2, 10), act('b', 11, 11, 20), act('c', 11, 12, 50), act('e', 5, 5, 30)],
    };
    const p = criticalPath(t);
    assert.deepEqual(p.links.map((l) => l.type), ['a', 'c', 'd']);
    assert.equal(p.runMs, (10 - 2) + (50 - 12) + (95 - 61));
    assert.equal(p.queueMs, 1 + 1 + 1);
    // start → a, a → c, c → d, d → end
    assert.deepEqual(p.gaps.map((g) => [g.fromMs, g.toMs]), [[0, 1], [10, 11], [50, 60], [95, 100]]);
  });

  it('names a gap by what happened in it: an approval before a child workflow, else workflow tasks', () => {
    const t: RunTimeline = {
      startedAt: 0, closedAt: 40, workflows: ['ops/c', 'ops/c/cloud'],
      marks: [{ at: 12, what: 'child workflow' }, { at: 13, what: 'approval' }, { at: 25, what: 'child workflow' }],
      activities: [act('plan', 1, 1, 10), act('create', 20, 20, 22, 'ops/c/cloud'), act('host', 30, 30, 35, 'ops/c/hosts')],
    };
    const p = criticalPath(t);
    assert.deepEqual(p.links.map((l) => l.type), ['plan', 'create', 'host']);
    assert.deepEqual(p.gaps.map((g) => g.what), ['workflow tasks', 'approval', 'child workflow start/close', 'workflow tasks']);
  });

  it('ends on an empty history with no links and one gap', () => {
    const p = criticalPath({ startedAt: 0, closedAt: 5, workflows: ['ops/c'], marks: [], activities: [] });
    assert.deepEqual([p.links, p.runMs, p.gaps.length], [[], 0, 1]);
  });
});

describe('reading a history (bench/breakdown.ts)', () => {
  const payload = (v: unknown) => ({ data: Buffer.from(JSON.stringify(v)) });

  it('names the host of an activity from its input, a string or an object with a name', () => {
    assert.equal(hostOf(payload({ target: {}, host: 'master-2' })), 'master-2');
    assert.equal(hostOf(payload({ host: { name: 'etcd-1', ip: '10.0.0.1' } })), 'etcd-1');
    assert.equal(hostOf(payload({ vm: { name: 'kube3' } })), 'kube3');
    assert.equal(hostOf(payload({ members: [{ name: 'a' }, { name: 'b' }] })), '2 hosts');
    assert.equal(hostOf(payload({ target: {} })), undefined);
    assert.equal(hostOf({ data: Buffer.from('not json') }), undefined);
  });

  it('pairs each closed activity with its scheduled and started events, leaving out one still running', () => {
    const events = [
      { eventId: 5, activityTaskScheduledEventAttributes: {} },
      { eventId: 6, activityTaskScheduledEventAttributes: {} },
      { eventId: 7, activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
      { eventId: 8, activityTaskStartedEventAttributes: { scheduledEventId: 6 } },
      { eventId: 9, activityTaskCompletedEventAttributes: { scheduledEventId: 5, startedEventId: 7 } },
    ] as unknown as Parameters<typeof closedActivities>[0]; // event IDs as numbers where the proto type says Long: the reader takes Number() of them
    assert.deepEqual(closedActivities(events).map((a) => [a.scheduled.eventId, a.started.eventId, a.closed.eventId].map(Number)), [[5, 7, 9]]);
  });
});
