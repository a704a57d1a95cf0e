// Backup schedules on Temporal Schedules: one per cluster (`backup/<cluster>`), overlap policy
// SKIP, a catch-up window and jitter; each action runs `scheduledEtcdBackup`, which takes the
// cluster's mutating-runbook lock or skips.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSpec } from '@temporalio/client';
import type { Inventory } from '../config/schema.js';
import { CLUSTER, PHASE, RUNBOOK } from '../workflows/runbook/search-attributes.js';
import { DEFAULT_TASK_QUEUE } from '../workers/connection.js';

export interface ScheduleChoice {
  every?: string;
  cron?: string;
}

export interface CreateScheduleOptions extends ScheduleChoice {
  jitter?: string;
  /** Where in each interval the runs fall (e.g. `17m` of every `1h`): spreads a fleet's backups. Intervals only. */
  offset?: string;
  catchupWindow?: string;
  paused?: boolean;
  note?: string;
  taskQueue?: string;
}

export interface ScheduleSummary {
  scheduleId: string;
  cluster: string | undefined;
  spec: string;
  paused: boolean;
  note: string | undefined;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
  overlap: string;
  /** How the latest scheduled run ended: ok, SKIPPED (cluster busy), DEGRADED, FAILED, running. */
  lastResult?: string;
}

export const scheduleIdFor = (cluster: string) => `backup/${cluster}`;

const INTERVAL = /^(\d+)(m|h|d)$/;

/** The schedule from the flags, else from the inventory's backup.schedule. */
export function specFor(inv: Inventory, choice: ScheduleChoice, jitter?: string): ScheduleSpec {
  if (choice.every && choice.cron) throw new Error('give --every or --cron, not both');
  const every = choice.every ?? (choice.cron ? undefined : inv.backup && 'every' in inv.backup.schedule ? inv.backup.schedule.every : undefined);
  const cron = choice.cron ?? (choice.every ? undefined : inv.backup && 'cron' in inv.backup.schedule ? inv.backup.schedule.cron : undefined);
  const spec: ScheduleSpec = {};
  if (every) {
    if (!INTERVAL.test(every)) throw new Error(`--every "${every}" must be minutes, hours or days such as 30m, 6h, 1d`);
    spec.intervals = [{ every: every as `${number}m` }];
  } else if (cron) {
    if (cron.trim().split(/\s+/).length !== 5) throw new Error(`--cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`);
    spec.cronExpressions = [cron];
  } else {
    throw new Error(`no schedule: give --every/--cron, or set backup.schedule in the inventory of ${inv.cluster.name}`);
  }
  if (jitter) spec.jitter = jitter as `${number}m`;
  return spec;
}

export async function createBackupSchedule(client: Client, inv: Inventory, opts: CreateScheduleOptions = {}): Promise<string> {
  if (!inv.backup) throw new Error(`the inventory of ${inv.cluster.name} has no backup section: add backup.objectStore and backup.encryptionKey (docs/inventory.md)`);
  const scheduleId = scheduleIdFor(inv.cluster.name);
  const spec = specFor(inv, opts, opts.jitter ?? '2m');
  if (opts.offset) {
    if (!spec.intervals) throw new Error('an offset needs an interval schedule (--every), not cron');
    spec.intervals = [{ ...spec.intervals[0]!, offset: opts.offset as `${number}s` }];
  }
  const handle = await client.schedule.create({
    scheduleId,
    spec,
    // The server turns cron into calendar specs; keep the words the operator used.
    memo: { spec: spec.cronExpressions ? `cron ${spec.cronExpressions[0]}` : `every ${String(spec.intervals?.[0]?.every)}` },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledEtcdBackup',
      workflowId: `scheduled-backup/${inv.cluster.name}`,
      taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [{ inventory: inv }],
      typedSearchAttributes: [{ key: CLUSTER, value: inv.cluster.name }, { key: RUNBOOK, value: 'etcd-backup' }],
      staticSummary: `scheduled etcd-backup of ${inv.cluster.name}`,
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: (opts.catchupWindow ?? '1h') as `${number}h`,
      pauseOnFailure: false,
    },
    typedSearchAttributes: [{ key: CLUSTER, value: inv.cluster.name }, { key: RUNBOOK, value: 'etcd-backup' }],
    state: { paused: opts.paused ?? false, note: opts.note ?? 'created by mooring backup schedule create' },
  });
  return handle.scheduleId;
}

/**
 * Replaces the inventory a backup schedule hands to each run (a schedule keeps the copy it was
 * created with: after a member is replaced, its old host key fails every scheduled run). Spec,
 * policies and state are kept. Returns the schedule ID.
 */
export async function updateBackupSchedule(client: Client, inv: Inventory, opts: { taskQueue?: string } = {}): Promise<string> {
  if (!inv.backup) throw new Error(`the inventory of ${inv.cluster.name} has no backup section: add backup.objectStore and backup.encryptionKey (docs/inventory.md)`);
  return onSchedule(client, inv.cluster.name, async (h) => {
    await h.update((prev) => {
      if (prev.action.type !== 'startWorkflow' || prev.action.workflowType !== 'scheduledEtcdBackup') {
        throw new Error(`schedule ${prev.scheduleId} does not start scheduledEtcdBackup: not a Mooring backup schedule, left unchanged`);
      }
      return {
        ...prev,
        action: { ...prev.action, args: [{ inventory: inv }], ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}) },
        state: { ...prev.state },
      };
    });
    return h.scheduleId;
  });
}

/** The inventory a backup schedule hands to its runs, or undefined when there is no such schedule. */
export async function scheduledInventory(client: Client, cluster: string): Promise<Inventory | undefined> {
  try {
    const d = await client.schedule.getHandle(scheduleIdFor(cluster)).describe();
    if (d.action.type !== 'startWorkflow') return undefined;
    return (d.action.args?.[0] as { inventory?: Inventory } | undefined)?.inventory;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * After a run that may have changed the cluster (a member replaced: new host key or address),
 * which backup schedule still carries an older inventory, and the command that fixes it.
 */
export async function staleScheduleHint(client: Client, inv: Inventory, file: string): Promise<string | undefined> {
  const scheduled = await scheduledInventory(client, inv.cluster.name);
  if (!scheduled || sameJson(scheduled, inv)) return undefined;
  const differs = [...new Set([...Object.keys(scheduled), ...Object.keys(inv)])]
    .filter((k) => !sameJson((scheduled as Record<string, unknown>)[k], (inv as Record<string, unknown>)[k]));
  return `backup schedule ${scheduleIdFor(inv.cluster.name)} still runs with an older copy of this inventory (differs in: ${differs.join(', ')}); ` +
    `its runs will use the old hosts and keys until you update it: mooring backup schedule update -c ${file}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
  return v;
}

export async function listBackupSchedules(client: Client, cluster?: string): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('backup/')) continue;
    if (cluster && s.scheduleId !== scheduleIdFor(cluster)) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    const summary = summarize(d);
    const last = d.info.recentActions.at(-1)?.action.workflow;
    if (last) {
      const w = await client.workflow.getHandle(last.workflowId, last.firstExecutionRunId).describe().catch(() => undefined);
      if (w) summary.lastResult = resultText(w.status.name, w.typedSearchAttributes.get(PHASE));
    }
    out.push(summary);
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export function summarize(d: ScheduleDescription): ScheduleSummary {
  const asGiven = (d.memo as { spec?: unknown } | undefined)?.spec;
  const spec = (typeof asGiven === 'string' ? asGiven : [
    ...(d.spec.intervals ?? []).map((i) => `every ${msText(i.every)}`),
    ...(d.spec.calendars ?? []).map((c) => `calendar ${JSON.stringify(c)}`),
    ...((d.spec as { cronExpressions?: string[] }).cronExpressions ?? []).map((c) => `cron ${c}`),
  ].join(', ')) + (d.spec.jitter ? ` (jitter ${msText(d.spec.jitter)})` : '');
  return {
    scheduleId: d.scheduleId,
    cluster: d.typedSearchAttributes.get(CLUSTER),
    spec,
    paused: d.state.paused,
    note: d.state.note,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.slice(-5).map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    overlap: String(d.policies.overlap),
  };
}

/** One word or two for how a backup run ended, from its status and MooringPhase. */
export function resultText(status: string, phase: string | undefined): string {
  if (phase === 'skipped-busy') return 'SKIPPED (cluster busy)';
  if (phase === 'degraded' || phase === 'completed-degraded') return 'DEGRADED (no off-site copy)';
  if (status === 'RUNNING') return `running${phase ? ` (${phase})` : ''}`;
  if (status === 'COMPLETED') return phase && phase !== 'completed' ? `ok (${phase})` : 'ok';
  return `${status}${phase ? ` (${phase})` : ''}`;
}

function msText(d: unknown): string {
  const ms = typeof d === 'number' ? d : Number(d);
  if (!Number.isFinite(ms)) return String(d);
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** Runs an action on a schedule, turning "not found" into a message that says what exists. */
export async function onSchedule<T>(client: Client, cluster: string, fn: (h: ReturnType<Client['schedule']['getHandle']>) => Promise<T>): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(scheduleIdFor(cluster)));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`no backup schedule for cluster ${cluster}: create one with \`mooring backup schedule create -c FILE\``);
    throw err;
  }
}
