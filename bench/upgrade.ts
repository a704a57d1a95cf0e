// Upgrade benchmark: one Kubernetes hop (1.35.4 → 1.36.3) by the upgrade runbook (through
// Temporal: versions observed, releases read, the one approval given at once, preflight, then the
// hop) on a fresh netns Kubernetes lab, next to a plain shell script sending the same commands
// (bench/upgrade-baseline.sh: kubeadm package + upgrade plan + upgrade apply on the first master,
// upgrade node on the others, kubelet and kubectl packages, kubelet restarts, cordon/drain/
// uncordon of the worker) on another fresh lab at the same release. Both ends are checked alike
// (every node Ready and schedulable on the release, the control plane on it, kubeadm upgrade apply
// and node received once each). Prints each side's time for the hop, the per-step breakdown
// (bench/breakdown.ts) and the ratio. `npm run bench:upgrade` (needs root; BENCH_ROUNDS, default 1:
// each round makes two labs; BENCH_NETNS_TAG/BENCH_LAN/BENCH_LOOPBACK, default b12/18/127.89.0).
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { KubernetesLab } from '../lab/kubernetes-lab.js';
import { loadInventory } from '../config/load.js';
import { findRunbook } from '../client/runbooks.js';
import { startRunbook } from '../client/start.js';
import { decide } from '../client/decide.js';
import { progressQuery } from '../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../test/helpers/temporal.js';
import { startTestWorker } from '../test/helpers/worker.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { ONE_HOP_KUBEADM, expectHopDone, kubeadmDelta, kubeadmRuns } from '../test/helpers/kubernetes-hop.js';
import { describeScript, describeSteps, medianSteps, readScriptSteps, stepTimings, type ScriptStep, type StepTiming } from './breakdown.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const FROM = '1.35';
const TO = '1.36.3';
const layout = { tag: process.env.BENCH_NETNS_TAG ?? 'b12', lan: Number(process.env.BENCH_LAN ?? 18), loopback: process.env.BENCH_LOOPBACK ?? '127.89.0' };
const BASELINE = fileURLToPath(new URL('../../bench/upgrade-baseline.sh', import.meta.url));
const secs = (ms: number) => (ms / 1000).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const progress = (msg: string) => process.stderr.write(`[bench:upgrade] ${msg}\n`);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
// The hop's own steps (what the script also does), apart from observe, releases, approval, preflight.
const isHopStep = (id: string) => /^k8s-\d+:(apply|node:|kubelet:|batch-)/.test(id);

/** A new lab at 1.35.4 (kubeadm init and joins), timed; the previous one must be destroyed first (same layout). */
async function freshLab(): Promise<KubernetesLab> {
  const lab = new KubernetesLab({ dir: scratchDir('mooring-bench-upgrade-'), layout, kubernetes: FROM });
  const started = Date.now();
  await lab.up();
  progress(`fresh lab at ${lab.build.version} in ${secs(Date.now() - started)} s (load ${load()})`);
  return lab;
}

/** Both sides must end alike: the hop done, kubeadm apply and node once each. */
async function expectDone(lab: KubernetesLab, side: string): Promise<void> {
  await expectHopDone(lab, TO, side);
  const got = kubeadmDelta(kubeadmRuns(lab), {});
  if (JSON.stringify(got) !== JSON.stringify(ONE_HOP_KUBEADM)) throw new Error(`${side}: kubeadm runs ${JSON.stringify(got)}, expected ${JSON.stringify(ONE_HOP_KUBEADM)}`);
}

const loadAtStart = load();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('bench-upgrade');
const w = await startTestWorker(t.address, taskQueue);
const mooring: { ms: number; hopMs: number; steps: StepTiming[] }[] = [];
const shell: { ms: number; steps: ScriptStep[] }[] = [];
let lab: KubernetesLab | undefined;
try {
  for (let i = 0; i < ROUNDS; i++) {
    progress(`round ${i + 1}/${ROUNDS}: the runbook`);
    lab = await freshLab();
    const inv = await loadInventory(lab.net.inventoryFile);
    let started = Date.now();
    const h = await startRunbook(t.client, findRunbook('upgrade'), inv, { to: TO, taskQueue, gates: 'single', skipSnapshot: 'bench: the Kubernetes lab has no object store (SIMULATED cluster)' });
    await eventually('the gate', async () => (await h.query(progressQuery)).pendingApproval, 300_000, 50);
    await decide(t.client, h.workflowId, { approved: true, by: 'bench' });
    await h.result();
    const ms = Date.now() - started;
    const steps = await stepTimings(h);
    const hopMs = steps.filter((s) => isHopStep(s.id)).reduce((n, s) => n + s.ms, 0);
    mooring.push({ ms, hopMs, steps });
    progress(`runbook ${secs(ms)} s (the hop's steps ${secs(hopMs)} s; load ${load()}):\n${describeSteps(steps, { detail: process.env.BENCH_DETAIL === '1' }).join('\n')}`);
    await expectDone(lab, 'runbook');
    await lab.destroy();
    lab = undefined;

    progress(`round ${i + 1}/${ROUNDS}: the plain script`);
    lab = await freshLab();
    const sinv = await loadInventory(lab.net.inventoryFile);
    const times = join(lab.net.dir, 'script-steps.log');
    rmSync(times, { force: true });
    const b = sinv.kubernetes.binaries!;
    const args = [
      sinv.ssh.privateKeyPath, sinv.ssh.user, `${sinv.ssh.bastion!.user ?? sinv.ssh.user}@${sinv.ssh.bastion!.host}`, String(sinv.ssh.bastion!.port), TO,
      b.source.replace('{version}', TO), b.installDir, sinv.kubernetes.upgrade.ignorePreflightErrors.join(','),
      ...sinv.masters.map((m) => `${m.name}=${m.ip}`), '--', ...sinv.workers.map((x) => `${x.name}=${x.ip}`),
    ];
    started = Date.now();
    await run(BASELINE, args, { env: { ...process.env, BENCH_TIMES: times }, maxBuffer: 16 << 20 });
    const sms = Date.now() - started;
    const ssteps = readScriptSteps(times);
    shell.push({ ms: sms, steps: ssteps });
    progress(`script ${secs(sms)} s (load ${load()}):\n${describeScript(ssteps).join('\n')}`);
    await expectDone(lab, 'script');
    await lab.destroy();
    lab = undefined;
  }

  const m = median(mooring.map((x) => x.ms));
  const hop = median(mooring.map((x) => x.hopMs));
  const s = median(shell.map((x) => x.ms));
  const mid = mooring.find((x) => x.ms === m)!;
  process.stdout.write([
    `Kubernetes hop ${FROM}.x → ${TO} on the netns Kubernetes lab, a fresh lab per side, ${ROUNDS} round(s) (median)`,
    `  load average (1/5/15 min): ${loadAtStart} at the start, ${load()} at the end (2 cores, shared)`,
    `  mooring runbook : ${secs(m)} s   (${mooring.map((x) => secs(x.ms)).join(', ')}): observe, releases, approval given at once, preflight, the hop`,
    `    the hop's steps: ${secs(hop)} s   (apply, upgrade node, kubelets, worker batches; what the script does)`,
    `  plain script    : ${secs(s)} s   (${shell.map((x) => secs(x.ms)).join(', ')})`,
    `  ratio mooring/script: ${(m / s).toFixed(2)} (whole run), ${(hop / s).toFixed(2)} (the hop's steps)`,
    '  runbook per step (the median round; activities run/waited from the workflow history):',
    ...describeSteps(mid.steps),
    '  script per step (median over rounds):',
    ...medianSteps(shell.map((x) => x.steps)).map((x) => `    ${x.id.padEnd(18)} ${secs(x.ms).padStart(6)} s`),
    '',
  ].join('\n'));
} finally {
  await w.stop();
  await t.stop();
  await lab?.destroy();
}
