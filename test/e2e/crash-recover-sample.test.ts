// CI's fixed sample of the recovery crash matrix (`npm run test:crash` runs every boundary).
import { after, before, describe, it } from 'node:test';
import { crashFollowerRecoveryAt, setUpCrashEnv, tearDownCrashEnv, type CrashEnv } from '../crash/recover-crash.js';

describe('crash matrix sample: follower recovery, worker SIGKILLed at activity boundaries', () => {
  let e: CrashEnv | undefined;
  before(async () => { e = await setUpCrashEnv('127.31.0'); });
  after(async () => { await tearDownCrashEnv(e); });
  for (const boundary of [3, 7]) {
    it(`kill after activity ${boundary}: the run ends healthy, nothing destructive done twice`, async () => {
      await crashFollowerRecoveryAt(e!, boundary);
    });
  }
});
