// The crash matrix of provision's OpenStack cloud phase and of deprovision: every activity
// boundary, SIMULATED OpenStack fake, real Temporal, real worker processes SIGKILLed
// (provision-crash.ts). `npm run test:crash:provision`. A boundary past each runbook's last
// activity must fail saying it was never reached (the harness has teeth).
//   MOORING_CRASH_BOUNDARIES=provision:8,deprovision:2   only those cases
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BoundaryMissed } from './boundary.js';
import { crashSelection } from './select.js';
import { CRASH_MATRICES } from './catalog.js';
import { PROVISION_BOUNDARIES, crashProvisionAt, setUpProvisionCrash, tearDownProvisionCrash, type ProvisionCrashEnv } from './provision-crash.js';

const RUNBOOKS = ['provision', 'deprovision'] as const;
const selected = crashSelection(CRASH_MATRICES, 'provision-matrix.crash');
const any = RUNBOOKS.some((runbook) => Array.from({ length: PROVISION_BOUNDARIES[runbook] + 1 }, (_, i) => selected(`${runbook}:${i + 1}`)).some(Boolean));

// Nothing selected here (MOORING_CRASH_BOUNDARIES names another file's cases): no Temporal, no bundle.
if (any) describe('crash matrix: provision (cloud phase) and deprovision at every activity boundary', { timeout: 4 * 3600_000 }, () => {
  let e: ProvisionCrashEnv | undefined;
  before(async () => { e = await setUpProvisionCrash(); });
  after(async () => { await tearDownProvisionCrash(e); });
  for (const runbook of RUNBOOKS) {
    const last = PROVISION_BOUNDARIES[runbook];
    for (let boundary = 1; boundary <= last; boundary++) {
      if (!selected(`${runbook}:${boundary}`)) continue;
      it(`${runbook} boundary ${boundary}`, async (t) => {
        const { total, killedAfter, inFlightFailed } = await crashProvisionAt(e!, runbook, boundary);
        t.diagnostic(`killed after ${killedAfter} activities; ${inFlightFailed} in-flight attempts failed; ${total} in all`);
        assert.ok(total <= last, `the run completed ${total} activities, the matrix has ${last} boundaries: update PROVISION_BOUNDARIES`);
      });
    }
    if (!selected(`${runbook}:${last + 1}`)) continue;
    it(`${runbook} boundary ${last + 1}, past the end: fails saying it was never reached`, async () => {
      await assert.rejects(crashProvisionAt(e!, runbook, last + 1), (err: unknown) => {
        assert.ok(err instanceof BoundaryMissed, String(err));
        assert.equal(err.message, `boundary ${last + 1} was never reached: the run completed after ${last} activities`);
        return true;
      });
    });
  }
});
