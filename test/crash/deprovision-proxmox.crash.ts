// Crash matrix of `deprovision` on Proxmox VE: the worker is killed right after each activity of
// the runbook (find, the two destroys, verify), with the crash harness's freezing production
// worker (crash-worker.ts) and SIGKILL; a new worker finishes the run. Real Temporal dev server,
// the activities on proxmox-api against the SIMULATED Proxmox VE fake on 127.89.0.1, a
// one-master, one-worker cluster cloned by provisionProxmox before each case. After each case:
// the run completed, no VM of the cluster is left, every other VM is untouched, the snippets are
// gone. Not part of `npm test` (~3 min):
//   bash scripts/with-node.sh --test dist/test/crash/deprovision-proxmox.crash.js
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { Inventory } from '../../config/schema.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { DeprovisionResult } from '../../workflows/provision/deprovision.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';
import { BoundaryMissed, killedAt, nextStep, snapshotOf } from './boundary.js';

const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));
/** find, destroyVm × 2, verify. */
const BOUNDARIES = 4;

describe('crash matrix: deprovision on Proxmox VE at every activity boundary (real Temporal, SIMULATED Proxmox VE)', () => {
  let t: TestTemporal;
  let fake: ProxmoxFake;
  let base: Inventory;
  const dir = scratchDir('mooring-crash-pve-down-');
  const workers: WorkerProcess[] = [];
  const provisionQueue = uniqueTaskQueue('crash-pve-up');

  before(async () => {
    setPveEnv(); // inherited by the worker processes
    fake = await startSeed003Fake(dir, { timing: { task: { afterMs: 1500 }, agent: { afterPolls: 1 } } });
    base = await seed003Inventory(fake, dir);
    t = await startTestTemporal();
    const w = startWorkerProcess(t.address, provisionQueue, join(dir, 'worker-provision.log'));
    workers.push(w);
    await w.ready;
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await fake?.close();
  });

  const vmsOf = (first: number) => [...fake.state.vms.values()].filter((v) => v.vmid >= first && v.vmid <= first + 9);

  for (let boundary = 1; boundary <= BOUNDARIES; boundary++) {
    it(`boundary ${boundary}`, async () => {
      const first = 1000 + boundary * 10;
      const cluster = `down-${boundary}`;
      const inv = smallCluster(base, cluster, first);
      await t.client.workflow.execute('provisionProxmox', { workflowId: `crash-up-${cluster}`, taskQueue: provisionQueue, args: [{ inventory: inv }] });
      assert.equal(vmsOf(first).length, 2);
      const others = [...fake.state.vms.values()].filter((v) => v.vmid < first || v.vmid > first + 9).map((v) => `${v.vmid}:${v.status}`).sort();

      const taskQueue = uniqueTaskQueue(`crash-pve-down-${boundary}`);
      const spawn = async (command?: string[]) => {
        const w = startWorkerProcess(t.address, taskQueue, join(dir, `worker-${boundary}-${workers.length}.log`), command);
        workers.push(w);
        await w.ready;
        return w;
      };
      const w = await spawn([CRASH_WORKER, '--freeze-after', String(boundary)]);
      const handle = await startRunbook(t.client, findRunbook('deprovision'), inv, { taskQueue, approvalTimeoutMs: 300_000 });
      const run = async () => snapshotOf((await handle.fetchHistory()).events ?? []);
      let approved = false;
      const approve = async () => { await decide(t.client, handle.workflowId, { approved: true, by: 'crash-matrix' }); approved = true; };
      try {
        // Not `eventually`: a missed boundary fails the case at once.
        for (const deadline = Date.now() + 120_000; ;) {
          const step = nextStep(boundary, await run(), approved);
          if (step === 'kill') break;
          if (step === 'approve') await approve();
          if (Date.now() > deadline) throw new BoundaryMissed(`boundary ${boundary} was not reached within 120 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(await w.kill9(), 'SIGKILL');
        killedAt(boundary, await run());
        const w2 = await spawn();
        if (!approved) {
          await eventually('the gate, after the restart', async () => (await handle.query(progressQuery)).pendingApproval, 60_000);
          await approve();
        }
        const r = await handle.result() as DeprovisionResult;
        assert.ok(r.deleted.length >= 1 && r.deleted.length <= 2, `deleted ${r.deleted.join(', ')}`);
        await w2.stop();
      } finally {
        if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate(`crash test at boundary ${boundary} failed`);
      }
      assert.deepEqual(vmsOf(first), [], `no VM of ${cluster} left (crash at boundary ${boundary})`);
      assert.deepEqual([...fake.state.vms.values()].filter((v) => v.vmid < first || v.vmid > first + 9).map((v) => `${v.vmid}:${v.status}`).sort(), others, 'every other VM untouched');
      for (const host of ['kube0', 'kube3']) assert.ok(!existsSync(join(dir, 'snippets', `mooring-${cluster}-${host}.yaml`)), `${host}'s snippet removed`);
    });
  }
});
