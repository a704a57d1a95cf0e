// The whole crash matrix: every activity boundary of the follower, leader and majority
// recoveries. `npm run test:crash`. Each runbook gets a lab of its own, one after the other, all
// on 127.36.0.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crashRecoveryAt, setUpCrashEnv, tearDownCrashEnv, type CrashEnv, type CrashScenario } from './recover-crash.js';

const SUBNET = '127.36.0';

// Activities each runbook completes on the happy path, in order; boundary N kills the worker
// right after the N-th completed (boundaries before the approval gate are killed before approving).
// Every run checks it completed no more activities than this, so none goes without its boundary.
const BOUNDARIES: Record<CrashScenario, number> = {
  // assess(1) [gate] remove(2) fence(3) move-aside(4) certs(5) member list(6) config(7) add(8)
  // start(9) promote(10) healthy(11) verify: list(12) observe(13) canary(14)
  follower: 14,
  // election: observe(1) writes: probe(2) [gate] remove(3) fence(4) move-aside(5) certs(6)
  // member list(7) config(8) add(9) start(10) promote(11) healthy(12) verify: list(13)
  // observe(14) canary(15). The test waits for the new leader before starting the run, so the
  // election and write-probe loops take one activity each.
  leader: 15,
  // confirm: observe x3 (1-3) snapshot: find(4) snapshot:remote: newest in the bucket(5, only
  // when the inventory has an object store, as the lab's does) [gate] fence: stop x3 in parallel
  // (6-8) move-aside x3 in parallel (9-11) restore(12) start-first: config(13) start(14)
  // healthy(15) grow etcd-2: add(16) config(17) start(18) promote(19) healthy(20) observe(21)
  // grow etcd-3: add(22) config(23) start(24) promote(25) healthy(26) observe(27)
  // verify: observe(28) canary(29) control-plane: restart on each master(30, the lab has one).
  // (No fetch: the lab's bucket holds no newer snapshot.)
  majority: 30,
};

for (const scenario of ['follower', 'leader', 'majority'] as const) {
  describe(`crash matrix: ${scenario} recovery at every activity boundary`, () => {
    let e: CrashEnv | undefined;
    before(async () => { e = await setUpCrashEnv(SUBNET); });
    after(async () => { await tearDownCrashEnv(e); });
    for (let boundary = 1; boundary <= BOUNDARIES[scenario]; boundary++) {
      it(`${scenario} boundary ${boundary}`, async () => {
        const total = await crashRecoveryAt(e!, scenario, boundary);
        assert.ok(total <= BOUNDARIES[scenario], `the run completed ${total} activities, the matrix has ${BOUNDARIES[scenario]} boundaries: update BOUNDARIES`);
      });
    }
  });
}
