// A fixed sample of the provision/deprovision crash matrix (all of it: `npm run
// test:crash:provision`): the worker process SIGKILLed right after provision's VIP port (nothing in
// flight), right after the first of seven parallel server creates (six in flight), and right after
// deprovision's first server delete (six in flight). Real Temporal, real worker processes, the
// SIMULATED OpenStack fake (seed 002's shape); what each case checks is in test/crash/provision-crash.ts.
import { after, before, describe, it } from 'node:test';
import { crashProvisionAt, setUpProvisionCrash, tearDownProvisionCrash, type ProvisionCrashEnv } from '../crash/provision-crash.js';

const SAMPLE = [['provision', 8], ['provision', 18], ['deprovision', 2]] as const;

describe('crash sample: provision and deprovision killed at activity boundaries (SIMULATED OpenStack)', () => {
  let e: ProvisionCrashEnv | undefined;
  before(async () => { e = await setUpProvisionCrash(); });
  after(async () => { await tearDownProvisionCrash(e); });
  for (const [runbook, boundary] of SAMPLE) {
    it(`${runbook} boundary ${boundary}: one of everything, all tagged, nothing orphaned or left`, async (t) => {
      // Fails (BoundaryMissed) unless the worker was killed at the boundary with the run still open.
      const { killedAfter, inFlightFailed } = await crashProvisionAt(e!, runbook, boundary);
      t.diagnostic(`killed after ${killedAfter} activities; ${inFlightFailed} in-flight attempts failed`);
    });
  }
});
