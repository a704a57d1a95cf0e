// The upgrade hop's crash matrix without a lab: its boundary count against the recorded history of
// a real hop on the Kubernetes lab (test/histories/upgrade-kubernetes.json, the e2e run whose
// drain a PodDisruptionBudget held twice: each hold's retry is one more drainNode), where its
// approval gate falls for the harness, and MOORING_CRASH_BOUNDARIES's selection across every crash
// file of `npm run test:crash` (test/crash/catalog.ts).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { nextStep, snapshotOf } from '../crash/boundary.js';
import { allScenarios, crashSelection } from '../crash/select.js';
import { CRASH_MATRICES } from '../crash/catalog.js';
import { BOUNDARIES } from '../crash/recover-crash.js';
import { PROVISION_BOUNDARIES } from '../crash/provision-crash.js';
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
  // Two files as in the catalog: cases 1..N of each scenario.
  const matrices = { one: { follower: 2, 'upgrade-hop': 3 }, two: { 'proxmox-provision': 2 } };
  const cases = { one: ['follower:1', 'follower:2', 'upgrade-hop:1', 'upgrade-hop:2', 'upgrade-hop:3'], two: ['proxmox-provision:1', 'proxmox-provision:2'] };
  const pick = (file: 'one' | 'two') => cases[file].filter(crashSelection(matrices, file));
  const refused = (value: string, message: string) => {
    process.env.MOORING_CRASH_BOUNDARIES = value;
    for (const file of ['one', 'two']) assert.throws(() => crashSelection(matrices, file), { message });
  };
  const RANGES = '; give scenario:boundary, e.g. follower:4,proxmox-provision:3 (follower 1-2, upgrade-hop 1-3, proxmox-provision 1-2)';

  it('unset or blank: every case of each file', () => {
    delete process.env.MOORING_CRASH_BOUNDARIES;
    assert.deepEqual([pick('one'), pick('two')], [cases.one, cases.two]);
    process.env.MOORING_CRASH_BOUNDARIES = ' , ';
    assert.deepEqual([pick('one'), pick('two')], [cases.one, cases.two]);
  });

  it('a list: each file registers only its own selected cases and ignores the other file\'s', () => {
    process.env.MOORING_CRASH_BOUNDARIES = ' upgrade-hop:2,proxmox-provision:2,follower:1 ';
    assert.deepEqual(pick('one'), ['follower:1', 'upgrade-hop:2']);
    assert.deepEqual(pick('two'), ['proxmox-provision:2']);
    process.env.MOORING_CRASH_BOUNDARIES = 'follower:2';
    assert.deepEqual([pick('one'), pick('two')], [['follower:2'], []]);
  });

  it('a scenario of no file, a boundary out of range or a malformed entry is refused by every file', () => {
    refused('upgrade-hop:2,upgrade-hop:9,leader:1', `MOORING_CRASH_BOUNDARIES: upgrade-hop:9: boundary out of range (upgrade-hop 1-3); leader:1: no scenario leader${RANGES}`);
    refused('proxmox-provision:0', `MOORING_CRASH_BOUNDARIES: proxmox-provision:0: boundary out of range (proxmox-provision 1-2)${RANGES}`);
    refused('proxmox-provison:1', `MOORING_CRASH_BOUNDARIES: proxmox-provison:1: no scenario proxmox-provison${RANGES}`);
    refused('follower 1,follower:', `MOORING_CRASH_BOUNDARIES: follower 1 is not scenario:boundary; follower: is not scenario:boundary${RANGES}`);
  });

  it('a scenario name in two files, an unknown file, or a case the file\'s catalog entry lacks is an error', () => {
    delete process.env.MOORING_CRASH_BOUNDARIES;
    assert.throws(() => crashSelection({ ...matrices, three: { follower: 1 } }, 'one'), { message: 'crash scenario follower is in both one and three: case names must be unique across crash files' });
    assert.throws(() => crashSelection(matrices, 'four'), /crash file four is not in the crash catalog/);
    const selected = crashSelection(matrices, 'two');
    assert.throws(() => selected('proxmox-provision:3'), /crash case proxmox-provision:3 is not in two's entry of the crash catalog/);
    assert.throws(() => selected('follower:1'), /crash case follower:1 is not in two's entry/);
  });

  it('the catalog: unique scenario names, and test:crash runs exactly its files, one after the other', () => {
    const scenarios = allScenarios(CRASH_MATRICES);
    assert.deepEqual(Object.fromEntries(scenarios), {
      follower: BOUNDARIES.follower, leader: BOUNDARIES.leader, majority: BOUNDARIES.majority, 'upgrade-hop': UPGRADE_HOP_BOUNDARIES + 1,
      provision: PROVISION_BOUNDARIES.provision + 1, deprovision: PROVISION_BOUNDARIES.deprovision + 1,
      'proxmox-provision': 13, 'proxmox-deprovision': 5,
    });
    const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const files = scripts['test:crash']!.split(' ').filter((w) => w.startsWith('dist/test/crash/'));
    assert.deepEqual(files, Object.keys(CRASH_MATRICES).map((f) => `dist/test/crash/${f}.js`));
    assert.match(scripts['test:crash']!, /--test-concurrency=1 /);
  });
});
