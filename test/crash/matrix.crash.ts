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
  // assess(1) [gate] reassess: observe(2) remove(3) fence(4) move-aside(5) certs(6) member list(7)
  // config(8) add(9) start(10) promote(11) healthy(12) verify: list(13) observe(14) canary(15)
  follower: 15,
  // election: observe(1) writes: probe(2) [gate] reassess: observe(3) remove(4) fence(5)
  // move-aside(6) certs(7) member list(8) config(9) add(10) start(11) promote(12) healthy(13)
  // verify: list(14) observe(15) canary(16). The test waits for the new leader before starting the
  // run, so the election and write-probe loops take one activity each.
  leader: 16,
  // confirm: observe x3 (1-3) snapshot: find(4) snapshot:remote: newest in the bucket(5, only
  // when the inventory has an object store, as the lab's does) [gate] reassess: observe(6)
  // find(7) fence: stop x3 in parallel (8-10) move-aside x3 in parallel (11-13) restore(14)
  // start-first: config(15) start(16) healthy(17) grow etcd-2: add(18) config(19) start(20)
  // promote(21) healthy(22) observe(23) grow etcd-3: add(24) config(25) start(26) promote(27)
  // healthy(28) observe(29) verify: observe(30) canary(31) control-plane, per master (the lab has
  // one): its container IDs(32) restart(33). (No fetch: the lab's bucket holds no newer snapshot.)
  majority: 33,
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
