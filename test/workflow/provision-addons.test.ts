// The addons step of `provisionHosts` (the real workflow code on the real Temporal dev server, the
// SIMULATED host-phase activities of test/helpers/simulated-host-phase.ts): the CNI, then
// local-path storage, applied on the first master after the joins and the admin kubeconfig, their
// rollout before "every node Ready"; a re-run applies nothing; a CNI that does not ship is refused
// before any host is touched unless kubernetes.cniManifest is given; and a run recorded before the
// addons (patch 'provision-hosts-addons' off) keeps its shape. The addon activities themselves run
// against the real kube-apiserver in the lab (test/e2e/provision-*.provision.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { loadInventory } from '../../config/load.js';
import { hostsOf } from '../../config/hosts.js';
import type { Inventory } from '../../config/schema.js';
import type { HostPhaseResult, ProvisionedHost } from '../../activities/host/context.js';
import { workflowBundle } from '../../workers/worker.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkflowFileWorker, type TestWorker } from '../helpers/worker.js';
import { simulatedHostPhase } from '../helpers/simulated-host-phase.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const hostsFor = (inv: Inventory): ProvisionedHost[] => hostsOf(inv).map((h) => ({ name: h.name, roles: h.roles, address: h.ip, hostKey: 'ssh-ed25519 AAAASIMULATED', machineId: `vm-${h.name}` }));

describe('provisionHosts: addons (real workflow, SIMULATED host activities)', () => {
  let temporal: TestTemporal;
  let worker: TestWorker;
  let seed2: Inventory;
  const sim = simulatedHostPhase();
  const taskQueue = uniqueTaskQueue('provision-addons');

  before(async () => {
    seed2 = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-002-openstack-stacked-etcd.yaml'));
    temporal = await startTestTemporal();
    worker = await startWorkflowFileWorker(temporal.address, taskQueue, join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'hosts.js'), sim.activities);
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
  });

  const run = (inv: Inventory) => {
    sim.log.length = 0;
    sim.calls.length = 0;
    return temporal.client.workflow.execute('provisionHosts', { workflowId: `hosts-${randomUUID()}`, taskQueue, args: [{ inventory: inv, hosts: hostsFor(inv) }] }) as Promise<HostPhaseResult>;
  };
  const steps = () => sim.log.map((c) => c.step);

  it('seed 002 (flannel): CNI, then local-path, on the first master after the joins and the kubeconfig; rolled out before every node Ready', async () => {
    sim.done.clear();
    const r = await run(seed2);
    const s = steps();
    const first = seed2.masters[0]!.name;
    const at = (step: string) => s.indexOf(step);
    assert.ok(s.lastIndexOf('joinNode') < at('fetchAdminKubeconfig'));
    assert.ok(at('fetchAdminKubeconfig') < at('applyAddon:cni'), s.join(', '));
    assert.ok(at('applyAddon:cni') < at('applyAddon:local-path'));
    assert.ok(at('applyAddon:local-path') < at('waitAddonsRollout'));
    assert.ok(at('waitAddonsRollout') < at('waitNodesReady'));
    assert.deepEqual(sim.log.filter((c) => c.step.startsWith('applyAddon') || c.step === 'waitAddonsRollout').map((c) => c.host), [first, first, first]);
    // The rollout is asked about every master and worker.
    assert.deepEqual(sim.log.find((c) => c.step === 'waitAddonsRollout')!.input.names, [...seed2.masters, ...seed2.workers].map((n) => n.name));
    assert.ok(r.changed.includes(`${first}: SIMULATED: CNI flannel v0.28.10 applied`), r.changed.join('\n'));
    assert.ok(r.changed.includes(`${first}: SIMULATED: local-path storage v0.0.30 applied`));
    const nodes = seed2.masters.length + seed2.workers.length;
    assert.ok(r.smoke.includes(`SIMULATED: CNI flannel v0.28.10: DaemonSet ready on ${nodes}/${nodes} nodes`), r.smoke.join('\n'));
    assert.ok(r.smoke.includes('Helm: not checked yet (not installed by the host phase)'));
    assert.ok(r.smoke.includes('PVC bound on local-path: not checked yet'));
    assert.ok(!r.smoke.some((l) => /not installed by the host phase yet|local-path storage: not installed/.test(l)), r.smoke.join('\n'));
  });

  it('a second run applies nothing and says so', async () => {
    const r = await run(seed2);
    assert.deepEqual(r.changed, []);
    assert.equal(steps().filter((c) => c.startsWith('applyAddon')).length, 2, 'each addon is diffed again');
  });

  it('calico without kubernetes.cniManifest is refused before any step, naming the field and both fixes', async () => {
    const err = await run({ ...seed2, kubernetes: { ...seed2.kubernetes, cni: 'calico' } }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause as Error).message), /^kubernetes\.cni: calico's manifest does not ship with Mooring .*set kubernetes\.cniManifest .*or set kubernetes\.cni: flannel$/);
    assert.deepEqual(sim.calls, []);
  });

  it('calico with kubernetes.cniManifest: the operator\'s manifest is the CNI applied', async () => {
    sim.done.clear();
    const inv: Inventory = { ...seed2, kubernetes: { ...seed2.kubernetes, cni: 'calico', cniManifest: '/srv/mooring/calico.yaml' } };
    const r = await run(inv);
    assert.ok(r.changed.includes(`${seed2.masters[0]!.name}: SIMULATED: CNI calico (/srv/mooring/calico.yaml) applied`), r.changed.join('\n'));
  });

  it('a run recorded before the addons (patch off) replays on today\'s code with its old shape: no addon step, the old smoke lines', async () => {
    const file = join(PROJECT_ROOT, 'test', 'histories', 'provision-hosts-progress.json');
    const raw = readFileSync(file, 'utf8');
    assert.ok(!raw.includes('applyAddon') && !raw.includes('provision-hosts-addons'), 'recorded before the patch');
    const result = (JSON.parse(raw) as { events: { workflowExecutionCompletedEventAttributes?: { result?: { payloads?: { data?: string }[] } } }[] })
      .events.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
    assert.ok(result, 'the history completed');
    assert.match(Buffer.from(result, 'base64').toString('utf8'), /local-path storage: not installed yet/);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(raw)), 'provision-hosts-progress');
  });
});
