// Crash test: the worker process is killed with SIGKILL twice — while the run waits for approval
// and while a probe is running on a host — and the run still completes on a new worker, with no
// host probed twice except the one whose probe was cut short. Real Temporal, real sshd (lab).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab } from '../../lab/lab.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { FACTS_SCRIPT } from '../../activities/inventory/facts.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';

describe('crash: kill -9 the worker mid-run (real Temporal, real sshd)', () => {
  let t: TestTemporal;
  let lab: Lab;
  const workers: WorkerProcess[] = [];

  before(async () => {
    lab = new Lab({ dir: scratchDir('mooring-crash-'), subnet: '127.22.0' });
    await lab.up();
    t = await startTestTemporal();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await lab?.down();
  });

  it('finishes on a new worker after SIGKILL at the approval gate and during a probe', async () => {
    const taskQueue = uniqueTaskQueue('crash');
    const spawnWorker = async () => {
      const w = startWorkerProcess(t.address, taskQueue, join(lab.dir, `worker-${workers.length + 1}.log`));
      workers.push(w);
      await w.ready;
      return w;
    };
    const probes = (node: string) => lab.commandsReceived(node).filter((c) => c.includes(FACTS_SCRIPT)).length;
    const inv = await loadInventory(lab.inventoryFile);
    lab.slowSsh('etcd-2', 30); // etcd-2 answers slowly: its probe is running when the worker dies

    const w1 = await spawnWorker();
    const handle = await startRunbook(t.client, findRunbook('inventory-check'), inv, { taskQueue });
    await eventually('the approval gate', async () => (await handle.query(progressQuery)).pendingApproval);

    // Crash 1: the worker dies while the run waits for a person.
    assert.equal(await w1.kill9(), 'SIGKILL');
    await spawnWorker();
    await decide(t.client, handle.workflowId, { approved: true, by: 'crash-test' });

    // Crash 2: the worker dies while etcd-2's probe is in flight and the others are done.
    await eventually('six probes done and etcd-2 running', async () => {
      const p = await handle.query(progressQuery);
      const probeSteps = p.steps.filter((s) => s.id.startsWith('probe:'));
      return probeSteps.filter((s) => s.status === 'done').length === 6 && p.steps.find((s) => s.id === 'probe:etcd-2')?.status === 'running' && probes('etcd-2') === 1;
    }, 30_000);
    assert.equal(await workers[1]!.kill9(), 'SIGKILL');
    lab.clearFaults(); // the host recovers; the retried probe answers at once
    await spawnWorker();

    const result = await handle.result() as { hosts: { name: string }[]; findings: string[] };
    assert.equal(result.hosts.length, 7);

    // Side effects on the hosts: each probed exactly once, etcd-2 twice (its first probe was cut short).
    for (const node of ['gw-1', 'gw-2', 'etcd-1', 'etcd-3', 'master-1', 'worker-1']) assert.equal(probes(node), 1, node);
    assert.equal(probes('etcd-2'), 2);

    // The history agrees: one decision, etcd-2's activity started on attempt 2, every other on attempt 1.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    assert.equal(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length, 1);
    const hostOf = new Map<string, string>();
    for (const e of events) {
      const data = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
      if (data) hostOf.set(String(e.eventId), (JSON.parse(Buffer.from(data).toString()) as { host: { name: string } }).host.name);
    }
    const attempts = events.flatMap((e) => {
      const a = e.activityTaskStartedEventAttributes;
      return a ? [{ host: hostOf.get(String(a.scheduledEventId)), attempt: a.attempt }] : [];
    });
    assert.equal(attempts.length, 7, JSON.stringify(attempts));
    for (const a of attempts) assert.equal(a.attempt, a.host === 'etcd-2' ? 2 : 1, JSON.stringify(a));
  });
});
