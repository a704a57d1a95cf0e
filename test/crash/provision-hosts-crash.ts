// Crash matrix of provision's HOST phase (the `provisionHosts` child) on real lab nodes: seed 001's
// shape (2 gateways, 3 external etcd, 3 masters, 1 worker, as npm start's topology) behind the
// SIMULATED OpenStack fake, whose ACTIVE servers are bare netns lab nodes with real sshd
// (lab/cloud-nodes), the real Temporal dev server and real worker processes. For each boundary N,
// a fresh fake and fresh nodes; the `provision` runbook starts on the crash worker (crash-worker.ts,
// the production worker that freezes right after the N-th completed activity of provisionHosts);
// the cloud phase runs unharmed before it; the worker is SIGKILLed at the boundary, the attempts it
// left running are failed by activity ID (many host steps run in parallel; provision-run.ts), and a
// production worker (`mooring worker`) finishes the run. Checked after each case: the run's result
// (smoke lines), the cluster (provision-hosts-checks.ts) and the fake's state (cloud-state.ts).
// netns tag hc, lan 23, loopback 127.81.0.
import type { NetnsLayout } from '../../lab/netns/topology.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../../client/tools.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { parseInventory } from '../../config/load.js';
import { ensureKey } from '../../lab/sshd.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { labInventoryFromSeed } from '../../lab/cloud-nodes/lab-inventory.js';
import { startOpenStackLab, type OpenStackLab } from '../../lab/cloud-nodes/openstack.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';
import { startTestTemporal, uniqueTaskQueue, within, type TestTemporal } from '../helpers/temporal.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { scratchDir } from '../helpers/scratch.js';
import { snapshotOf } from './boundary.js';
import { killAtBoundary, workerStarter } from './kill-at.js';
import { approveGate, endOpen, eventsOf, failInFlight, type FailedAttempt } from './provision-run.js';
import { checkProvisioned } from './cloud-state.js';
import { checkCluster, seeCluster, type ClusterShape } from './provision-hosts-checks.js';

/** The matrix's layout; CI's sample passes its own, so the two can run at the same time. */
export const MATRIX_LAYOUT: NetnsLayout = { tag: 'hc', lan: 23, loopback: '127.81.0' };
const RELEASE = pinnedKubernetes()[0]!;
const SEED_FILE = join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml');
const CRASH_WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

// Activities provisionHosts completes on seed 001's happy path (counted from a real run's history):
// lb on both gateways(2) waitForVip(3); then prerequisites on 4 nodes beside the etcd chain: etcd CA,
// 3 prepareEtcdMember, 3 startEtcdMember, waitEtcdCluster (4-15, interleaved); 3
// placeApiserverEtcdClient(16-18) initControlPlane(19) joinNode master-2(20) master-3(21)
// worker-1(22) fetchAdminKubeconfig(23) applyAddon cni(24) applyAddon local-path(25)
// installHelm on 3 masters(26-28, interleaved) waitAddonsRollout(29) waitNodesReady(30)
// checkApiThroughVip(31) waitForVip(32) checkVipFailover(33) waitForVip(34) waitEtcdCluster(35)
// checkPvcBinding(36) checkHelm(37).
// (29 before the addons, patch 'provision-hosts-addons': its activities came after 23 and at the end.)
export const PROVISION_HOSTS_BOUNDARIES = 37;

/** Seed 001 on the lab: what every case must end with. */
export const SEED_001_SHAPE: ClusterShape = {
  nodes: ['master-1', 'master-2', 'master-3', 'worker-1'], etcdMembers: ['etcd-1', 'etcd-2', 'etcd-3'], gateways: ['gateway-1', 'gateway-2'],
  firstMaster: 'master-1', kubeletVersion: `v${RELEASE}`,
};

export interface HostCrashEnv { t: TestTemporal; workers: WorkerProcess[]; dir: string; keyPath: string; publicKey: string; layout: NetnsLayout }

export async function setUpHostCrash(layout: NetnsLayout = MATRIX_LAYOUT): Promise<HostCrashEnv> {
  const dir = scratchDir('mooring-crash-hosts-');
  const keyPath = join(dir, 'id_ed25519');
  const publicKey = await ensureKey(keyPath, 'mooring-lab-operator');
  return { t: await startTestTemporal({ logFile: join(dir, 'temporal.log') }), workers: [], dir, keyPath, publicKey, layout };
}

export async function tearDownHostCrash(e: HostCrashEnv | undefined): Promise<void> {
  if (!e) return;
  await Promise.all(e.workers.map((w) => w.stop()));
  await e.t.stop();
}

export interface HostCrashOutcome {
  total: number;
  killedAfter: number;
  inFlight: FailedAttempt[];
  /** Wall time of each part, in seconds. */
  seconds: { labUp: number; cloudPhase: number; hostPhase: number; checks: number; teardown: number; total: number };
  /** The host phase's slowest activities (scheduled → completed, seconds) and how long the run stood still after the kill. */
  slowest: string[];
  stillAfterKill: number;
}

type Events = Awaited<ReturnType<typeof eventsOf>>;

/** The `n` longest activities of a history, "type host: seconds", from scheduled to completed. */
function slowestActivities(events: Events, n: number): string[] {
  const scheduled = new Map<number, { what: string; at: number }>();
  const took: [string, number][] = [];
  for (const ev of events) {
    const s = ev.activityTaskScheduledEventAttributes;
    if (s) {
      const data = s.input?.payloads?.[0]?.data;
      const host = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { host?: string }).host : undefined;
      scheduled.set(Number(ev.eventId), { what: `${s.activityType?.name ?? '?'}${host ? ` ${host}` : ''}`, at: eventMs(ev) });
    }
    const c = ev.activityTaskCompletedEventAttributes;
    const from = c ? scheduled.get(Number(c.scheduledEventId)) : undefined;
    if (from) took.push([from.what, (eventMs(ev) - from.at) / 1000]);
  }
  return took.sort((a, b) => b[1] - a[1]).slice(0, n).map(([w, sec]) => `${w}: ${sec.toFixed(1)}`);
}

const secondsSince = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;
const eventMs = (ev: { eventTime?: { seconds?: unknown; nanos?: number | null } | null } | undefined) => (ev?.eventTime ? Number(ev.eventTime.seconds) * 1000 + (ev.eventTime.nanos ?? 0) / 1e6 : NaN);

/**
 * Provisions seed 001's shape with the worker killed after the `boundary`-th activity of
 * provisionHosts, and checks the outcome. Fails (BoundaryMissed) unless the worker was killed at
 * the boundary while the run was still open.
 */
export async function crashHostsAt(e: HostCrashEnv, boundary: number): Promise<HostCrashOutcome> {
  const tag = `hosts-${boundary}`;
  const caseDir = join(e.dir, tag);
  const t0 = Date.now();
  const cloud: OpenStackLab = await startOpenStackLab({
    dir: join(caseDir, 'lab'), layout: e.layout,
    fake: { host: `${e.layout.loopback}.1`, port: 0, images: [{ id: '6f3c8d2e-0b1a-4c5d-9e8f-7a6b5c4d3e2f', name: 'ubuntu-20.04' }], quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } } },
  });
  const labUp = secondsSince(t0);
  const { t } = e;
  let h: WorkflowHandle | undefined;
  const mine = e.workers.length;
  let teardownFrom = 0;
  let passed = false;
  const seconds = { labUp, cloudPhase: 0, hostPhase: 0, checks: 0, teardown: 0, total: 0 };
  try {
    const inv = parseInventory(labInventoryFromSeed(SEED_FILE, { layout: e.layout, privateKeyPath: e.keyPath, publicKey: e.publicKey, kubernetesVersion: RELEASE, hostKeySeed: { env: 'MOORING_HOST_KEY_SEED' } }), `lab inventory of seed 001 (${tag})`);
    // The workers' environment, as a production worker's: this case's fake (OS_*), a new host-key seed, a new state directory.
    const s = cloud.fake.state;
    const stateDir = join(caseDir, 'state');
    Object.assign(process.env, {
      OS_AUTH_URL: cloud.fake.authUrl, OS_USERNAME: s.user.name, OS_PASSWORD: s.user.password, OS_PROJECT_NAME: s.project.name,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: s.region,
      MOORING_HOST_KEY_SEED: randomBytes(32).toString('base64'), MOORING_STATE_DIR: stateDir,
    });
    const taskQueue = uniqueTaskQueue(`crash-${tag}`);
    const spawnWorker = workerStarter(e.workers, t.address, taskQueue, caseDir, tag);
    const w = await spawnWorker([CRASH_WORKER, '--freeze-after', String(boundary), '--freeze-workflow', 'provisionHosts']);
    const started = await startRunbook(t.client, findRunbook('provision'), inv, { taskQueue, approvalTimeoutMs: 300_000 });
    h = started;
    // The boundaries count the host phase's child only (provision.ts: childId('hosts')).
    const counted = `ops/${inv.cluster.name}/hosts-${started.firstExecutionRunId}`;
    await approveGate(t.client, started);
    const run = async () => snapshotOf(await eventsOf(t.client, counted));
    const { killedAfter } = await killAtBoundary({
      boundary, run, worker: w, limitMs: 600_000, pollMs: 250,
      approve: () => Promise.reject(new Error('provisionHosts has no approval gate: the run\'s gate was approved before')),
    });
    const killedAtMs = Date.now();
    const atKill = (await eventsOf(t.client, counted)).length;
    const inFlight = await failInFlight(t.client, counted, await eventsOf(t.client, counted));
    const w2 = await spawnWorker();
    const result = await within('the provision run to end', started.result() as Promise<ProvisionResult>, 600_000);
    const hostEvents = await eventsOf(t.client, counted);
    const total = snapshotOf(hostEvents).completed;
    const parentStart = eventMs((await started.fetchHistory()).events?.[0]);
    seconds.cloudPhase = Math.round((eventMs(hostEvents[0]) - parentStart) / 100) / 10;
    seconds.hostPhase = Math.round((eventMs(hostEvents.at(-1)) - eventMs(hostEvents[0])) / 100) / 10;
    await w2.stop();
    // The first event after the kill that the new worker caused (the failed attempts' events come first).
    const resumed = hostEvents.slice(atKill).find((ev) => ev.activityTaskStartedEventAttributes || ev.workflowTaskCompletedEventAttributes);
    const stillAfterKill = Math.round((eventMs(resumed) - killedAtMs) / 100) / 10;

    const tc = Date.now();
    const where = `crash at provision-hosts boundary ${boundary}`;
    assert.match(result.report, /\*\*Smoke test\*\*/, result.report);
    for (const line of [`${SEED_001_SHAPE.nodes.length} nodes Ready: `, `VIP failover`, `external etcd: ${SEED_001_SHAPE.etcdMembers.length} members healthy, one cluster ID`, 'CNI flannel v0.28.10: DaemonSet kube-flannel-ds ready on 4/4 nodes', 'local-path storage v0.0.30: provisioner available', 'PVC bound on local-path: mooring-smoke-pvc', 'Helm v4.3.2 on master-1, master-2, master-3']) {
      assert.ok(result.report.includes(line), `the report's smoke lines say "${line}" (${where})\n${result.report}`);
    }
    assert.equal(result.kubeconfigPath, join(stateDir, 'clusters', inv.cluster.name, 'admin.conf'));
    const seen = await seeCluster(cloud.lab, inv, SEED_001_SHAPE, result.kubeconfigPath);
    checkCluster(seen, SEED_001_SHAPE, inFlight, where);
    checkProvisioned(cloud.fake, inv, 0, where);
    assert.deepEqual(cloud.lab.machines().map((m) => m.name).sort(), [...SEED_001_SHAPE.gateways, ...SEED_001_SHAPE.etcdMembers, ...SEED_001_SHAPE.nodes].sort(), `one lab node per server (${where})`);
    seconds.checks = secondsSince(tc);
    teardownFrom = Date.now();
    passed = true;
    return { total, killedAfter, inFlight, seconds, slowest: slowestActivities(hostEvents, 5), stillAfterKill };
  } finally {
    await endOpen(h, `crash test at ${tag} failed`).catch(() => undefined);
    // A case that failed leaves no worker behind (a frozen one cannot answer SIGTERM).
    await Promise.all(e.workers.slice(mine).map((w) => w.kill9()));
    teardownFrom ||= Date.now();
    // The nodes go with the lab: a failed case keeps what each one was sent, to read it after.
    if (!passed) {
      for (const m of cloud.lab.machines()) {
        const log = join(cloud.lab.nodeDir(m.name), 'commands.log');
        if (existsSync(log)) copyFileSync(log, join(caseDir, `commands-${m.name}.log`));
      }
    }
    await cloud.close();
    assert.deepEqual(await cloud.lab.leftovers(), [], 'the case\'s lab left nothing behind');
    seconds.teardown = secondsSince(teardownFrom);
    seconds.total = secondsSince(t0);
  }
}
