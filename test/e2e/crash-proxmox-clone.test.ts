// Crash during a running Proxmox clone task: the real `mooring worker` process (activities on
// proxmox-api against the SIMULATED Proxmox VE fake on 127.89.0.1) is SIGKILLed while the fake's
// qmclone task runs. A new worker retries the clone activity after its heartbeat timeout; the UPID
// kept in the heartbeat details makes it poll the SAME task: no second clone is POSTed, the fake
// holds exactly one qmclone task and one VM, and the run finishes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { CloudPhaseResult } from '../../activities/host/context.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';

describe('crash: kill -9 the worker while a Proxmox clone task runs (real Temporal, SIMULATED Proxmox VE)', () => {
  let t: TestTemporal;
  let fake: ProxmoxFake;
  const dir = scratchDir('mooring-crash-pve-');
  const workers: WorkerProcess[] = [];

  before(async () => {
    setPveEnv(); // inherited by the worker processes: the token secret and host-key seed they resolve
    // Tasks run 8 s, long enough to kill the worker in the middle of the clone.
    fake = await startSeed003Fake(dir, { timing: { task: { afterMs: 8000 }, agent: { afterPolls: 1 } } });
    t = await startTestTemporal();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await fake?.close();
  });

  it('the new worker resumes polling the same UPID; one clone task, one VM', async () => {
    const taskQueue = uniqueTaskQueue('crash-pve');
    const spawnWorker = async () => {
      const w = startWorkerProcess(t.address, taskQueue, join(dir, `worker-${workers.length + 1}.log`));
      workers.push(w);
      await w.ready;
      return w;
    };
    const inv = smallCluster(await seed003Inventory(fake, dir), 'crash', 900);
    const w1 = await spawnWorker();
    const handle = await t.client.workflow.start('provisionProxmox', { workflowId: `pve-crash-${randomUUID()}`, taskQueue, args: [{ inventory: inv }] });
    const run = handle.result() as Promise<CloudPhaseResult>;
    const clone = await eventually('a running clone task', async () => [...fake.state.tasks.values()].find((x) => x.type === 'qmclone' && x.status === 'running'), 60_000, 50);
    // Kill once the server holds the UPID in the clone activity's heartbeat details (a kill before
    // that is the lookup-by-name case, tested in the workflow test's retries).
    await eventually('the UPID in the heartbeat details', async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.some((a) => (a.heartbeatDetails?.payloads ?? []).some((p) => Buffer.from(p.data ?? []).toString('utf8').includes(clone.upid)));
    }, 20_000, 20);
    assert.equal(await w1.kill9(), 'SIGKILL');
    const mark = fake.requests.length;
    await spawnWorker();
    const result = await run;
    const after = fake.requests.slice(mark);
    const polled = after.filter((r) => r.method === 'GET' && r.path.endsWith('/status') && decodeURIComponent(r.path).includes(clone.upid));
    assert.ok(polled.length > 0, `the new worker polled the UPID the killed one started (${clone.upid}); after the kill: ${after.map((r) => `${r.method} ${r.path}`).join('\n')}`);
    // The first host's clone was resumed; the second host's clone (started afterwards) is the only other one.
    const clonesAfter = after.filter((r) => r.method === 'POST' && r.path.endsWith('/clone')).length;
    assert.equal(clonesAfter, 1, 'only the other host\'s clone was POSTed after the crash');
    const tasks = [...fake.state.tasks.values()].filter((x) => x.type === 'qmclone');
    assert.equal(tasks.length, 2);
    assert.equal(clone.exitstatus, 'OK');
    for (const h of result.hosts!) {
      const vms = [...fake.state.vms.values()].filter((v) => v.config.name === h.name);
      assert.equal(vms.length, 1, `one VM for ${h.name}`);
      assert.equal(h.machineId, `${vms[0]!.node}/${vms[0]!.vmid}`);
      assert.equal(vms[0]!.status, 'running');
    }
  });
});
