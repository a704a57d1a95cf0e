// Crash sample of one Kubernetes hop of the upgrade runbook on the netns Kubernetes lab
// (1.35.4 → 1.36.3: three masters with stacked etcd, one worker; real kubeadm, apiserver,
// controller-manager, scheduler, etcd, kubectl, sshd; the kubelet SIMULATED, docs/kubelet-standin.md).
// One run, its worker SIGKILLed at several activity boundaries in turn: each worker but the last
// is the crash worker (crash-worker.ts --freeze-on TYPE), frozen right after the first completion of
// TYPE so the kill lands exactly on that boundary while the run is open; the next worker replays
// and goes on. The run must end at the target (every node Ready on 1.36.3, schedulable, the
// control plane on 1.36.3) and the nodes must have received `kubeadm upgrade apply` once (master-1)
// and `kubeadm upgrade node` once each (the others): a step redone after a crash would show there.
// A sample; the whole matrix (every boundary of the hop, 31) is in `npm run test:crash`
// (upgrade-crash.ts). This sample: ~15 minutes.
//   npm run test:crash:upgrade-hop        (needs root; loopback 127.87.0, netns tag u12t)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';
import { KubernetesLab } from '../../lab/kubernetes-lab.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { ONE_HOP_KUBEADM, expectHopDone, kubeadmDelta, kubeadmRuns } from '../helpers/kubernetes-hop.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

// The boundaries, in the hop's order: after the plan (apply next), right after apply (the step
// that must never run twice), after master-2's upgrade node, after master-1's kubelet restart,
// after worker-1's drain (its upgrade next), and after the last activity (the uncordon).
const KILL_AFTER = ['kubeadmUpgradePlan', 'kubeadmUpgradeApply', 'kubeadmUpgradeNode', 'restartKubeletAt', 'drainNode', 'uncordonNode'];

/** How many activities of each type the run completed so far. */
function completedByType(events: readonly HistoryEvent[]): Map<string, number> {
  const typeOf = new Map<string, string>();
  const done = new Map<string, number>();
  for (const ev of events) {
    const scheduled = ev.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(ev.eventId), scheduled.activityType?.name ?? '');
    const completed = ev.activityTaskCompletedEventAttributes;
    if (completed) {
      const t = typeOf.get(String(completed.scheduledEventId)) ?? '';
      done.set(t, (done.get(t) ?? 0) + 1);
    }
  }
  return done;
}
const isClosed = (events: readonly HistoryEvent[]) => events.some((e) => e.workflowExecutionCompletedEventAttributes ?? e.workflowExecutionFailedEventAttributes ?? e.workflowExecutionTerminatedEventAttributes ?? e.workflowExecutionTimedOutEventAttributes);

describe('crash sample: one Kubernetes hop, the worker killed at six activity boundaries', () => {
  const lab = new KubernetesLab({ dir: scratchDir('mooring-upgrade-crash-'), layout: { tag: 'u12t', lan: 12, loopback: '127.87.0' }, kubernetes: '1.35' });
  let t: TestTemporal;
  const workers: WorkerProcess[] = [];
  const taskQueue = uniqueTaskQueue('upgrade-crash');

  before(async () => {
    await lab.up();
    t = await startTestTemporal();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t?.stop();
    await lab.down();
  });

  it('1.35.4 → 1.36.3 ends at the target with kubeadm upgrade apply and each upgrade node run once', async (tc) => {
    const spawn = async (command?: string[]) => {
      const w = startWorkerProcess(t.address, taskQueue, join(lab.net.dir, `worker-${workers.length}.log`), command);
      workers.push(w);
      await w.ready;
      return w;
    };
    const inv = await loadInventory(lab.net.inventoryFile);
    let w = await spawn([CRASH_WORKER, '--freeze-on', KILL_AFTER[0]!]);
    const h = await startRunbook(t.client, findRunbook('upgrade'), inv, { to: '1.36.3', taskQueue, gates: 'single', skipSnapshot: 'the Kubernetes lab has no object store (SIMULATED cluster)' });
    const events = async () => (await h.fetchHistory()).events ?? [];
    // The one gate comes before every boundary of the sample: approved while the first worker runs.
    await eventually('the gate', async () => (await h.query(progressQuery)).pendingApproval, 300_000, 1000);
    await decide(t.client, h.workflowId, { approved: true, by: 'crash-sample', comment: 'crash sample of a Kubernetes hop' });

    for (const [i, type] of KILL_AFTER.entries()) {
      const before = completedByType(await events()).get(type) ?? 0;
      // Not `eventually`: a run that ends first must fail the case at once (the boundary was missed).
      for (const deadline = Date.now() + 25 * 60_000; ;) {
        const ev = await events();
        if (isClosed(ev)) assert.fail(`the run ended before the boundary after ${type}`);
        if ((completedByType(ev).get(type) ?? 0) > before) break;
        if (Date.now() > deadline) assert.fail(`${type} did not complete within 25 minutes (boundary ${i + 1})`);
        await new Promise((res) => setTimeout(res, 500));
      }
      assert.equal(await w.kill9(), 'SIGKILL');
      assert.ok(!isClosed(await events()), `the run was still open when its worker was killed after ${type}`);
      tc.diagnostic(`worker killed right after ${type} (${new Date().toISOString()})`);
      const next = KILL_AFTER[i + 1];
      w = await spawn(next ? [CRASH_WORKER, '--freeze-on', next] : undefined);
    }

    const r = await h.result() as UpgradeResult;
    assert.deepEqual(r.kubernetes?.map((k) => ({ to: k.to, skipped: k.skipped })), [{ to: '1.36.3', skipped: [] }]);
    await expectHopDone(lab, '1.36.3', 'crash sample');
    const runs = kubeadmRuns(lab);
    tc.diagnostic(`commands received: ${JSON.stringify(runs)}`);
    assert.deepEqual(kubeadmDelta(runs, {}), ONE_HOP_KUBEADM);
  });
});
