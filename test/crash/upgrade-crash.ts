// Crash matrix of one Kubernetes hop of the upgrade runbook (1.35.4 → 1.36.3) on the netns
// Kubernetes lab: three masters with stacked etcd, one worker; real kubeadm, kube-apiserver,
// controller-manager, scheduler, etcd, kubectl, sshd, keepalived, HAProxy and Temporal; the kubelet
// SIMULATED (docs/kubelet-standin.md). For boundary N: the lab back at 1.35.4, the run started on
// a crash worker that freezes right after the run's N-th completed activity (crash-worker.ts
// --freeze-after N), the worker SIGKILLed there while the run is open, the gate approved before or
// after as the boundary falls (boundary.ts), a new worker finishes the run. Checked for real: every
// node Ready and schedulable on 1.36.3 and none left with the upgrade's cordon mark, the control
// plane on 1.36.3, and from the nodes' command logs `kubeadm upgrade apply` received once (master-1)
// and `kubeadm upgrade node` once on each other node: a step redone after the crash shows there.
//
// Each case needs a cluster at 1.35.4. The lab is made once (kubeadm init and joins), saved while
// down (lab/saved-lab.ts) and put back before every case: the same cluster restarted from its
// files, cheaper than a new `kubeadm init` per case (both timed, in each case's diagnostics).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesLab } from '../../lab/kubernetes-lab.js';
import type { NetnsLayout } from '../../lab/netns/topology.js';
import { restoreLab, saveLab } from '../../lab/saved-lab.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { eventually, startTestTemporal, uniqueTaskQueue, within, type TestTemporal } from '../helpers/temporal.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { ONE_HOP_KUBEADM, expectHopDone, kubeadmDelta, kubeadmRuns } from '../helpers/kubernetes-hop.js';
import { snapshotOf } from './boundary.js';
import { killAtBoundary, workerStarter } from './kill-at.js';

export const HOP_FROM = '1.35';
export const HOP_TO = '1.36.3';

/**
 * Activities the run completes on the happy path (single gate, no snapshot, one worker in one
 * batch), from a recorded run: observe versions (1-2, in parallel) releases (3) [gate] re-observe
 * (4-5) preflight (6) apply on master-1: kubeadm package (7) upgrade plan (8) upgrade apply (9)
 * upgrade node on master-2: package (10) node (11), master-3: (12) (13); kubelets of master-1..3,
 * each package (14, 17, 20) restart (15, 18, 21) Ready on the release (16, 19, 22); worker-1:
 * state (23) cordon (24) drain (25) kubeadm package (26) upgrade node (27) kubelet package (28)
 * restart (29) Ready (30) uncordon (31).
 */
export const UPGRADE_HOP_BOUNDARIES = 31;

export interface UpgradeCrashEnv {
  lab: KubernetesLab;
  /** The lab at 1.35.4, saved while down. */
  saved: string;
  /** Worker logs, outside the lab's directory (which every case replaces). */
  logs: string;
  t: TestTemporal;
  workers: WorkerProcess[];
  /** How long the first lab took to make (kubeadm init and joins), ms. */
  freshUpMs: number;
}

export async function setUpUpgradeCrash(layout: NetnsLayout): Promise<UpgradeCrashEnv> {
  const lab = new KubernetesLab({ dir: scratchDir('mooring-upgrade-crashmx-'), layout, kubernetes: HOP_FROM });
  const started = Date.now();
  await lab.up();
  const freshUpMs = Date.now() - started;
  const saved = join(scratchDir('mooring-upgrade-crashmx-saved-'), 'lab');
  await saveLab(lab.net, saved);
  return { lab, saved, logs: scratchDir('mooring-upgrade-crashmx-logs-'), t: await startTestTemporal(), workers: [], freshUpMs };
}

export async function tearDownUpgradeCrash(e: UpgradeCrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
  await e.lab.down();
}

const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

export interface UpgradeCrashOutcome {
  /** Activities the run completed in all. */
  total: number;
  /** Activities completed when the worker died (more than the boundary when parallel ones finished together). */
  killedAfter: number;
  /** The saved lab put back and up, ms. */
  restoreMs: number;
  /** Start of the run to its end, ms. */
  runMs: number;
  /** Kubelet restarts each node received (harmless when repeated; reported, not asserted). */
  kubeletRestarts: Record<string, number>;
}

/**
 * Runs the hop with the worker killed at `boundary`. Fails (BoundaryMissed) unless the kill landed
 * there while the run was open; fails (assert) unless the hop ended at the target with no kubeadm
 * step done twice and no node left cordoned.
 */
export async function crashUpgradeHopAt(e: UpgradeCrashEnv, boundary: number): Promise<UpgradeCrashOutcome> {
  const { lab, t } = e;
  const restoring = Date.now();
  await restoreLab(lab.net, e.saved);
  await lab.up();
  const restoreMs = Date.now() - restoring;

  const tag = `upgrade-hop-${boundary}`;
  const taskQueue = uniqueTaskQueue(`crash-${tag}`);
  const spawnWorker = workerStarter(e.workers, t.address, taskQueue, e.logs, tag);
  const inv = await loadInventory(lab.net.inventoryFile);
  const before = kubeadmRuns(lab);
  const mine = e.workers.length;

  const w = await spawnWorker([CRASH_WORKER, '--freeze-after', String(boundary)]);
  const started = Date.now();
  const handle = await startRunbook(t.client, findRunbook('upgrade'), inv, { to: HOP_TO, taskQueue, gates: 'single', skipSnapshot: 'the Kubernetes lab has no object store (SIMULATED cluster)' });
  const run = async () => snapshotOf((await handle.fetchHistory()).events ?? []);
  let outcome: Omit<UpgradeCrashOutcome, 'kubeletRestarts'>;
  try {
    const approve = async () => { await decide(t.client, handle.workflowId, { approved: true, by: 'crash-matrix', comment: `upgrade hop crash at boundary ${boundary}` }); };
    // The whole hop takes minutes on a loaded machine (kubeadm upgrade apply alone one to five).
    const { killedAfter, approved } = await killAtBoundary({ boundary, run, approve, worker: w, limitMs: 30 * 60_000, pollMs: 250 });
    const w2 = await spawnWorker();
    if (!approved) {
      await eventually('the gate, after the restart', async () => (await handle.query(progressQuery)).pendingApproval, 5 * 60_000, 500);
      await approve();
    }
    const r = await within(`the upgrade run (crash at boundary ${boundary}) to end`, handle.result(), 30 * 60_000) as UpgradeResult;
    assert.deepEqual(r.kubernetes?.map((k) => ({ to: k.to, skipped: k.skipped })), [{ to: HOP_TO, skipped: [] }], `the run's report (boundary ${boundary})`);
    outcome = { total: (await run()).completed, killedAfter, restoreMs, runMs: Date.now() - started };
    await w2.stop();
  } finally {
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate(`crash test at upgrade hop boundary ${boundary} failed`);
    // A case that failed leaves no worker behind (a frozen one cannot answer SIGTERM).
    await Promise.all(e.workers.slice(mine).map((x) => x.kill9()));
  }

  await expectHopDone(lab, HOP_TO, `crash at boundary ${boundary}`);
  const after = kubeadmRuns(lab);
  assert.deepEqual(kubeadmDelta(after, before), ONE_HOP_KUBEADM, `kubeadm upgrade apply once on master-1 and upgrade node once on each other node (crash at boundary ${boundary})`);
  return { ...outcome, kubeletRestarts: Object.fromEntries(Object.entries(after).map(([n, c]) => [n, c.kubeletRestarts - (before[n]?.kubeletRestarts ?? 0)])) };
}
