// The crash matrix of provision's HOST phase on real lab nodes: every activity boundary of the
// provisionHosts child, seed 001's shape behind the SIMULATED OpenStack fake, real sshd, etcd,
// HAProxy, keepalived, kubeadm and kube-apiserver, real Temporal, real worker processes SIGKILLed
// (provision-hosts-crash.ts). Part of `npm run test:crash`; alone: `npm run test:crash:provision-hosts`.
// A boundary past the last activity must fail saying it was never reached (the harness has teeth).
//   MOORING_CRASH_BOUNDARIES=provision-hosts:4,provision-hosts:20   only those cases
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BoundaryMissed } from './boundary.js';
import { crashSelection } from './select.js';
import { CRASH_MATRICES } from './catalog.js';
import { PROVISION_HOSTS_BOUNDARIES, crashHostsAt, setUpHostCrash, tearDownHostCrash, type HostCrashEnv } from './provision-hosts-crash.js';

const last = PROVISION_HOSTS_BOUNDARIES;
const selected = crashSelection(CRASH_MATRICES, 'provision-hosts.crash');
const cases = Array.from({ length: last + 1 }, (_, i) => i + 1).filter((n) => selected(`provision-hosts:${n}`));

// Nothing selected here (MOORING_CRASH_BOUNDARIES names another file's cases): no Temporal.
if (cases.length) describe('crash matrix: provision\'s host phase (seed 001 on real lab nodes) at every activity boundary', { timeout: 6 * 3600_000 }, () => {
  let e: HostCrashEnv | undefined;
  before(async () => { e = await setUpHostCrash(); });
  after(async () => { await tearDownHostCrash(e); });
  for (const boundary of cases.filter((n) => n <= last)) {
    it(`provision-hosts boundary ${boundary}`, async (t) => {
      const { total, killedAfter, inFlight, seconds, slowest, stillAfterKill } = await crashHostsAt(e!, boundary);
      t.diagnostic(`killed after ${killedAfter} activities; ${inFlight.length} in-flight attempts failed (${inFlight.map((a) => a.activityType).join(', ') || 'none'}); ${total} in all`);
      t.diagnostic(`seconds: ${JSON.stringify(seconds)}; still ${stillAfterKill} s after the kill; slowest: ${slowest.join(', ')}`);
      assert.ok(total <= last, `the host phase completed ${total} activities, the matrix has ${last} boundaries: update PROVISION_HOSTS_BOUNDARIES`);
    });
  }
  if (cases.includes(last + 1)) {
    it(`provision-hosts boundary ${last + 1}, past the end: fails saying it was never reached`, async () => {
      await assert.rejects(crashHostsAt(e!, last + 1), (err: unknown) => {
        assert.ok(err instanceof BoundaryMissed, String(err));
        assert.equal(err.message, `boundary ${last + 1} was never reached: the run completed after ${last} activities`);
        return true;
      });
    });
  }
});
