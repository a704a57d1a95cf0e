// Fleet benchmark: N clusters' backup schedules on one worker and one dev server. Every cluster
// is the lab's etcd under its own name (so its own lock `ops/<name>`, schedule `backup/<name>`,
// local snapshot names and bucket prefix `etcd/<name>/`), scheduled `every` (default 1h) with its
// offset spread evenly over the interval, no jitter, so the runs due in the measured window are
// known exactly. A window shorter than the interval measures the steady load of the fleet
// (N / interval runs per second) without waiting the whole interval; BENCH_FLEET_EVERY=10m with a
// 30-minute window shows three intervals. For each N it prints: runs due, started, completed,
// skipped, failed, missed (catch-up window) and overlap-skipped; schedule lag (due → workflow
// started, by the server) and pickup lag (due → first workflow task on the worker); the worker's and
// the server's CPU time and peak memory over the window. `npm run bench:fleet`.
//   BENCH_FLEET_N=100,1000  BENCH_FLEET_EVERY=1h  BENCH_FLEET_WINDOW=10m  BENCH_SUBNET=127.93.0
import { join } from 'node:path';
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { Lab } from '../lab/lab.js';
import { loadInventory } from '../config/load.js';
import type { Inventory } from '../config/schema.js';
import { createBackupSchedule, scheduleIdFor } from '../client/schedules.js';
import { PHASE } from '../workflows/runbook/search-attributes.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../test/helpers/temporal.js';
import { startWorkerProcess } from '../test/helpers/worker-process.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { cpuSecondsOf, peakSampler, processTree } from './process-stats.js';
import { activityTimings } from './breakdown.js';

const FLEETS = (process.env.BENCH_FLEET_N ?? '100,1000').split(',').map(Number);
const EVERY_S = seconds(process.env.BENCH_FLEET_EVERY ?? '1h');
if (EVERY_S % 60 !== 0) throw new Error('BENCH_FLEET_EVERY must be whole minutes (schedules take 30m, 1h, …)');
const WINDOW_S = seconds(process.env.BENCH_FLEET_WINDOW ?? '10m');
// Schedules are created first; the window opens this long after the last one exists.
const LEAD_S = 20;
// After the window, runs already started get this long to finish before the count is taken.
const DRAIN_S = 300;
const MIB = 1024 * 1024;

interface RunSeen { cluster: string; dueMs: number; workflowId?: string; runId?: string; child?: { workflowId: string; runId: string }; why?: string; startedMs?: number; pickupMs?: number; closedMs?: number; result: 'ok' | 'skipped' | 'degraded' | 'failed' | 'running' | 'not started' }

const lab = new Lab({ dir: scratchDir('mooring-bench-fleet-'), subnet: process.env.BENCH_SUBNET ?? '127.93.0' });
await lab.up();
try {
  const base = await loadInventory(lab.inventoryFile);
  const lines: string[] = [];
  for (const n of FLEETS) lines.push(...await benchFleet(base, n));
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await lab.down();
}

async function benchFleet(base: Inventory, n: number): Promise<string[]> {
  const t = await startTestTemporal({ logFile: join(lab.dir, `temporal-${n}.log`) });
  const taskQueue = uniqueTaskQueue(`bench-fleet-${n}`);
  const worker = startWorkerProcess(t.address, taskQueue, join(lab.dir, `worker-${n}.log`));
  try {
    await worker.ready;
    const clusters = Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
    const createStarted = Date.now();
    // Offsets are positions in the interval counted from the epoch, as the server counts them.
    const opensAtMs = Math.ceil((Date.now() + (n * 0.05 + LEAD_S) * 1000) / 1000) * 1000;
    // Whole seconds: the server fires interval schedules on the second.
    const firstDueMs = clusters.map((_, i) => opensAtMs + Math.floor((i * EVERY_S) / n) * 1000);
    for (const [i, name] of clusters.entries()) {
      const offsetS = Math.floor(firstDueMs[i]! / 1000) % EVERY_S;
      await createBackupSchedule(t.client, { ...base, cluster: { ...base.cluster, name } }, { every: `${EVERY_S / 60}m`, offset: `${offsetS}s`, jitter: '0s', taskQueue, note: 'bench:fleet' });
    }
    const createMs = Date.now() - createStarted;
    if (Date.now() > opensAtMs) throw new Error(`creating ${n} schedules took ${createMs} ms, past the window's start: raise LEAD_S`);
    const closesAtMs = opensAtMs + WINDOW_S * 1000;
    const due = clusters.flatMap((cluster, i) => {
      const out: RunSeen[] = [];
      for (let at = firstDueMs[i]!; at < closesAtMs; at += EVERY_S * 1000) out.push({ cluster, dueMs: at, result: 'not started' });
      return out;
    });

    await sleep(opensAtMs - Date.now());
    const workerPids = () => processTree(worker.child.pid!);
    const serverPid = t.server.process.pid!;
    const cpu0 = { worker: sum(workerPids().map(cpuSecondsOf)), server: cpuSecondsOf(serverPid) };
    const workerPeak = peakSampler(workerPids, 500);
    const serverPeak = peakSampler(() => [serverPid], 500);
    await sleep(closesAtMs - Date.now());
    const cpu1 = { worker: sum(workerPids().map(cpuSecondsOf)), server: cpuSecondsOf(serverPid) };
    const peaks = { worker: workerPeak.stop(), server: serverPeak.stop() };
    // Pause every schedule, so nothing new starts while the window's runs finish and are counted.
    for (const c of clusters) await t.client.schedule.getHandle(scheduleIdFor(c)).pause('bench:fleet window closed');
    const counts = await observe(t, clusters, due, { opensAtMs, closesAtMs });
    return await report(t, n, createMs, due, counts, { cpu: { worker: cpu1.worker - cpu0.worker, server: cpu1.server - cpu0.server }, peaks });
  } finally {
    await worker.stop();
    await t.stop();
  }
}

/** Fills in `due` from the schedules' recent actions and the runs' histories. */
async function observe(t: TestTemporal, clusters: string[], due: RunSeen[], window: { opensAtMs: number; closesAtMs: number }): Promise<{ missed: number; overlapSkipped: number }> {
  let missed = 0;
  let overlapSkipped = 0;
  const drainUntil = Date.now() + DRAIN_S * 1000;
  for (const cluster of clusters) {
    const d = await t.client.schedule.getHandle(scheduleIdFor(cluster)).describe();
    missed += d.info.numActionsMissedCatchupWindow;
    overlapSkipped += d.info.numActionsSkippedOverlap;
    for (const a of d.info.recentActions) {
      const seen = due.find((r) => r.cluster === cluster && r.dueMs === a.scheduledAt.getTime());
      if (!seen) {
        // Runs due between a schedule's creation and the window (short intervals) are warm-up.
        const at = a.scheduledAt.getTime();
        if (at >= window.opensAtMs && at < window.closesAtMs) throw new Error(`${cluster}: a run due at ${a.scheduledAt.toISOString()} that the bench did not expect: offsets are wrong`);
        continue;
      }
      seen.startedMs = a.takenAt.getTime();
      if (a.action.type !== 'startWorkflow') continue;
      const h = t.client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId);
      let desc: WorkflowExecutionDescription;
      for (;;) {
        try { desc = await h.describe(); } catch (err) { if (err instanceof WorkflowNotFoundError) break; throw err; }
        if (desc.status.name !== 'RUNNING' || Date.now() > drainUntil) break;
        await sleep(1000);
      }
      if (!desc!) continue;
      seen.startedMs = desc.startTime.getTime();
      seen.closedMs = desc.closeTime?.getTime();
      const phase = desc.typedSearchAttributes.get(PHASE);
      seen.result = desc.status.name === 'RUNNING' ? 'running' : desc.status.name === 'COMPLETED' ? 'ok' : phase === 'skipped-busy' ? 'skipped' : phase === 'degraded' ? 'degraded' : 'failed';
      if (seen.result === 'failed' || seen.result === 'skipped' || seen.result === 'degraded') {
        seen.why = await h.result().then(() => '', (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message));
      }
      const history = await h.fetchHistory();
      const child = history.events?.find((e) => e.childWorkflowExecutionStartedEventAttributes)?.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) seen.child = { workflowId: child.workflowId, runId: child.runId };
      const pickup = history.events?.find((e) => e.workflowTaskStartedEventAttributes);
      if (pickup?.eventTime?.seconds != null) seen.pickupMs = Number(pickup.eventTime.seconds) * 1000 + Math.floor((pickup.eventTime.nanos ?? 0) / 1e6);
    }
  }
  return { missed, overlapSkipped };
}

async function report(t: TestTemporal, n: number, createMs: number, due: RunSeen[], c: { missed: number; overlapSkipped: number }, use: { cpu: { worker: number; server: number }; peaks: { worker: number; server: number } }): Promise<string[]> {
  const by = (r: RunSeen['result']) => due.filter((x) => x.result === r).length;
  const started = due.filter((x) => x.startedMs !== undefined);
  const lag = started.map((x) => x.startedMs! - x.dueMs);
  const pickup = started.filter((x) => x.pickupMs !== undefined).map((x) => x.pickupMs! - x.dueMs);
  const took = due.filter((x) => x.closedMs !== undefined && x.startedMs !== undefined).map((x) => x.closedMs! - x.startedMs!);
  const perHour = (n * 3600) / EVERY_S;
  const reasons = new Map<string, number>();
  for (const r of due) if (r.why) reasons.set(r.why.slice(0, 160), (reasons.get(r.why.slice(0, 160)) ?? 0) + 1);
  // Where the slowest good run's time went: its backup's activities, waited (queue, retries) and ran.
  const slowest = due.filter((x) => x.result === 'ok' && x.child && x.closedMs).sort((a, b) => (b.closedMs! - b.startedMs!) - (a.closedMs! - a.startedMs!))[0];
  const steps = slowest ? await activityTimings(t.client.workflow.getHandle(slowest.child!.workflowId, slowest.child!.runId)) : [];
  return [
    `fleet of ${n} clusters, each backed up every ${EVERY_S / 60} min (${perHour.toFixed(0)} backups/hour), one worker; window ${WINDOW_S / 60} min; ${n} schedules created in ${(createMs / 1000).toFixed(1)} s`,
    `  runs due ${due.length}, started ${started.length}, ok ${by('ok')}, skipped (busy) ${by('skipped')}, degraded ${by('degraded')}, failed ${by('failed')}, still running ${by('running')}, never started ${by('not started')}`,
    `  schedules: missed (catch-up window) ${c.missed}, skipped (overlap) ${c.overlapSkipped}`,
    `  schedule lag due → started: ${stats(lag)}`,
    `  pickup lag due → first workflow task on the worker: ${stats(pickup)}`,
    `  run time (scheduled wrapper, backup included): ${stats(took)}`,
    `  worker: ${use.cpu.worker.toFixed(1)} s CPU in ${WINDOW_S} s (${((100 * use.cpu.worker) / WINDOW_S).toFixed(0)}% of one core), peak RSS ${(use.peaks.worker / MIB).toFixed(0)} MiB`,
    `  server: ${use.cpu.server.toFixed(1)} s CPU (${((100 * use.cpu.server) / WINDOW_S).toFixed(0)}% of one core), peak RSS ${(use.peaks.server / MIB).toFixed(0)} MiB`,
    ...[...reasons].map(([why, k]) => `  ${k} × ${why}`),
    ...(slowest ? [`  slowest good run (${slowest.cluster}), its backup's activities (waited / ran, attempt):`,
      ...steps.map((a) => `    ${a.type}${a.host ? ` on ${a.host}` : ''}: ${(a.waitMs / 1000).toFixed(2)} s / ${(a.runMs / 1000).toFixed(2)} s, attempt ${a.attempt}`)] : []),
    '',
  ];
}

function stats(ms: number[]): string {
  if (!ms.length) return 'none';
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const f = (x: number) => `${(x / 1000).toFixed(2)} s`;
  return `median ${f(q(0.5))}, p95 ${f(q(0.95))}, max ${f(s[s.length - 1]!)} (${s.length} runs)`;
}

function seconds(d: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(d);
  if (!m) throw new Error(`"${d}" must be a duration such as 90s, 10m or 1h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); }
function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, Math.max(0, ms))); }
