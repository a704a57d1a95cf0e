// CI's fixed sample of the recovery crash matrix (`npm run test:crash` runs every boundary of
// every recovery runbook). One lab for the whole file, on 127.37.0.
import { after, before, describe, it } from 'node:test';
import { crashSuite, type CrashScenario } from '../crash/recover-crash.js';

// Boundaries in the destructive part (see test/crash/matrix.crash.ts for the activities):
// follower 4 (fence done) and 8 (config done, member add next); leader 9 (config done, member
// add next); majority 11 (after the fence, while the data dirs are moved aside and the snapshot
// restore follows; 12 before the two-probe quorum confirmation, see recover-crash.ts).
const SAMPLE: [CrashScenario, number][] = [['follower', 4], ['follower', 8], ['leader', 9], ['majority', 11]];

describe('crash matrix sample: etcd recoveries, worker SIGKILLed at activity boundaries', () => {
  const suite = crashSuite('127.37.0');
  before(() => suite.setUp());
  after(() => suite.tearDown());
  for (const [scenario, boundary] of SAMPLE) {
    it(`${scenario}: kill after activity ${boundary}: the run ends healthy, nothing destructive done twice`, async (t) => {
      // Fails saying so when the boundary was never reached or the run ended before the kill.
      const { killedAfter } = await suite.crashAt(scenario, boundary);
      if (killedAfter > boundary) t.diagnostic(`killed after ${killedAfter} activities: parallel ones completed together`);
    });
  }
});
