// The upgrade runbook's Kubernetes hops on the netns Kubernetes lab (real kubeadm, kube-apiserver,
// kube-controller-manager, kube-scheduler, stacked etcd, kubectl, sshd, keepalived + HAProxy,
// Temporal; the kubelet and container runtime SIMULATED, docs/kubelet-standin.md). Seed 002's
// shape: three masters, one worker. A Deployment of two pods on worker-1 (reported Running by the
// SIMULATED kubelet: lab.mooring.io/simulate-running) and a real PodDisruptionBudget minAvailable 1
// in the real apiserver: the drain evicts one pod, the budget then blocks the other (its
// replacement cannot be scheduled: the worker is cordoned, the masters tainted), so the run holds
// and asks.
//   1. 1.35.4 → 1.36.3: held at the drain; "skip" without a reason is refused; "retry" with the
//      budget in place holds again; after the budget is deleted "retry" drains, and the hop ends
//      with every node on 1.36.3, worker-1 uncordoned.
//   2. 1.36.3 → 1.37.2 with the budget back: held; "skip" with a reason: the masters reach
//      1.37.2, worker-1 stays on 1.36.3 (one minor behind) and is uncordoned; the report says so.
// About 20-30 minutes on a loaded 2-core machine: `npm run test:upgrade-kubernetes`, not in npm test.
// MOORING_UPGRADE_LAB_DIR reuses (and leaves up) a lab in that directory; MOORING_RECORD_UPGRADE_HISTORY=1
// writes the first run's history to test/histories/upgrade-kubernetes.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { KubernetesLab } from '../../lab/kubernetes-lab.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { decideUpdate, progressQuery, type RunbookProgress } from '../../workflows/runbook/definitions.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const APP = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { lab.mooring.io/simulate-running: "true" } }
    spec:
      containers: [{ name: web, image: registry.k8s.io/pause:3.10 }]
`;
const PDB = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: default }
spec:
  minAvailable: 1
  selector: { matchLabels: { app: web } }
`;

interface NodeJson { metadata: { name: string }; spec?: { unschedulable?: boolean }; status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] } }

describe('upgrade on the netns Kubernetes lab: kubeadm hops, drains held by a real PodDisruptionBudget', () => {
  const reuse = process.env.MOORING_UPGRADE_LAB_DIR;
  // A reused lab keeps the layout it was made with.
  const lab = new KubernetesLab(reuse ? { dir: reuse, kubernetes: '1.35' } : { dir: scratchDir('mooring-upgrade-k8s-'), layout: { tag: 'u12t', lan: 12, loopback: '127.87.0' }, kubernetes: '1.35' });
  let t: TestTemporal;
  let w: TestWorker;
  let inv: Inventory;
  const taskQueue = uniqueTaskQueue('upgrade-k8s');

  const kubectl = async (...args: string[]) => (await lab.kubectl(args)).stdout;
  const apply = (yaml: string) => { const f = join(scratchDir('mooring-upgrade-yaml-'), 'x.yaml'); writeFileSync(f, yaml); return kubectl('apply', '-f', f); };
  const nodes = async () => (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as { items: NodeJson[] }).items;
  const cpImages = async () => (JSON.parse(await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'tier=control-plane', '-o', 'json')) as { items: { metadata: { name: string }; spec: { containers: { image: string }[] } }[] }).items
    .filter((p) => !p.metadata.name.startsWith('etcd-')).map((p) => p.spec.containers[0]!.image);

  const progress = (h: WorkflowHandle) => h.query(progressQuery);
  async function pending(h: WorkflowHandle, what: string, timeoutMs = 25 * 60_000): Promise<NonNullable<RunbookProgress['pendingApproval']>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await h.describe()).status.name !== 'RUNNING') {
        const why = await h.result().then(() => 'completed', (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message));
        assert.fail(`the run ended before ${what}: ${why}; failed steps: ${JSON.stringify((await progress(h)).steps.filter((s) => s.status === 'failed'))}`);
      }
      const p = (await progress(h)).pendingApproval;
      if (p) return p;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify((await progress(h)).steps.filter((s) => s.status !== 'pending').map((s) => `${s.id} ${s.status} ${s.detail ?? ''}`))}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const decide = (h: WorkflowHandle, step: string, d: { approved?: boolean; choice?: string; comment?: string }) =>
    h.executeUpdate(decideUpdate, { args: [{ step, approved: d.approved ?? d.choice !== 'stop', by: 'oncall', identity: 'upgrade-test', ...(d.choice ? { choice: d.choice } : {}), ...(d.comment ? { comment: d.comment } : {}) }] });
  async function approveGates(h: WorkflowHandle, gates: string[]) {
    for (const g of gates) {
      const p = await pending(h, `gate ${g}`, 5 * 60_000);
      assert.equal(p.step, g);
      await decide(h, g, { approved: true, comment: 'upgrade test' });
    }
  }
  const start = (to: string) => startRunbook(t.client, findRunbook('upgrade'), inv, { to, taskQueue, skipSnapshot: 'the Kubernetes lab has no object store (SIMULATED cluster)' });

  before(async () => {
    if (!reuse) await lab.up();
    const labInv = await loadInventory(lab.net.inventoryFile);
    // A short drain limit: the budget holds the drain until it, then the run asks.
    inv = { ...labInv, kubernetes: { ...labInv.kubernetes, upgrade: { ...labInv.kubernetes.upgrade, drainTimeoutSeconds: 30 } } };
    t = await startTestTemporal();
    w = await startTestWorker(t.address, taskQueue);
    await apply(APP);
    await apply(PDB);
    await eventually('two web pods Running on worker-1 and the budget allowing one disruption', async () => {
      const b = JSON.parse(await kubectl('get', 'pdb', 'web', '-o', 'json')) as { status?: { disruptionsAllowed?: number } };
      return b.status?.disruptionsAllowed === 1;
    }, 120_000, 1000);
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
    if (!reuse) await lab.down();
  });

  it('1.35.4 → 1.36.3: a budget blocks the drain, the run holds; retry holds again; after the budget is deleted retry finishes the hop', async () => {
    const h = await start('1.36.3');
    await approveGates(h, ['approve', 'k8s-1:approve']);
    const hold = await pending(h, 'the hold at the drain of worker-1');
    assert.equal(hold.step, 'k8s-1:batch-1:drain:worker-1:hold-1');
    assert.deepEqual(hold.choices, ['retry', 'skip', 'stop']);
    assert.match(hold.plan, /drain of worker-1 did not succeed: .*disruption budget/i);
    // Meanwhile the control plane is on 1.36.3 and worker-1 is cordoned, as the question says.
    assert.ok((await cpImages()).every((i) => i.endsWith(':v1.36.3')), String(await cpImages()));
    assert.equal((await nodes()).find((n) => n.metadata.name === 'worker-1')?.spec?.unschedulable, true);
    // A skip needs a reason; the validator refuses it and the hold stays.
    await assert.rejects(decide(h, hold.step, { choice: 'skip' }), (e: unknown) => e instanceof WorkflowUpdateFailedError && /needs a reason/.test(String((e.cause as Error)?.message)));
    await decide(h, hold.step, { choice: 'retry', comment: 'try once more with the budget in place' });
    const again = await pending(h, 'the second hold');
    assert.equal(again.step, 'k8s-1:batch-1:drain:worker-1:hold-2');
    await kubectl('delete', 'pdb', 'web');
    await decide(h, again.step, { choice: 'retry', comment: 'budget web deleted' });
    const r = await h.result() as UpgradeResult;
    assert.deepEqual(r.kubernetes?.map((k) => ({ to: k.to, skipped: k.skipped })), [{ to: '1.36.3', skipped: [] }]);
    const ns = await nodes();
    assert.deepEqual(ns.map((n) => `${n.metadata.name}=${n.status.nodeInfo.kubeletVersion}`).sort(), ['master-1', 'master-2', 'master-3', 'worker-1'].map((n) => `${n}=v1.36.3`));
    assert.ok(ns.every((n) => !n.spec?.unschedulable && n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')), 'every node Ready and schedulable');
    assert.ok((await cpImages()).every((i) => i.endsWith(':v1.36.3')));
    const p = await progress(h);
    assert.deepEqual(p.decisions.filter((d) => d.choice).map((d) => `${d.step} ${d.choice} ${d.by}`), [
      'k8s-1:batch-1:drain:worker-1:hold-1 retry oncall', 'k8s-1:batch-1:drain:worker-1:hold-2 retry oncall']);
    if (process.env.MOORING_RECORD_UPGRADE_HISTORY) {
      const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', h.workflowId, '--run-id', h.firstExecutionRunId, '--output', 'json']);
      writeFileSync(join(PROJECT_ROOT, 'test', 'histories', 'upgrade-kubernetes.json'), json);
    }
  });

  it('1.36.3 → 1.37.2 with the budget back: skip with a reason leaves worker-1 on 1.36.3, uncordoned, and says so', async () => {
    await apply(PDB);
    await eventually('the web pods Running again on worker-1 and the budget allowing one disruption', async () => {
      const b = JSON.parse(await kubectl('get', 'pdb', 'web', '-o', 'json')) as { status?: { disruptionsAllowed?: number } };
      return b.status?.disruptionsAllowed === 1;
    }, 120_000, 1000);
    const h = await start('1.37.2');
    await approveGates(h, ['approve', 'k8s-1:approve']);
    const hold = await pending(h, 'the hold at the drain of worker-1');
    await decide(h, hold.step, { choice: 'skip', comment: 'web cannot lose a pod today; worker-1 next window' });
    let r: UpgradeResult | undefined;
    try { r = await h.result() as UpgradeResult; } catch (e) { if (e instanceof WorkflowFailedError) assert.fail(`the run failed: ${String((e.cause as Error)?.message)}`); throw e; }
    assert.deepEqual(r.kubernetes?.[0]?.skipped.map((s) => `${s.node} ${s.by} ${s.reason}`), ['worker-1 oncall web cannot lose a pod today; worker-1 next window']);
    const ns = await nodes();
    assert.deepEqual(ns.map((n) => `${n.metadata.name}=${n.status.nodeInfo.kubeletVersion}`).sort(), ['master-1=v1.37.2', 'master-2=v1.37.2', 'master-3=v1.37.2', 'worker-1=v1.36.3']);
    assert.equal(ns.find((n) => n.metadata.name === 'worker-1')?.spec?.unschedulable, undefined, 'worker-1 uncordoned');
    assert.match((await progress(h)).report ?? '', /worker-1 \(skipped by oncall: web cannot lose a pod today; worker-1 next window; still on the previous release, schedulable\)/);
  });
});
