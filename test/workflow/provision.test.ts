// The provision and deprovision runbooks on the real Temporal dev server, their activities against
// the SIMULATED OpenStack fake on 127.84.0.1, seeds 001 and 002 adapted to the fake (its one
// external network "public", seed 001's key pair "ansible-master" present as the seed says). The
// host phase and Proxmox's cloud phase are TEST DOUBLES (provision-test-doubles.ts) registered under
// the names the runbook starts them by. What each case proves is in its name; the fake's request
// log is the witness for "no create call".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { OPENSTACK_FAKE_DEFAULTS, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { projectState as projectStateOf, provisionTestActivities, seedInventory, startSeedCloud, writesSince as writesOf } from '../helpers/openstack-seeds.js';
import { networkUsage } from '../../lab/fakes/openstack/quotas.js';
import type { Inventory } from '../../config/schema.js';
import type { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import { planCloud } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { failureOf } from '../../client/watch.js';
import { FailureTypes, progressQuery } from '../../workflows/runbook/definitions.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';
import type { DeprovisionResult } from '../../workflows/provision/deprovision.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkflowFileWorker, type TestWorker } from '../helpers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('provision and deprovision (real Temporal dev server, SIMULATED OpenStack fake, TEST DOUBLE host phase)', () => {
  let temporal: TestTemporal;
  let fake: OpenStackFake;
  let worker: TestWorker;
  let seed1: Inventory;
  let seed2: Inventory;
  let emptyProject: Record<string, string[]>;
  const taskQueue = uniqueTaskQueue('provision');
  let activities: ReturnType<typeof createOpenStackActivities>;
  // hooks.afterCheck runs right after the quota check answered: "someone deletes a resource between the check and the cloud phase".
  let hooks: ReturnType<typeof provisionTestActivities>['hooks'];

  const projectState = () => projectStateOf(fake);
  const writesSince = (mark: number) => writesOf(fake, mark);

  before(async () => {
    ({ fake, activities, seed1, seed2 } = await startSeedCloud('127.84.0.1'));
    emptyProject = projectState();

    temporal = await startTestTemporal();
    const doubles = provisionTestActivities(activities);
    hooks = doubles.hooks;
    worker = await startWorkflowFileWorker(temporal.address, taskQueue, join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js'), doubles.activities);
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
    await fake?.close();
  });

  const start = (runbook: 'provision' | 'deprovision', inv: Inventory, planOnly = false) => startRunbook(temporal.client, findRunbook(runbook), inv, { taskQueue, planOnly, approvalTimeoutMs: 120_000 });
  const gate = async (h: WorkflowHandle, step = 'approve') => eventually(`the gate ${step}`, async () => {
    const p = await h.query(progressQuery);
    if ((await h.describe()).status.name !== 'RUNNING') throw new Error(`${h.workflowId} ended: ${JSON.stringify(p.steps.filter((s) => s.status === 'failed'))}`);
    return p.pendingApproval?.step === step ? p.pendingApproval : undefined;
  }, 60_000, 100);
  const failureOfRun = async (h: WorkflowHandle) => { try { await h.result(); } catch (err) { return failureOf(err); } throw new Error(`${h.workflowId} did not fail`); };

  it('--plan: every resource, the host steps with counts and the quota left; no write reaches the cloud', async () => {
    const mark = fake.requests.length;
    const r = await (await start('provision', seed1, true)).result() as ProvisionResult;
    assert.deepEqual(writesSince(mark), []);
    const text = r.plan.join('\n');
    assert.match(text, /server paas-challenge-master-1 \(master\) m1\.large/);
    assert.match(text, /counts: hosts 9, gateways 2, etcd 3 \(external\), masters 3, workers 1/);
    assert.ok(r.quota!.includes('compute quota instances: needs 9, 20 left (0 of 20 used)'), r.quota!.join('\n'));
    assert.ok(r.quota!.some((q) => /^network quota port: needs 12, \d+ left/.test(q)), 'ports: 9 hosts, the VIP, the DHCP port and the router interface');
  });

  it('refuses before any create when the plan needs more than the quota leaves, naming the quota and the numbers', async () => {
    fake.state.quotas.compute.cores = 10;
    const mark = fake.requests.length;
    try {
      const h = await start('provision', seed1);
      const f = await failureOfRun(h);
      assert.equal(f.type, 'QuotaExceeded');
      assert.match(f.message, /compute quota cores: needs 24, 10 left \(0 of 10 used\)/);
      assert.equal((await h.query(progressQuery)).decisions.length, 0, 'no approval was asked');
      assert.deepEqual(writesSince(mark), []);
    } finally {
      fake.state.quotas.compute.cores = 80;
    }
  });

  it('refuses at the plan an image that does not exist, naming the field', async () => {
    const mark = fake.requests.length;
    const inv = await seedInventory('seed-001-openstack-external-etcd.yaml', () => ({ image: 'no-such-image' }));
    const f = await failureOfRun(await start('provision', inv));
    assert.equal(f.type, 'OpenStackInventoryMismatch');
    assert.match(f.message, /^provider\.openstack\.image: no active image named "no-such-image"/);
    assert.deepEqual(writesSince(mark), []);
  });

  it('refuses at the plan (with --plan too) a CNI whose manifest does not ship, naming kubernetes.cniManifest and both fixes; no request reaches the cloud', async () => {
    const mark = fake.requests.length;
    const calico: Inventory = { ...seed2, kubernetes: { ...seed2.kubernetes, cni: 'calico' } };
    for (const planOnly of [true, false]) {
      const f = await failureOfRun(await start('provision', calico, planOnly));
      assert.equal(f.type, FailureTypes.badInput);
      assert.match(f.message, /^kubernetes\.cni: calico's manifest does not ship with Mooring \(only flannel's, v0\.28\.10\); download the calico\.yaml of your release and set kubernetes\.cniManifest .* or set kubernetes\.cni: flannel$/);
    }
    assert.equal(fake.requests.length, mark, 'not even a read');
  });

  it('a quota taken by someone else between the check and the create (Neutron 409 OverQuota): stops, names the quota and what the plan needed; no server made', async () => {
    const h = await start('provision', seed1);
    await gate(h);
    // Another user of the project takes the ports while the approval waits.
    fake.state.quotas.network.port = networkUsage(fake.state, fake.state.project.id).port + 3;
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester', comment: 'quota race' });
    const f = await failureOfRun(h);
    assert.equal(f.type, 'QuotaExceeded');
    assert.match(f.message, /port/);
    assert.match(f.message, /The plan needs 12/);
    assert.equal(fake.state.servers.size, 0, 'no server was booted');
    fake.state.quotas.network.port = 500;
  });

  let first: ProvisionResult;
  it('seed 001 from the half-built project the race left: one approval, 429/503 with Retry-After waited out, hosts, endpoint and kubeconfig path reported, progress per resource and per host, no secret in history', async () => {
    fake.faults.inject({ method: 'POST', pathPattern: '/compute/v2\\.1/servers$', status: 429, retryAfterSeconds: 3 });
    fake.faults.inject({ method: 'GET', pathPattern: '/compute/v2\\.1/limits$', status: 503, retryAfterSeconds: 3 });
    const h = await start('provision', seed1);
    assert.equal(h.workflowId, 'ops/paas-challenge');
    const pending = await gate(h);
    assert.match(pending.plan, /Create \d+ cloud resources/);
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester', comment: 'seed 001' });
    first = await h.result() as ProvisionResult;
    assert.equal(first.hosts!.length, 9);
    assert.equal(first.apiEndpoint, 'https://192.168.0.100:6443');
    assert.equal(first.kubeconfigPath, '/var/lib/mooring/paas-challenge/admin.conf');
    assert.ok(first.created.some((c) => c.startsWith('server paas-challenge-master-1')));
    assert.ok(!first.created.includes('network paas-challenge-paas-private'), 'the network from the earlier run was found, not made again');
    assert.deepEqual(first.hosts!.filter((x) => x.publicAddress).map((x) => x.name), ['gateway-1', 'gateway-2']);
    assert.equal([...fake.state.servers.values()].filter((s) => s.status === 'ACTIVE').length, 9);
    const steps = (await h.query(progressQuery)).steps;
    for (const id of ['cloud:network', 'cloud:ports', 'host:master-1:server', 'host:master-1']) assert.equal(steps.find((s) => s.id === id)?.status, 'done', `step ${id}`);
    assert.equal(fake.faults.list().length, 0, 'both faults were hit');
    // The parent and its cloud-phase child (its ID: ops/<cluster>/cloud-<parent run id>).
    const parent = await temporal.client.workflow.getHandle(h.workflowId).fetchHistory();
    const child = await temporal.client.workflow.getHandle(`ops/paas-challenge/cloud-${h.firstExecutionRunId}`).fetchHistory();
    const history = { events: [...parent.events!, ...child.events!] };
    // The retried activities started again only after the server's Retry-After (3 s), not the policy's 1 s.
    const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;
    const retried = history.events.filter((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.attempt) > 1);
    assert.ok(retried.length >= 2, `the quota check and a server create were retried (${retried.length})`);
    for (const e of retried) {
      const own = parent.events!.includes(e) ? parent.events! : child.events!;
      const scheduled = own.find((x) => Number(x.eventId) === Number(e.activityTaskStartedEventAttributes!.scheduledEventId))!;
      assert.ok(seconds(e.eventTime) - seconds(scheduled.eventTime) >= 2.9, `retried ${seconds(e.eventTime) - seconds(scheduled.eventTime)} s after scheduling: Retry-After asked 3 s`);
    }
    const json = JSON.stringify(history);
    assert.ok(!json.includes(OPENSTACK_FAKE_DEFAULTS.password), 'no password in history');
    assert.ok(!json.includes('PRIVATE KEY'), 'no private key in history');
  });

  it('a second run on the finished cluster makes no create call (request log), asks no approval and says nothing changed', async () => {
    const mark = fake.requests.length;
    const r = await (await start('provision', seed1)).result() as ProvisionResult;
    assert.deepEqual(writesSince(mark), []);
    assert.equal(r.nothingChanged, true);
    assert.deepEqual(r.created, []);
    assert.match(r.report, /\*\*Nothing changed\*\*/);
    assert.deepEqual(r.hosts, first.hosts);
  });

  it('a floating IP deleted between the check ("nothing to create": no approval) and the cloud phase is not re-created without a new check and approval', async () => {
    const portName = 'paas-challenge-port-gateway-1';
    const port = [...fake.state.ports.values()].find((p) => p.name === portName)!;
    const fip = () => [...fake.state.floatingIps.values()].filter((f) => f.port_id === port.id);
    assert.equal(fip().length, 1);
    hooks.afterCheck = () => { for (const f of fip()) fake.state.floatingIps.delete(f.id); };
    const mark = fake.requests.length;
    const h = await start('provision', seed1);
    const pending = await gate(h, 'approve-missing-1');
    assert.match(pending.plan, new RegExp(`floating IP for ${portName} is missing, but it was not missing at the check`));
    assert.match(pending.plan, new RegExp(`Now missing: floating IP for ${portName}\\. Approve to create 1 cloud resources`));
    assert.deepEqual(writesSince(mark), [], 'nothing was created before the new approval');
    const p = await h.query(progressQuery);
    assert.equal(p.steps.find((x) => x.id === 'approve')?.status, 'skipped', 'the first check found nothing to create');
    assert.equal(p.steps.find((x) => x.id === 'recheck-1')?.status, 'done');
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester', comment: 'recreate the floating IP', step: 'approve-missing-1' });
    const r = await h.result() as ProvisionResult;
    assert.equal(r.created.length, 1, r.created.join(', '));
    assert.match(r.created[0]!, /^floating IP /);
    assert.equal(fip().length, 1, 'one floating IP again, made after the approval');
    assert.deepEqual(writesSince(mark).filter((w) => w.method === 'POST').map((w) => w.path), ['/network/v2.0/floatingips']);
  });

  it('seed 002: the VIP held by another port is refused at the check, naming loadBalancer.vip', async () => {
    const plan = planCloud(seed2);
    const target = { region: 'RegionOne' };
    const net = await activities.ensureNetwork({ target, tag: 'someone-else', network: plan.network });
    const sub = await activities.ensureSubnet({ target, tag: 'someone-else', networkId: net.id, subnet: plan.subnet });
    const other = await activities.ensureHostPort({ target, tag: 'someone-else', host: { ...plan.hosts[0]!, name: 'intruder', port: 'someone-elses-port', ip: '172.30.0.100', ipField: 'x' }, networkId: net.id, subnetId: sub.id, securityGroupId: [...fake.state.securityGroups.values()].find((g) => g.name === 'default')!.id });
    const mark = fake.requests.length;
    const f = await failureOfRun(await start('provision', seed2));
    assert.equal(f.type, 'OpenStackInventoryMismatch');
    assert.match(f.message, new RegExp(`^loadBalancer\\.vip: 172\\.30\\.0\\.100 is already held by port ${other.id} \\(someone-elses-port\\)`));
    assert.deepEqual(writesSince(mark), []);
    fake.state.ports.delete(other.id);
  });

  it('seed 002: a server that goes to ERROR is deleted and booted again; a second ERROR holds for a decision, approved, and the run ends with one server per host', async () => {
    const fault = 'No valid host was found. There are not enough hosts available.';
    fake.state.failNextBuild(fault, { name: 'managed-k8s-master1', times: 2 });
    const h = await start('provision', seed2);
    await gate(h);
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester' });
    const hold = await gate(h, 'retry-after-server-error-1');
    assert.match(hold.plan, /managed-k8s-master1 went to ERROR twice/);
    assert.ok(hold.plan.includes(fault), 'Nova\'s fault message is shown');
    await decide(temporal.client, h.workflowId, { approved: true, by: 'tester', comment: 'try again', step: 'retry-after-server-error-1' });
    const r = await h.result() as ProvisionResult;
    assert.equal(r.hosts!.length, 7);
    const servers = [...fake.state.servers.values()].filter((s) => s.name.startsWith('managed-k8s-'));
    assert.equal(servers.length, 7, 'no duplicate, no orphan');
    assert.ok(servers.every((s) => s.status === 'ACTIVE'));
    assert.equal(fake.requests.filter((q) => q.method === 'DELETE' && q.path.startsWith('/compute/v2.1/servers/')).length, 2, 'each ERROR server deleted once');
  });

  it('deprovision (plan, one approval, reverse order) leaves the project as it was; a second run finds nothing', async () => {
    for (const inv of [seed1, seed2]) {
      const plan = await (await start('deprovision', inv, true)).result() as DeprovisionResult;
      assert.ok(plan.found.servers!.length > 0);
      const h = await start('deprovision', inv);
      const pending = await gate(h);
      assert.match(pending.plan, /only what carries mooring-cluster=/);
      await decide(temporal.client, h.workflowId, { approved: true, by: 'tester' });
      const r = await h.result() as DeprovisionResult;
      assert.ok(r.deleted.length > 0);
      assert.match(r.report, /etcd snapshots in bucket .* are kept/);
    }
    assert.deepEqual(projectState(), emptyProject);
    const again = await (await start('deprovision', seed1)).result() as DeprovisionResult;
    assert.equal(again.nothingToDelete, true);
  });
});
