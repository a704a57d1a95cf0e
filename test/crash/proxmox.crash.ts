// Crash matrices of the Proxmox VE runs: the worker is killed right after each activity (the crash
// harness's freezing production worker, then SIGKILL; proxmox-crash.ts) and a new worker finishes.
// Real Temporal dev server, the activities on proxmox-api against the SIMULATED Proxmox VE fake on
// 127.89.0.1, a one-master, one-worker cluster per case.
// - provisionProxmox at each of its 12 boundaries (inspect, capacity, then clone, configure,
//   resize, start, guest agent per VM): two VMs running, one clone task each, nothing else made;
// - deprovision at each of its 4 (find, two destroys, verify), on a cluster cloned just before:
//   nothing of the cluster left, every other VM untouched, the snippets gone.
// - one case past the last activity of each (13, 5): must fail saying it was never reached (the
//   harness has teeth).
// Not part of `npm test`; part of `npm run test:crash` (~7-15 min; an activity lost on the frozen
// worker without a heartbeat is retried after its 2 minute start-to-close timeout):
//   MOORING_CRASH_BOUNDARIES=proxmox-provision:3,proxmox-deprovision:2   only those cases
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { Inventory } from '../../config/schema.js';
import type { CloudPhaseResult } from '../../activities/host/context.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import type { DeprovisionResult } from '../../workflows/provision/deprovision.js';
import { startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { startWorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';
import { PROXMOX_BOUNDARIES, crashRunAt, type PveCrashEnv } from './proxmox-crash.js';
import { BoundaryMissed } from './boundary.js';
import { CRASH_MATRICES } from './catalog.js';
import { crashSelection } from './select.js';

const selected = crashSelection(CRASH_MATRICES, 'proxmox.crash');
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
// Each scenario's last case lies past its last activity.
const upBoundaries = range(PROXMOX_BOUNDARIES['proxmox-provision'] + 1).filter((b) => selected(`proxmox-provision:${b}`));
const downBoundaries = range(PROXMOX_BOUNDARIES['proxmox-deprovision'] + 1).filter((b) => selected(`proxmox-deprovision:${b}`));

// Nothing selected here (MOORING_CRASH_BOUNDARIES names another file's cases): no fake, no Temporal.
if (upBoundaries.length + downBoundaries.length) describe('crash matrices of the Proxmox VE runs (real Temporal, SIMULATED Proxmox VE)', () => {
  let fake: ProxmoxFake;
  let base: Inventory;
  const e = { dir: scratchDir('mooring-crash-pve-matrix-'), workers: [] } as unknown as PveCrashEnv;
  const provisionQueue = uniqueTaskQueue('crash-pve-up');

  before(async () => {
    setPveEnv(); // inherited by the worker processes
    fake = await startSeed003Fake(e.dir, { timing: { task: { afterMs: 1500 }, agent: { afterPolls: 1 } } });
    base = await seed003Inventory(fake, e.dir);
    // Sixteen clusters' disks stay on the shared pool (192 GiB each): room for all of them.
    fake.state.storages.find((x) => x.storage === 'ceph-vm')!.sizeGiB = 8192;
    e.t = await startTestTemporal();
    const w = startWorkerProcess(e.t.address, provisionQueue, join(e.dir, 'worker-provision.log'));
    e.workers.push(w);
    await w.ready;
  });
  after(async () => {
    await Promise.all(e.workers.map((w) => w.stop()));
    await e.t?.stop();
    await fake?.close();
  });

  const inRange = (first: number) => [...fake.state.vms.values()].filter((v) => v.vmid >= first && v.vmid <= first + 9);
  const cloneTasks = () => [...fake.state.tasks.values()].filter((x) => x.type === 'qmclone').length;
  const outside = (first: number) => [...fake.state.vms.values()].filter((v) => v.vmid < first || v.vmid > first + 9).map((v) => `${v.vmid}:${v.status}`).sort();
  const neverReached = (last: number) => (err: unknown) => {
    assert.ok(err instanceof BoundaryMissed, String(err));
    assert.equal(err.message, `boundary ${last + 1} was never reached: the run completed after ${last} activities`);
    return true;
  };

  for (const boundary of upBoundaries) {
    const last = PROXMOX_BOUNDARIES['proxmox-provision'];
    if (boundary > last) {
      it(`proxmox-provision boundary ${boundary}, past the end: fails saying it was never reached`, async () => {
        const inv = smallCluster(base, `up-${boundary}`, 2000 + boundary * 10);
        await assert.rejects(crashRunAt(e, 'up', boundary, false, (taskQueue) => e.t.client.workflow.start('provisionProxmox', { workflowId: `crash-up-${boundary}`, taskQueue, args: [{ inventory: inv }] })), neverReached(last));
      });
      continue;
    }
    it(`proxmox-provision boundary ${boundary}`, async () => {
      const first = 2000 + boundary * 10;
      const inv = smallCluster(base, `up-${boundary}`, first);
      const others = outside(first);
      const clonesBefore = cloneTasks();
      const r = await crashRunAt<CloudPhaseResult>(e, 'up', boundary, false, (taskQueue) => e.t.client.workflow.start('provisionProxmox', { workflowId: `crash-up-${boundary}`, taskQueue, args: [{ inventory: inv }] }));
      assert.deepEqual(r.hosts!.map((h) => h.name), ['kube0', 'kube3']);
      const vms = inRange(first);
      assert.deepEqual(vms.map((v) => `${String(v.config.name)}:${v.status}`).sort(), ['kube0:running', 'kube3:running'], `exactly the two VMs, running (crash at boundary ${boundary})`);
      // A clone task's id is the template's VMID (as in PVE); the cases run one at a time.
      assert.equal(cloneTasks() - clonesBefore, 2, `one clone task per VM (crash at boundary ${boundary})`);
      assert.deepEqual(outside(first), others, 'nothing else made or changed');
    });
  }

  for (const boundary of downBoundaries) {
    const last = PROXMOX_BOUNDARIES['proxmox-deprovision'];
    it(boundary > last ? `proxmox-deprovision boundary ${boundary}, past the end: fails saying it was never reached` : `proxmox-deprovision boundary ${boundary}`, async () => {
      const first = 1000 + boundary * 10;
      const cluster = `down-${boundary}`;
      const inv = smallCluster(base, cluster, first);
      await e.t.client.workflow.execute('provisionProxmox', { workflowId: `crash-down-up-${cluster}`, taskQueue: provisionQueue, args: [{ inventory: inv }] });
      assert.equal(inRange(first).length, 2);
      if (boundary > last) {
        await assert.rejects(crashRunAt(e, 'down', boundary, true, (taskQueue) => startRunbook(e.t.client, findRunbook('deprovision'), inv, { taskQueue, approvalTimeoutMs: 300_000 })), neverReached(last));
        assert.deepEqual(inRange(first), [], `the run the crash worker finished removed ${cluster}`);
        return;
      }
      const others = outside(first);
      const r = await crashRunAt<DeprovisionResult>(e, 'down', boundary, true, (taskQueue) => startRunbook(e.t.client, findRunbook('deprovision'), inv, { taskQueue, approvalTimeoutMs: 300_000 }));
      assert.ok(r.deleted.length >= 1 && r.deleted.length <= 2, `deleted ${r.deleted.join(', ')}`);
      assert.deepEqual(inRange(first), [], `no VM of ${cluster} left (crash at boundary ${boundary})`);
      assert.deepEqual(outside(first), others, 'every other VM untouched');
      for (const host of ['kube0', 'kube3']) assert.ok(!existsSync(join(e.dir, 'snippets', `mooring-${cluster}-${host}.yaml`)), `${host}'s snippet removed`);
    });
  }
});
