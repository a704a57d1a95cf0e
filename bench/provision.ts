// Provisioning benchmark: seed 001 behind the SIMULATED OpenStack fake and seed 003 behind the
// SIMULATED Proxmox VE fake, each on real netns lab nodes (lab/cloud-nodes), by the provision
// runbook through the real Temporal dev server and a worker with the real activities (approvals
// given at once, as `--yes` gives them), then deprovisioned (the cloud left as it was is checked).
// From the histories of the run and its child workflows (cloud plan, cloud phase, host phase) it
// prints the wall time, the critical path (bench/critical-path.ts), its ratio to the wall time,
// what the rest is made of, and the per-step breakdown (bench/breakdown.ts). The fakes' build and
// clone timing stay at their defaults and are printed. `npm run bench:provision` (needs root;
// BENCH_CLOUDS=openstack,proxmox, both by default; labs: tag bp, lan 21, 127.81.0 for OpenStack,
// tag bx, lan 22, 127.80.0 for Proxmox, or BENCH_OS_LAYOUT / BENCH_PX_LAYOUT as tag/lan/loopback).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { PROJECT_ROOT } from '../client/tools.js';
import { parseInventory } from '../config/load.js';
import type { Inventory } from '../config/schema.js';
import { findRunbook } from '../client/runbooks.js';
import { startRunbook } from '../client/start.js';
import { approveGates } from '../client/commands/auto-approve.js';
import { ensureKey } from '../lab/sshd.js';
import { pinnedKubernetes } from '../lab/kubernetes-versions.js';
import { DEFAULT_PROGRESS_MS } from '../lab/fakes/progress.js';
import { layoutFromEnv } from '../lab/netns/topology.js';
import { labInventoryFromSeed, labProxmoxInventoryFromSeed } from '../lab/cloud-nodes/lab-inventory.js';
import { startOpenStackLab } from '../lab/cloud-nodes/openstack.js';
import { startProxmoxLab } from '../lab/cloud-nodes/proxmox.js';
import { deriveHostKey, publicKeyOnly } from '../activities/cloud/host-keys.js';
import { resolveSecret } from '../activities/secrets.js';
import { projectState } from '../test/helpers/openstack-seeds.js';
import { PVE_NODES, PVE_TOKEN, SEED_ENV, TOKEN_ENV, seed003FakeOptions, setPveEnv } from '../test/helpers/proxmox.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../test/helpers/temporal.js';
import { startTestWorker } from '../test/helpers/worker.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { describeSteps, stepTimings } from './breakdown.js';
import { criticalPath, describeCriticalPath, describeHosts, runTimeline } from './critical-path.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const CLOUDS = (process.env.BENCH_CLOUDS ?? 'openstack,proxmox').split(',').map((c) => c.trim()).filter(Boolean);
for (const c of CLOUDS) if (c !== 'openstack' && c !== 'proxmox') throw new Error(`BENCH_CLOUDS: "${c}" is not a cloud (openstack, proxmox)`);
const OS_LAYOUT = layoutFromEnv('BENCH_OS_LAYOUT', { tag: 'bp', lan: 21, loopback: '127.81.0' });
const PX_LAYOUT = layoutFromEnv('BENCH_PX_LAYOUT', { tag: 'bx', lan: 22, loopback: '127.80.0' });
const RELEASE = pinnedKubernetes()[0];
if (!RELEASE) throw new Error('no Kubernetes release is built: run `npm run setup`');
const BY = 'bench';
const secs = (ms: number) => (ms / 1000).toFixed(1);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const progress = (msg: string) => process.stderr.write(`[bench:provision] ${msg}\n`);
const defaultTiming = `done ${DEFAULT_PROGRESS_MS} ms after it starts, whoever polls (the fake's default, ProgressOptions unset)`;

/** Runs a runbook to its end with every gate approved at once; returns its handle and wall time as the client saw it. */
async function runToEnd(client: Client, taskQueue: string, inv: Inventory, name: 'provision' | 'deprovision') {
  const started = Date.now();
  const h = await startRunbook(client, findRunbook(name), inv, { taskQueue });
  const stop = new AbortController();
  const approving = approveGates(client, h.workflowId, BY, stop.signal, { comment: 'bench:provision approves at once', everyMs: 100 });
  try {
    await h.result();
  } finally {
    stop.abort();
    await approving.catch(() => undefined);
  }
  return { h, ms: Date.now() - started };
}

/** Provision, measure, deprovision; returns the printed lines. */
async function measure(t: TestTemporal, taskQueue: string, cloud: string, inv: Inventory, timing: string[], leftAsItWas: () => void): Promise<string[]> {
  const loadBefore = load();
  progress(`${cloud}: provision ${inv.cluster.name} (load ${loadBefore})`);
  const { h, ms } = await runToEnd(t.client, taskQueue, inv, 'provision');
  const timeline = await runTimeline(t.client, h.workflowId, h.firstExecutionRunId);
  const path = criticalPath(timeline);
  const steps = await stepTimings(h, timeline.activities.map((a) => ({
    type: a.type, ...(a.host ? { host: a.host } : {}), scheduledAt: a.scheduledAt, waitMs: a.startedAt - a.scheduledAt, runMs: a.closedAt - a.startedAt, attempt: a.attempt,
  })));
  const loadAfter = load();
  progress(`${cloud}: deprovision`);
  const down = await runToEnd(t.client, taskQueue, inv, 'deprovision');
  leftAsItWas();
  const hosts = inv.gateways.length + (inv.etcd.topology === 'external' ? inv.etcd.members.length : 0) + inv.masters.length + inv.workers.length;
  return [
    `${cloud}: ${inv.cluster.name}, ${hosts} machines (${inv.masters.length} masters, ${inv.workers.length} workers, etcd ${inv.etcd.topology}), Kubernetes ${RELEASE}`,
    ...timing.map((x) => `  fake timing: ${x}`),
    `  load average (1/5/15 min): ${loadBefore} before, ${loadAfter} after (2 cores, shared with a full CI run; the bench ran at nice 19)`,
    `  runbook wall time: ${secs(timeline.closedAt - timeline.startedAt)} s (history: started → completed; ${secs(ms)} s as the client saw it), ${timeline.workflows.length} workflows, ${timeline.activities.length} activities`,
    ...describeCriticalPath(timeline, path),
    '  per step (the runbook\'s top-level steps; activities scheduled in the step\'s window, children included, run/waited from the histories):',
    ...describeSteps(steps.filter((x) => !x.id.includes(':'))),
    '  per host (the last to finish first):',
    ...describeHosts(timeline, inv.cluster.name),
    `  deprovision: ${secs(down.ms)} s; the cloud left as it was before the run`,
    '',
  ];
}

async function openstack(t: TestTemporal, taskQueue: string): Promise<string[]> {
  const dir = scratchDir('mooring-bench-provision-os-');
  const cloud = await startOpenStackLab({
    dir: join(dir, 'lab'), layout: OS_LAYOUT,
    fake: { host: `${OS_LAYOUT.loopback}.1`, port: 0, images: [{ id: '6f3c8d2e-0b1a-4c5d-9e8f-7a6b5c4d3e2f', name: 'ubuntu-20.04' }], quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } } },
  });
  try {
    const empty = projectState(cloud.fake);
    const s = cloud.fake.state;
    // The worker's environment, as a production worker's: OpenStack credentials (OS_*), the host-key seed, its state directory.
    Object.assign(process.env, {
      OS_AUTH_URL: cloud.fake.authUrl, OS_USERNAME: s.user.name, OS_PASSWORD: s.user.password, OS_PROJECT_NAME: s.project.name,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: s.region,
      MOORING_HOST_KEY_SEED: randomBytes(32).toString('base64'), MOORING_STATE_DIR: join(dir, 'state'),
    });
    const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-bench-operator');
    const inv = parseInventory(labInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'), {
      layout: OS_LAYOUT, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: RELEASE!, hostKeySeed: { env: 'MOORING_HOST_KEY_SEED' },
    }), 'seed 001 on the bench lab');
    const timing = [`server build (BUILD→ACTIVE) ${JSON.stringify(s.timing.serverBuild ?? {})}: ${defaultTiming}`, `server delete ${JSON.stringify(s.timing.serverDelete ?? {})}: the same`];
    return await measure(t, taskQueue, 'OpenStack (seed 001)', inv, timing, () => assert.deepEqual(projectState(cloud.fake), empty, 'deprovision left the fake project as it was'));
  } finally {
    await cloud.close();
  }
}

async function proxmox(t: TestTemporal, taskQueue: string): Promise<string[]> {
  const dir = scratchDir('mooring-bench-provision-px-');
  const snippets = join(dir, 'cephfs');
  mkdirSync(snippets, { recursive: true });
  // seed003FakeOptions sets poll-counted timing for the tests; the bench keeps the fake's defaults.
  const cloud = await startProxmoxLab({ dir: join(dir, 'lab'), layout: PX_LAYOUT, apiPort: 60443, fake: seed003FakeOptions(snippets, { host: `${PX_LAYOUT.loopback}.1`, timing: {} }) });
  try {
    const vms = () => [...cloud.fake.state.vms.keys()].sort((a, b) => a - b);
    const before = vms();
    setPveEnv();
    process.env.MOORING_STATE_DIR = join(dir, 'state');
    const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-bench-operator');
    const inv = parseInventory(labProxmoxInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', 'seed-003-proxmox-stacked-etcd.yaml'), {
      layout: PX_LAYOUT, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: RELEASE!, hostKeySeed: { env: SEED_ENV },
      proxmox: { apiUrl: cloud.fake.apiUrl, tokenId: PVE_TOKEN.tokenid, tokenSecret: { env: TOKEN_ENV }, nodes: PVE_NODES, snippets: { storage: 'cephfs', localDir: snippets } },
      // The first master is the way in: pinned with the key Mooring derives for it.
      bastionHostKey: publicKeyOnly(deriveHostKey(await resolveSecret({ env: SEED_ENV }, 'ssh.hostKeySeed'), 'molly', 'kube0').publicKey),
    }), 'seed 003 on the bench lab');
    const s = cloud.fake.state;
    const timing = [`tasks (clone, start, resize, stop, destroy: UPID running→stopped) ${JSON.stringify(s.timing.task ?? {})}: ${defaultTiming}`, `guest agent address ${JSON.stringify(s.timing.agent ?? {})}: the same`];
    return await measure(t, taskQueue, 'Proxmox VE (seed 003)', inv, timing, () => {
      assert.deepEqual(vms(), before, 'deprovision left the fake\'s VMs as they were');
      assert.deepEqual(inv.masters.concat(inv.workers).filter((m) => existsSync(`/run/netns/${cloud.lab.ns(m.name)}`)).map((m) => m.name), [], 'every lab node gone');
    });
  } finally {
    await cloud.close();
  }
}

const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('bench-provision');
const w = await startTestWorker(t.address, taskQueue);
const out: string[] = [];
try {
  for (const c of CLOUDS) out.push(...await (c === 'openstack' ? openstack(t, taskQueue) : proxmox(t, taskQueue)));
  process.stdout.write(out.join('\n'));
} finally {
  await w.stop();
  await t.stop();
}
