// Crash matrix for provision's OpenStack cloud phase and for deprovision, on the SIMULATED
// OpenStack fake (a fresh one per case, 127.0.0.1, kernel-chosen port; seed 002's shape) and the
// real Temporal dev server. For each boundary N the first worker PROCESS freezes right after the
// N-th activity of the runbook's cloud work completed (provision: of its provisionCloud child;
// deprovision: of the run itself) and is SIGKILLed there; a new worker process finishes the run.
//
// Activities the dead worker had in flight (parallel creates, a server wait) would be retried by
// the server only when their start-to-close (2 minutes) or heartbeat (30 s) timeout expires; the
// harness fails each such attempt by its activity ID instead, which is what that timeout does
// (a retryable attempt failure), minutes sooner. Whatever the dead attempt sent the fake stays
// done (the fake finishes a create whether or not anyone waits for the answer): "a crash between
// a create and its record".
//
// After the run: provision leaves exactly one resource of each kind per host (servers, ports, the
// VIP port, floating IPs) and one network, subnet, router, security group and server group per
// role, all tagged, nothing else of the cluster's and no untagged leftover, and the fake's request
// log shows each create POSTed once (a retry that made a second would show). Deprovision leaves
// the project as it was before the cluster was made.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { PROJECT_ROOT } from '../../client/tools.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { planCloud } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { eventually, startTestTemporal, uniqueTaskQueue, within, type TestTemporal } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { projectState, startSeedCloud, type SeedCloud } from '../helpers/openstack-seeds.js';
import { scratchDir } from '../helpers/scratch.js';
import { BoundaryMissed, killedAt, nextStep, snapshotOf, type RunSnapshot } from './boundary.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type ProvisionCrashRunbook = 'provision' | 'deprovision';

// Activities each completes on seed 002's happy path; boundary N kills right after the N-th.
// provision's cloud phase: boot refs(1) key pair(2) network(3) subnet(4) router, security groups,
// server groups in parallel(5-7) VIP port(8) 7 host ports in parallel(9-15) 2 floating IPs(16-17)
// then per host a server and its wait for ACTIVE, the 7 hosts side by side(18-31).
// deprovision: find(1) [gate] delete 7 servers(2-8) 2 floating IPs(9-10) 8 ports(11-18) router(19)
// subnet(20) network(21) 3 security groups(22-24) 3 server groups(25-27) key pair(28) verify(29).
export const PROVISION_BOUNDARIES: Record<ProvisionCrashRunbook, number> = { provision: 31, deprovision: 29 };

export interface ProvisionCrashEnv { t: TestTemporal; workers: WorkerProcess[]; dir: string; bundle: string }

const WORKER = fileURLToPath(new URL('../helpers/provision-worker.js', import.meta.url));

export async function setUpProvisionCrash(): Promise<ProvisionCrashEnv> {
  const dir = scratchDir('mooring-crash-provision-');
  // One bundle for every worker process of the matrix (bundling takes seconds each time).
  const { code } = await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'dist', 'test', 'workflow', 'provision-test-doubles.js'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error(m) { process.stderr.write(`bundler: ${m}\n`); } } });
  const bundle = join(dir, 'workflows.js');
  writeFileSync(bundle, code);
  return { t: await startTestTemporal(), workers: [], dir, bundle };
}

export async function tearDownProvisionCrash(e: ProvisionCrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
}

async function spawn(e: ProvisionCrashEnv, taskQueue: string, tag: string, freeze?: { after: number; workflow: string }): Promise<WorkerProcess> {
  const args = [WORKER, '--bundle', e.bundle, ...(freeze ? ['--freeze-after', String(freeze.after), '--freeze-workflow', freeze.workflow] : [])];
  const w = startWorkerProcess(e.t.address, taskQueue, join(e.dir, `worker-${tag}-${e.workers.length}.log`), args);
  e.workers.push(w);
  await w.ready;
  return w;
}

async function eventsOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  try {
    return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  } catch (err) {
    // The child is not started yet: fetchHistory throws the service's NOT_FOUND (gRPC code 5) as is.
    if ((err as { code?: number }).code === 5 || (err as Error).name === 'WorkflowNotFoundError') return [];
    throw err;
  }
}

/** Fails every activity attempt the dead worker left running (what its timeout would do later). */
async function failInFlight(client: Client, workflowId: string, events: HistoryEvent[]): Promise<number> {
  const closed = new Set<number>();
  for (const ev of events) {
    const a = ev.activityTaskCompletedEventAttributes ?? ev.activityTaskFailedEventAttributes ?? ev.activityTaskTimedOutEventAttributes ?? ev.activityTaskCanceledEventAttributes;
    if (a) closed.add(Number(a.scheduledEventId));
  }
  let failed = 0;
  for (const ev of events) {
    const s = ev.activityTaskScheduledEventAttributes;
    if (!s || closed.has(Number(ev.eventId))) continue;
    try {
      await client.activity.fail({ workflowId, activityId: s.activityId! }, new Error('the worker running this attempt was SIGKILLed (crash matrix): failed now instead of at its timeout'));
      failed += 1;
    } catch {
      // Not started yet (still in the task queue): the next worker picks it up as it is.
    }
  }
  return failed;
}

export interface ProvisionCrashOutcome { total: number; killedAfter: number; inFlightFailed: number }

const CREATE_PATHS: Record<string, string> = {
  servers: '/compute/v2.1/servers', keypairs: '/compute/v2.1/os-keypairs', serverGroups: '/compute/v2.1/os-server-groups',
  networks: '/network/v2.0/networks', subnets: '/network/v2.0/subnets', routers: '/network/v2.0/routers', ports: '/network/v2.0/ports',
  securityGroups: '/network/v2.0/security-groups', securityGroupRules: '/network/v2.0/security-group-rules', floatingIps: '/network/v2.0/floatingips',
};

/** Exactly one of everything the plan makes, all tagged, nothing else of the cluster's, each create POSTed once. */
function checkProvisioned(cloud: SeedCloud, mark: number, where: string): void {
  const inv = cloud.seed2;
  const plan = planCloud(inv);
  const s = cloud.fake.state;
  const tag = plan.tag;
  const hosts = [...inv.gateways, ...inv.masters, ...inv.workers];
  const servers = [...s.servers.values()];
  assert.deepEqual(servers.map((x) => x.name).sort(), plan.hosts.map((h) => h.server).sort(), `one server per host (${where})`);
  assert.ok(servers.every((x) => x.tags.includes(tag) && x.status === 'ACTIVE'), `every server tagged and ACTIVE (${where})`);
  const ports = [...s.ports.values()];
  const named = ports.filter((p) => p.name.startsWith(`${plan.cluster}-`));
  assert.deepEqual(named.map((p) => p.name).sort(), [...plan.hosts.map((h) => h.port), plan.vip!.port].sort(), `a port per host and the VIP port, none twice (${where})`);
  assert.ok(named.every((p) => p.tags.includes(tag)), `every port tagged (${where})`);
  const stray = ports.filter((p) => !named.includes(p) && !p.device_owner.startsWith('network:'));
  assert.deepEqual(stray.map((p) => `${p.id} ${p.name}`), [], `no orphaned port (${where})`);
  const fips = [...s.floatingIps.values()];
  const fipPorts = plan.hosts.filter((h) => h.floatingIp).map((h) => named.find((p) => p.name === h.port)!.id);
  assert.deepEqual(fips.map((f) => f.port_id).sort(), fipPorts.sort(), `one floating IP per gateway, none unbound (${where})`);
  assert.ok(fips.every((f) => (f.tags ?? []).includes(tag)), `every floating IP tagged (${where})`);
  const one = <T extends { name: string; tags?: string[] }>(what: string, list: T[], names: string[]) => {
    const mine = list.filter((x) => names.includes(x.name) || x.name.startsWith(`${plan.cluster}-`));
    assert.deepEqual(mine.map((x) => x.name).sort(), [...names].sort(), `${what}: one each (${where})`);
    if (mine.some((x) => x.tags !== undefined)) assert.ok(mine.every((x) => (x.tags ?? []).includes(tag)), `${what} tagged (${where})`);
  };
  one('network', [...s.networks.values()], [plan.network.name]);
  one('subnet', [...s.subnets.values()], [plan.subnet.name]);
  one('router', [...s.routers.values()], [plan.router.name]);
  one('security groups', [...s.securityGroups.values()], plan.securityGroups.map((g) => g.name));
  one('server groups', [...s.serverGroups.values()], plan.serverGroups.map((g) => g.name));
  // Each create POSTed (and answered 2xx) once: a retry that made a second would show here.
  const posts = (path: string) => cloud.fake.requests.slice(mark).filter((r) => r.method === 'POST' && r.path === path && typeof r.status === 'number' && r.status < 300).length;
  const want: Record<string, number> = {
    servers: hosts.length, ports: named.length, floatingIps: fipPorts.length, networks: 1, subnets: 1, routers: 1,
    securityGroups: plan.securityGroups.length, serverGroups: plan.serverGroups.length, keypairs: plan.keypair.publicKey ? 1 : 0,
    securityGroupRules: plan.securityGroups.reduce((a, g) => a + g.rules.length, 0),
  };
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, posts(CREATE_PATHS[k]!)]));
  assert.deepEqual(got, want, `each create POSTed once (${where})`);
}

async function approveGate(client: Client, h: WorkflowHandle): Promise<void> {
  await eventually('the approval gate', async () => (await h.query(progressQuery)).pendingApproval, 120_000, 100);
  await decide(client, h.workflowId, { approved: true, by: 'crash-matrix' });
}

async function endOpen(h: WorkflowHandle | undefined, why: string): Promise<void> {
  if (h && (await h.describe()).status.name === 'RUNNING') await h.terminate(why);
}

/**
 * Kills the worker at `boundary` of `runbook` and checks the outcome. Fails (BoundaryMissed)
 * unless the worker was killed at the boundary while the run was still open.
 */
export async function crashProvisionAt(e: ProvisionCrashEnv, runbook: ProvisionCrashRunbook, boundary: number): Promise<ProvisionCrashOutcome> {
  const tag = `${runbook}-${boundary}`;
  const cloud = await startSeedCloud('127.0.0.1');
  Object.assign(process.env, cloud.env); // the worker processes reach this case's fake
  const { t } = e;
  const inv = cloud.seed2;
  let h: WorkflowHandle | undefined;
  const mine = e.workers.length;
  try {
    const empty = projectState(cloud.fake);
    if (runbook === 'deprovision') {
      // The cluster to remove, made by a worker that is not killed.
      const q0 = uniqueTaskQueue(`crash-${tag}-setup`);
      const w0 = await spawn(e, q0, `${tag}-setup`);
      const p = await startRunbook(t.client, findRunbook('provision'), inv, { taskQueue: q0, approvalTimeoutMs: 300_000 });
      await approveGate(t.client, p);
      await within('the provision before the deprovision', p.result(), 180_000);
      await w0.stop();
    }
    const mark = cloud.fake.requests.length;
    const taskQueue = uniqueTaskQueue(`crash-${tag}`);
    const w = await spawn(e, taskQueue, tag, { after: boundary, workflow: runbook === 'provision' ? 'provisionCloud' : 'deprovision' });
    const started = await startRunbook(t.client, findRunbook(runbook), inv, { taskQueue, approvalTimeoutMs: 300_000 });
    h = started;
    // Whose activities the boundaries count: provision's cloud-phase child, or deprovision itself.
    const counted = runbook === 'provision' ? `ops/${inv.cluster.name}/cloud-${started.firstExecutionRunId}` : h.workflowId;
    let approved = false;
    if (runbook === 'provision') { await approveGate(t.client, h); approved = true; }
    const run = async (): Promise<RunSnapshot> => snapshotOf(await eventsOf(t.client, counted));
    // Not `eventually`: a missed boundary must fail the case at once, not be retried.
    for (const deadline = Date.now() + 180_000; ;) {
      const step = nextStep(boundary, await run(), approved);
      if (step === 'kill') break;
      if (step === 'approve') { await decide(t.client, h.workflowId, { approved: true, by: 'crash-matrix' }); approved = true; }
      if (Date.now() > deadline) throw new BoundaryMissed(`boundary ${boundary} was not reached within 180 s: the run had completed ${(await run()).completed} activities`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await w.kill9(), 'SIGKILL');
    const killedAfter = killedAt(boundary, await run());
    const inFlightFailed = await failInFlight(t.client, counted, await eventsOf(t.client, counted));
    const w2 = await spawn(e, taskQueue, `${tag}-after`);
    if (!approved) { await approveGate(t.client, h); approved = true; }
    await within(`the ${runbook} run to end`, h.result(), 240_000);
    const total = (await run()).completed;
    await w2.stop();
    if (runbook === 'provision') checkProvisioned(cloud, mark, `crash at provision boundary ${boundary}`);
    else assert.deepEqual(projectState(cloud.fake), empty, `deprovision left the project as it was (crash at boundary ${boundary})`);
    return { total, killedAfter, inFlightFailed };
  } finally {
    await endOpen(h, `crash test at ${tag} failed`);
    // A case that failed leaves no worker behind (a frozen one cannot answer SIGTERM).
    await Promise.all(e.workers.slice(mine).map((w) => w.kill9()));
    await cloud.fake.close();
  }
}
