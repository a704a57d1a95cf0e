// The whole crash matrix: every activity boundary of the follower, leader and majority
// recoveries, and of one Kubernetes hop of the upgrade. The first file of `npm run test:crash`.
//   MOORING_CRASH_BOUNDARIES=follower:4,upgrade-hop:9   only those cases (select.ts)
// Each recovery gets a lab of its own, one after the other, all on 127.36.0; a case that fails
// leaves its lab and the next case gets a new one (crashSuite). The upgrade hop runs on a netns
// Kubernetes lab (tag c12, lan 17, loopback 127.88.0), put back at 1.35.4 before every case
// (upgrade-crash.ts); one case takes 5-10 minutes on a loaded 2-core machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOUNDARIES, crashSuite } from './recover-crash.js';
import { BoundaryMissed } from './boundary.js';
import { crashSelection } from './select.js';
import { CRASH_MATRICES } from './catalog.js';
import { layoutFromEnv } from '../../lab/netns/topology.js';
import { UPGRADE_HOP_BOUNDARIES, crashUpgradeHopAt, setUpUpgradeCrash, tearDownUpgradeCrash, type UpgradeCrashEnv } from './upgrade-crash.js';

const SUBNET = '127.36.0';
// MOORING_CRASH_UPGRADE_LAYOUT=tag/lan/loopback runs the hop's cases beside another run of this file.
const UPGRADE_LAYOUT = layoutFromEnv('MOORING_CRASH_UPGRADE_LAYOUT', { tag: 'c12', lan: 17, loopback: '127.88.0' });
const RECOVERIES = ['follower', 'leader', 'majority'] as const;

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
// The upgrade hop's last case lies past its last activity: it must fail as never reached.
const selected = crashSelection(CRASH_MATRICES, 'matrix.crash');

for (const scenario of RECOVERIES) {
  const boundaries = range(BOUNDARIES[scenario]).filter((b) => selected(`${scenario}:${b}`));
  if (!boundaries.length) continue;
  describe(`crash matrix: ${scenario} recovery at every activity boundary`, () => {
    // A case that fails gets the next one a fresh lab, so each failure is its own.
    const suite = crashSuite(SUBNET);
    before(() => suite.setUp());
    after(() => suite.tearDown());
    for (const boundary of boundaries) {
      it(`${scenario} boundary ${boundary}`, async (t) => {
        // Fails saying so when the boundary was never reached or the run ended before the kill.
        const { total, killedAfter } = await suite.crashAt(scenario, boundary);
        if (killedAfter > boundary) t.diagnostic(`killed after ${killedAfter} activities: parallel ones completed together`);
        assert.ok(total <= BOUNDARIES[scenario], `the run completed ${total} activities, the matrix has ${BOUNDARIES[scenario]} boundaries: update BOUNDARIES`);
      });
    }
  });
}

const hopBoundaries = range(UPGRADE_HOP_BOUNDARIES + 1).filter((b) => selected(`upgrade-hop:${b}`));
if (hopBoundaries.length) {
  describe('crash matrix: one Kubernetes hop of the upgrade (1.35.4 → 1.36.3) at every activity boundary', () => {
    let e: UpgradeCrashEnv | undefined;
    before(async () => { e = await setUpUpgradeCrash(UPGRADE_LAYOUT); });
    after(() => tearDownUpgradeCrash(e));
    for (const boundary of hopBoundaries) {
      if (boundary > UPGRADE_HOP_BOUNDARIES) {
        it(`upgrade-hop boundary ${boundary}, past the end: fails saying it was never reached`, async () => {
          await assert.rejects(crashUpgradeHopAt(e!, boundary), (err: unknown) => {
            assert.ok(err instanceof BoundaryMissed, String(err));
            assert.equal(err.message, `boundary ${boundary} was never reached: the run completed after ${UPGRADE_HOP_BOUNDARIES} activities`);
            return true;
          });
        });
        continue;
      }
      it(`upgrade-hop boundary ${boundary}`, async (t) => {
        const o = await crashUpgradeHopAt(e!, boundary);
        t.diagnostic(`lab: first made in ${(e!.freshUpMs / 1000).toFixed(0)} s, put back and up in ${(o.restoreMs / 1000).toFixed(0)} s; run ${(o.runMs / 1000).toFixed(0)} s; killed after ${o.killedAfter} activities of ${o.total}; kubelet restarts ${JSON.stringify(o.kubeletRestarts)}`);
        assert.ok(o.total <= UPGRADE_HOP_BOUNDARIES, `the run completed ${o.total} activities, the matrix has ${UPGRADE_HOP_BOUNDARIES} boundaries: update UPGRADE_HOP_BOUNDARIES`);
      });
    }
  });
}
