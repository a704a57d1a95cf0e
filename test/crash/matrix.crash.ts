// The whole crash matrix: every activity boundary of the follower, leader and majority
// recoveries. `npm run test:crash`. Each runbook gets a lab of its own, one after the other, all
// on 127.36.0. A case that fails leaves its lab and the next case gets a new one (crashSuite).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOUNDARIES, crashSuite } from './recover-crash.js';

const SUBNET = '127.36.0';

for (const scenario of ['follower', 'leader', 'majority'] as const) {
  describe(`crash matrix: ${scenario} recovery at every activity boundary`, () => {
    // A case that fails gets the next one a fresh lab, so each failure is its own.
    const suite = crashSuite(SUBNET);
    before(() => suite.setUp());
    after(() => suite.tearDown());
    for (let boundary = 1; boundary <= BOUNDARIES[scenario]; boundary++) {
      it(`${scenario} boundary ${boundary}`, async (t) => {
        // Fails saying so when the boundary was never reached or the run ended before the kill.
        const { total, killedAfter } = await suite.crashAt(scenario, boundary);
        if (killedAfter > boundary) t.diagnostic(`killed after ${killedAfter} activities: parallel ones completed together`);
        assert.ok(total <= BOUNDARIES[scenario], `the run completed ${total} activities, the matrix has ${BOUNDARIES[scenario]} boundaries: update BOUNDARIES`);
      });
    }
  });
}
