// The whole crash matrix: every activity boundary of the follower recovery. `npm run test:crash`.
import { after, before, describe, it } from 'node:test';
import { crashFollowerRecoveryAt, setUpCrashEnv, tearDownCrashEnv, type CrashEnv } from './recover-crash.js';

// assess(1) remove(2) fence(3) move-aside(4) certs(5) member list(6) config(7) add(8) start(9)
// promote(10) healthy(11) verify: list(12) observe(13) canary(14)
const BOUNDARIES = Array.from({ length: 14 }, (_, i) => i + 1);

describe('crash matrix: follower recovery at every activity boundary', () => {
  let e: CrashEnv | undefined;
  before(async () => { e = await setUpCrashEnv('127.32.0'); });
  after(async () => { await tearDownCrashEnv(e); });
  for (const boundary of BOUNDARIES) {
    it(`boundary ${boundary}`, async () => { await crashFollowerRecoveryAt(e!, boundary); });
  }
});
