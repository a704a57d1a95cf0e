// `mooring deprovision -c FILE` on a Proxmox VE inventory (seed 003): the real `mooring` CLI as a
// subprocess, the real Temporal dev server, the production workflow bundle (runbook `deprovision`)
// and the Proxmox activities on `proxmox-api` against the SIMULATED Proxmox VE fake on 127.89.0.1.
// Seed 003's eight VMs are cloned first by provisionProxmox; the fake also holds a VM of someone
// else in the range, a VM tagged for the cluster outside the range and a clone of the cluster that
// was never configured (marker, no tag). The contract is OpenStack's: the plan lists, ONE approval,
// only the cluster's VMs go, "already gone" is done, a final look-up proves nothing is left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { Inventory } from '../../config/schema.js';
import type { MooringActivities } from '../../activities/index.js';
import { createProxmoxActivities } from '../../activities/cloud/proxmox/activities/index.js';
import type { CloudPhaseResult } from '../../activities/host/context.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { DeprovisionResult } from '../../workflows/provision/deprovision.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { mooring } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('mooring deprovision on Proxmox VE (real CLI, real Temporal dev server, SIMULATED Proxmox VE fake)', () => {
  let temporal: TestTemporal;
  let fake: ProxmoxFake;
  let worker: TestWorker;
  let inventory: Inventory;
  let env: NodeJS.ProcessEnv;
  const snippets = scratchDir('mooring-pve-down-snippets-');
  const files = scratchDir('mooring-pve-down-');
  const taskQueue = uniqueTaskQueue('deprovision-proxmox');

  before(async () => {
    setPveEnv();
    fake = await startSeed003Fake(snippets);
    inventory = await seed003Inventory(fake, snippets);
    temporal = await startTestTemporal();
    worker = await startTestWorker(temporal.address, taskQueue, createProxmoxActivities({ pollMs: 30 }) as Partial<MooringActivities>);
    env = { TEMPORAL_ADDRESS: temporal.address, MOORING_TASK_QUEUE: taskQueue };
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
    await fake?.close();
  });

  const provision = (inv: Inventory, id: string) =>
    temporal.client.workflow.execute('provisionProxmox', { workflowId: id, taskQueue, args: [{ inventory: inv }] }) as Promise<CloudPhaseResult>;
  const snapshot = () => [...fake.state.vms.values()].map((v) => `${v.vmid}@${v.node}:${String(v.config.name)}:${v.status}`).sort();
  const writes = (from: number) => fake.requests.slice(from).filter((r) => r.method !== 'GET');
  const gate = (workflowId: string) => eventually('the approval gate', async () => {
    const h = temporal.client.workflow.getHandle(workflowId);
    if ((await h.describe()).status.name !== 'RUNNING') throw new Error(`${workflowId} ended before its approval`);
    return (await h.query(progressQuery)).pendingApproval;
  }, 60_000, 100);
  const json = <T>(stdout: string) => JSON.parse(stdout) as T;

  it('plan, one approval through the CLI, only the cluster\'s VMs destroyed, nothing left; a second run finds nothing', async () => {
    const empty = snapshot();
    await provision(inventory, 'pve-down-seed003');
    // Someone else's VM in the range, the cluster's tag outside the range: neither is touched.
    fake.state.vms.set(590, { vmid: 590, node: 'pve2', status: 'running', config: { name: 'someone-else', cores: 1, memory: 512 } });
    fake.state.vms.set(800, { vmid: 800, node: 'pve3', status: 'stopped', config: { name: 'kube0', cores: 1, memory: 512, tags: 'mooring-molly' } });
    // A clone whose configuration never ran: Mooring's marker in the description, no tag yet.
    fake.state.vms.set(595, { vmid: 595, node: 'pve4', status: 'stopped', config: { name: 'kube9', cores: 2, memory: 2048, description: 'mooring:molly/kube9' } });
    const file = join(files, 'molly.yaml');
    writeFileSync(file, JSON.stringify(inventory, null, 2));

    let mark = fake.requests.length;
    const plan = await mooring(['deprovision', '-c', file, '--plan', '-o', 'json'], env);
    assert.equal(plan.code, 0, plan.stderr);
    const planned = json<{ status: string; result: DeprovisionResult }>(plan.stdout);
    assert.equal(planned.status, 'COMPLETED');
    assert.deepEqual(planned.result.found.vms!.map((v) => v.split(' ')[0]).sort(), ['kube0', 'kube1', 'kube2', 'kube3', 'kube4', 'kube5', 'kube6', 'kube7', 'kube9']);
    assert.deepEqual(writes(mark), [], '--plan deletes nothing');

    const started = await mooring(['deprovision', '-c', file, '--no-wait', '-o', 'json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = json<{ workflowId: string }>(started.stdout);
    assert.equal(workflowId, 'ops/molly');
    const pending = await gate(workflowId);
    assert.equal(pending?.step, 'approve');
    assert.match(pending!.plan, /Delete 9 VM\(s\) of molly with their disks \(only VMs in 500–599 tagged mooring-molly or marked mooring:molly\/…\)/);
    assert.equal(writes(mark).length, 0, 'nothing deleted before the approval');
    const approved = await mooring(['approve', workflowId, '--by', 'tester', '--comment', 'decommission'], env);
    assert.equal(approved.code, 0, approved.stderr);
    const r = await temporal.client.workflow.getHandle(workflowId).result() as DeprovisionResult;
    assert.equal(r.deleted.length, 9);
    assert.match(r.report, /molly deprovisioned\*\*: 9 VM\(s\) destroyed/);
    assert.deepEqual(snapshot(), [...empty, '590@pve2:someone-else:running', '800@pve3:kube0:stopped'].sort());
    assert.deepEqual(readdirSync(join(snippets, 'snippets')), [], 'every host-key snippet removed');
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const destroys = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'destroyVm');
    assert.equal(destroys.length, 9);

    mark = fake.requests.length;
    const again = await mooring(['deprovision', '-c', file, '-o', 'json'], env);
    assert.equal(again.code, 0, again.stderr);
    const second = json<{ status: string; result: DeprovisionResult }>(again.stdout);
    assert.equal(second.result.nothingToDelete, true);
    assert.match(second.result.report, /Nothing to delete/);
    assert.deepEqual(writes(mark), []);
    fake.state.vms.delete(590);
    fake.state.vms.delete(800);
  });

  it('a VM whose VMID was taken by someone else between the look-up and the approval is left alone', async () => {
    const inv = smallCluster(inventory, 'reused', 610);
    const made = await provision(inv, 'pve-down-reused');
    const before = snapshot();
    const h = await startRunbook(temporal.client, findRunbook('deprovision'), inv, { taskQueue, approvalTimeoutMs: 120_000 });
    await gate(h.workflowId);
    // kube3's VM is destroyed behind Mooring's back and its VMID reused by another VM.
    const kube3 = Number(made.hosts!.find((x) => x.name === 'kube3')!.machineId.split('/')[1]);
    const node = fake.state.vms.get(kube3)!.node;
    fake.state.vms.set(kube3, { vmid: kube3, node, status: 'running', config: { name: 'kube3', cores: 1, memory: 512, description: 'not a Mooring VM' } });
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester' });
    const r = await h.result() as DeprovisionResult;
    assert.deepEqual(r.deleted.map((d) => d.split(' ').slice(0, 3).join(' ')), [`VM ${Number(made.hosts![0]!.machineId.split('/')[1])} kube0`]);
    assert.match(r.report, new RegExp(`kube3 \\(VM ${kube3} on ${node}\\): no longer tagged mooring-reused, left alone`));
    assert.equal(fake.state.vms.get(kube3)?.config.description, 'not a Mooring VM', 'the other VM is untouched');
    assert.equal(snapshot().length, before.length - 1);
    fake.state.vms.delete(kube3);
  });
});
