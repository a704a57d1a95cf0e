// The critical path of a runbook run, read from the workflow histories of the run and of every
// child workflow it started (server timestamps only). Walking back from the activity that closed
// last, each link is the activity that completed last before the next link was scheduled: the
// chain that gated the end. The rest of the wall time is accounted for, gap by gap, by what the
// parent's history shows happened in that gap (an approval's Update, a child workflow starting or
// closing), else workflow tasks (the workflow code deciding the next step, its task round trips).
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { closedActivities, hostOf } from './breakdown.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface Activity {
  workflow: string;
  type: string;
  host?: string;
  scheduledAt: number;
  startedAt: number;
  closedAt: number;
  /** The attempt that closed (earlier attempts and their backoff are in scheduled → started). */
  attempt: number;
}

export interface RunTimeline {
  startedAt: number;
  closedAt: number;
  activities: Activity[];
  /** Parent and child events that explain gaps: [time, what]. */
  marks: { at: number; what: 'approval' | 'child workflow' }[];
  workflows: string[];
}

function activitiesOf(workflow: string, events: HistoryEvent[]): Activity[] {
  return closedActivities(events).map(({ scheduled, started, closed }) => {
    const s = scheduled.activityTaskScheduledEventAttributes!;
    const host = hostOf(s.input?.payloads?.[0] ?? undefined);
    return {
      workflow, type: s.activityType?.name ?? '?', ...(host ? { host } : {}),
      scheduledAt: tsToMs(scheduled.eventTime), startedAt: tsToMs(started.eventTime), closedAt: tsToMs(closed.eventTime),
      attempt: started.activityTaskStartedEventAttributes?.attempt ?? 1,
    };
  });
}

/** The run and its children (recursively), from their histories. */
export async function runTimeline(client: Client, workflowId: string, runId?: string): Promise<RunTimeline> {
  const t: RunTimeline = { startedAt: Infinity, closedAt: -Infinity, activities: [], marks: [], workflows: [] };
  const visit = async (id: string, run: string | undefined, top: boolean) => {
    const events = (await client.workflow.getHandle(id, run).fetchHistory()).events ?? [];
    t.workflows.push(id);
    t.activities.push(...activitiesOf(id, events));
    if (top) {
      t.startedAt = tsToMs(events[0]!.eventTime);
      t.closedAt = tsToMs(events.at(-1)!.eventTime);
    }
    for (const e of events) {
      const at = tsToMs(e.eventTime);
      if (e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionSignaledEventAttributes) t.marks.push({ at, what: 'approval' });
      if (e.startChildWorkflowExecutionInitiatedEventAttributes || e.childWorkflowExecutionCompletedEventAttributes) t.marks.push({ at, what: 'child workflow' });
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) await visit(child.workflowId, child.runId ?? undefined, false);
    }
  };
  await visit(workflowId, runId, true);
  return t;
}

export interface Gap { fromMs: number; toMs: number; what: string }

export interface CriticalPath {
  links: Activity[];
  /** Sum of the links' run times (started → closed). */
  runMs: number;
  /** Sum of the links' queue waits (scheduled → started). */
  queueMs: number;
  gaps: Gap[];
}

/** Walk back from the activity that closed last; see the file comment. */
export function criticalPath(t: RunTimeline): CriticalPath {
  const acts = [...t.activities].sort((a, b) => a.closedAt - b.closedAt);
  const links: Activity[] = [];
  let next = acts.at(-1);
  while (next) {
    links.unshift(next);
    const before = next.scheduledAt;
    next = acts.filter((a) => a.closedAt <= before && !links.includes(a)).at(-1);
  }
  const gaps: Gap[] = [];
  let from = t.startedAt;
  for (const l of [...links, undefined]) {
    const to = l ? l.scheduledAt : t.closedAt;
    const marks = t.marks.filter((m) => m.at >= from && m.at <= to).map((m) => m.what);
    const what = marks.includes('approval') ? 'approval' : marks.includes('child workflow') ? 'child workflow start/close' : 'workflow tasks';
    if (to > from) gaps.push({ fromMs: from, toMs: to, what });
    if (l) from = l.closedAt;
  }
  return {
    links, gaps,
    runMs: links.reduce((n, l) => n + l.closedAt - l.startedAt, 0),
    queueMs: links.reduce((n, l) => n + l.startedAt - l.scheduledAt, 0),
  };
}

const secs = (ms: number) => (ms / 1000).toFixed(2);

/** Per host (a cloud resource named `<cluster>-<host>` counts for the host): activities, their run time, first scheduled → last closed. */
export function describeHosts(t: RunTimeline, cluster: string): string[] {
  const byHost = new Map<string, Activity[]>();
  for (const a of t.activities) {
    if (!a.host || a.host.includes(' ')) continue;
    const h = a.host.startsWith(`${cluster}-`) ? a.host.slice(cluster.length + 1) : a.host;
    byHost.set(h, [...(byHost.get(h) ?? []), a]);
  }
  return [...byHost].sort(([, a], [, b]) => Math.max(...b.map((x) => x.closedAt)) - Math.max(...a.map((x) => x.closedAt))).map(([h, acts]) => {
    const run = acts.reduce((n, a) => n + a.closedAt - a.startedAt, 0);
    const span = Math.max(...acts.map((a) => a.closedAt)) - Math.min(...acts.map((a) => a.scheduledAt));
    return `    ${h.padEnd(28)} ${String(acts.length).padStart(3)} activities  run ${secs(run).padStart(6)} s  first scheduled → last closed ${secs(span).padStart(6)} s`;
  });
}

/** Activity types that wait for the cloud (server builds, clone and start tasks, the guest agent). */
export const CLOUD_WAITS = /^(waitServerActive|deleteServerAndWait|cloneProxmoxVm|startVmTask|resizeVmDisk|waitGuestAddress)$/;

export function describeCriticalPath(t: RunTimeline, p: CriticalPath): string[] {
  const wall = t.closedAt - t.startedAt;
  const short = (w: string) => w.replace(/^ops\/[^/]+\//, '').replace(/-[0-9a-f-]{36}(-\d+)?$/, '');
  const lines = [`  critical path: ${p.links.length} activities, run ${secs(p.runMs)} s (sum of the links' run times)`];
  for (const l of p.links) {
    lines.push(`    ${`${l.type}${l.host ? `(${l.host})` : ''}`.padEnd(44)} ${short(l.workflow).padEnd(11)} run ${secs(l.closedAt - l.startedAt).padStart(6)} s  queued ${secs(l.startedAt - l.scheduledAt)} s`);
  }
  const cloud = p.links.filter((l) => CLOUD_WAITS.test(l.type));
  const hostLinks = p.links.filter((l) => short(l.workflow).startsWith('hosts'));
  const byHost = new Map<string, number>();
  for (const l of hostLinks) byHost.set(l.host ?? '(several)', (byHost.get(l.host ?? '(several)') ?? 0) + l.closedAt - l.startedAt);
  const sum = (xs: Activity[]) => xs.reduce((n, l) => n + l.closedAt - l.startedAt, 0);
  lines.push(
    '  unavoidable waits on it:',
    `    cloud waits (server builds / clone, start, resize tasks / guest agent): ${secs(sum(cloud))} s in ${cloud.length} links (${[...new Set(cloud.map((l) => l.type))].join(', ') || 'none'})`,
    `    the host chain that gated the end: ${secs(sum(hostLinks))} s in ${hostLinks.length} links (${[...byHost].map(([h, ms]) => `${h} ${secs(ms)} s`).join(', ')})`,
  );
  const gapSum = (what: string) => p.gaps.filter((g) => g.what === what).reduce((n, g) => n + g.toMs - g.fromMs, 0);
  const gapMs = p.gaps.reduce((n, g) => n + g.toMs - g.fromMs, 0);
  lines.push(
    `  wall ${secs(wall)} s / critical path ${secs(p.runMs)} s = ${(wall / p.runMs).toFixed(2)}`,
    `  the gap, ${secs(wall - p.runMs)} s: links queued ${secs(p.queueMs)} s (task queue latency, retries); between links ${secs(gapMs)} s =`
      + ` approvals ${secs(gapSum('approval'))} s, child workflow start/close ${secs(gapSum('child workflow start/close'))} s, workflow tasks ${secs(gapSum('workflow tasks'))} s`,
    '    (polling intervals are inside the cloud waits\' run times: the activities poll every 2 s)',
  );
  return lines;
}
