// Per-step breakdown for the benches: where a runbook's time went, read from its workflow
// history's event timestamps (what the server recorded, not what the worker thinks), against the
// plain script's per-step times (bench/timing.sh writes them). Each runbook step's wall time is
// split into the time activities ran (started → closed of the attempt that completed), the time
// they waited (scheduled → started: task queue latency, plus failed attempts and retry backoff),
// and the rest (workflow tasks, timers, the approval round trip).
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { progressQuery } from '../workflows/runbook/definitions.js';

export interface ActivityTiming {
  type: string;
  /** The host the activity worked on, from its input (host, via or the first of members/hosts). */
  host?: string;
  scheduledAt: number;
  /** Scheduled → started of the attempt that completed (includes earlier attempts and backoff). */
  waitMs: number;
  /** Started → closed of the attempt that completed. */
  runMs: number;
  attempt: number;
}

export interface StepTiming {
  id: string;
  ms: number;
  activities: ActivityTiming[];
}

const secs = (ms: number) => (ms / 1000).toFixed(2);

/** The host an activity worked on, from its input: a host name, or an object with a name (host, via, vm, server), or a count of hosts. */
export function hostOf(payload: { data?: Uint8Array | null } | undefined): string | undefined {
  try {
    const input = JSON.parse(Buffer.from(payload?.data ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
    // Host-phase activities name their host by a string; cloud and etcd ones carry an object with a name.
    if (typeof input.host === 'string') return input.host;
    const pick = (v: unknown) => (Array.isArray(v) ? `${v.length} hosts` : (v as { name?: unknown } | undefined)?.name);
    const name = [input.host, input.via, input.members, input.hosts, input.vm, input.server].map(pick).find((x) => typeof x === 'string');
    return name ?? (typeof input.name === 'string' ? input.name : undefined);
  } catch {
    return undefined;
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Each activity of a history that closed (completed or failed), as its scheduled, started and closed events. */
export function closedActivities(events: HistoryEvent[]): { scheduled: HistoryEvent; started: HistoryEvent; closed: HistoryEvent }[] {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const out: { scheduled: HistoryEvent; started: HistoryEvent; closed: HistoryEvent }[] = [];
  for (const e of events) {
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    const scheduled = closed && byId.get(Number(closed.scheduledEventId));
    const started = closed && byId.get(Number(closed.startedEventId));
    if (scheduled && started) out.push({ scheduled, started, closed: e });
  }
  return out;
}

/** Every completed activity of the run, with the server's timestamps. */
export async function activityTimings(h: WorkflowHandle): Promise<ActivityTiming[]> {
  const events = (await h.fetchHistory()).events ?? [];
  const out: ActivityTiming[] = [];
  for (const { scheduled, started, closed } of closedActivities(events)) {
    const s = scheduled.activityTaskScheduledEventAttributes!;
    const at = tsToMs(scheduled.eventTime);
    const host = hostOf(s.input?.payloads?.[0] ?? undefined);
    out.push({
      type: s.activityType?.name ?? '?', ...(host ? { host } : {}), scheduledAt: at,
      waitMs: tsToMs(started.eventTime) - at, runMs: tsToMs(closed.eventTime) - tsToMs(started.eventTime),
      attempt: started.activityTaskStartedEventAttributes?.attempt ?? 1,
    });
  }
  return out;
}

/**
 * The run's steps (progress query) with the activities scheduled inside each one's window; `acts`
 * when the run's activities come from more histories than its own (child workflows).
 */
export async function stepTimings(h: WorkflowHandle, given?: ActivityTiming[]): Promise<StepTiming[]> {
  const acts = given ?? await activityTimings(h);
  const steps = (await h.query(progressQuery)).steps.filter((x) => x.startedAt !== undefined && x.endedAt !== undefined);
  // Workflow time is the workflow task's start; the server stamps the scheduled event a little later.
  const inStep = (a: ActivityTiming, s: (typeof steps)[number]) => a.scheduledAt >= s.startedAt! && a.scheduledAt <= s.endedAt!;
  const out = steps.map((s) => ({ id: s.id, ms: s.endedAt! - s.startedAt!, activities: acts.filter((a) => inStep(a, s)) }));
  // Activities the workflow runs between two steps (e.g. the follower procedure's certificate
  // check and member list before 'config'): their own row, so no time goes unaccounted.
  const between = acts.filter((a) => !steps.some((s) => inStep(a, s)));
  if (between.length) out.push({ id: '(between steps)', ms: between.reduce((n, a) => n + a.waitMs + a.runMs, 0), activities: between });
  return out;
}

/** One line per step: wall, activity run time (count), wait/retry time; then each activity. */
export function describeSteps(steps: StepTiming[], opts: { detail?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const s of steps) {
    const run = s.activities.reduce((n, a) => n + a.runMs, 0);
    const wait = s.activities.reduce((n, a) => n + a.waitMs, 0);
    const retries = s.activities.reduce((n, a) => n + a.attempt - 1, 0);
    lines.push(`    ${s.id.padEnd(18)} ${secs(s.ms).padStart(6)} s   activities ${String(s.activities.length).padStart(2)}: run ${secs(run)} s, waited ${secs(wait)} s${retries ? ` (${retries} retries)` : ''}`);
    if (opts.detail) for (const a of s.activities) lines.push(`        ${`${a.type}${a.host ? `(${a.host})` : ''}`.padEnd(40)} run ${secs(a.runMs)} s  wait ${secs(a.waitMs)} s${a.attempt > 1 ? `  attempt ${a.attempt}` : ''}`);
  }
  return lines;
}

export interface ScriptStep { step: string; ms: number; ssh: number }

/** Reads bench/timing.sh's log: "STEP MS SSH_CALLS" per line. */
export function readScriptSteps(file: string): ScriptStep[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').filter(Boolean).map((l) => {
    const [step, ms, ssh] = l.split(' ');
    return { step: step!, ms: Number(ms), ssh: Number(ssh) };
  });
}

export function describeScript(steps: ScriptStep[]): string[] {
  return steps.map((s) => `    ${s.step.padEnd(18)} ${secs(s.ms).padStart(6)} s   ssh calls ${s.ssh}`);
}

/** Median per step id over rounds (rounds may lack a step: it counts where present). */
export function medianSteps<T extends { id?: string; step?: string; ms: number }>(rounds: T[][]): { id: string; ms: number }[] {
  const ids: string[] = [];
  for (const r of rounds) for (const s of r) { const id = s.id ?? s.step!; if (!ids.includes(id)) ids.push(id); }
  return ids.map((id) => {
    const xs = rounds.flatMap((r) => r.filter((s) => (s.id ?? s.step) === id).map((s) => s.ms)).sort((a, b) => a - b);
    return { id, ms: xs[Math.floor(xs.length / 2)]! };
  });
}
