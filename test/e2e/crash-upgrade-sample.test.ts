// CI's fixed sample of the upgrade hop's crash matrix (`npm run test:crash` runs every boundary of the
// hop, upgrade-crash.ts): the worker process SIGKILLed right after `kubeadm upgrade apply` completed
// on master-1 (boundary 9: the step that must never run twice; `upgrade node` on master-2 comes
// next). The netns Kubernetes lab at 1.35.4 (three masters, stacked etcd, one worker; real kubeadm,
// apiserver, controller-manager, scheduler, etcd, kubectl, sshd; the kubelet SIMULATED) goes to
// 1.36.3; checked for real: every node Ready and schedulable on 1.36.3, the control plane on 1.36.3,
// `kubeadm upgrade apply` received once and `upgrade node` once per other node. About 6 minutes.
// Netns tag u12s, lan 25, loopback 127.87.0 (shared with `npm run test:upgrade-kubernetes`: not at once).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UPGRADE_HOP_BOUNDARIES, crashUpgradeHopAt, setUpUpgradeCrash, tearDownUpgradeCrash, type UpgradeCrashEnv } from '../crash/upgrade-crash.js';

const LAYOUT = { tag: 'u12s', lan: 25, loopback: '127.87.0' };
const BOUNDARY = 9;

describe('crash sample: one Kubernetes hop of the upgrade, worker SIGKILLed right after kubeadm upgrade apply', () => {
  let e: UpgradeCrashEnv | undefined;
  before(async () => { e = await setUpUpgradeCrash(LAYOUT); });
  after(() => tearDownUpgradeCrash(e));
  it(`upgrade-hop boundary ${BOUNDARY}: ends at 1.36.3, apply once, upgrade node once per other node, nothing cordoned`, async (t) => {
    // Fails (BoundaryMissed) unless the kill landed on the boundary while the run was open.
    const o = await crashUpgradeHopAt(e!, BOUNDARY);
    t.diagnostic(`lab made in ${(e!.freshUpMs / 1000).toFixed(0)} s, put back in ${(o.restoreMs / 1000).toFixed(0)} s; run ${(o.runMs / 1000).toFixed(0)} s; killed after ${o.killedAfter} of ${o.total} activities`);
    assert.ok(o.total <= UPGRADE_HOP_BOUNDARIES, `the run completed ${o.total} activities, the matrix has ${UPGRADE_HOP_BOUNDARIES} boundaries`);
  });
});
