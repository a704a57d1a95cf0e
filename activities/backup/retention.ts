// Which snapshots to keep and which to delete: a pure function (no clock, no I/O), so a dry run
// shows exactly what a real run will do, and the workflow can call it deterministically.
//
// Semantics follow restic/borg "forget":
// - keepLast N: the N newest snapshots.
// - hourly/daily/weekly/monthly N: for the N most recent periods that have a snapshot, the newest
//   snapshot of each period. Periods are UTC; weeks are ISO 8601 weeks (Monday first, a week
//   belongs to the year of its Thursday, so 2027-01-01 is in 2026-W53). A period without a
//   snapshot does not use up one of the N.
// - The newest verified snapshot is always kept, whatever the policy says.
// - Protected snapshots (e.g. the one a running restore reads) are always kept.
// Choices of our own:
// - Unverified snapshots (failed or unfinished verification) never fill a keep-last slot or a
//   period: a bad snapshot must not push a good one out. They are deleted unless protected.
// - Snapshots dated after `now` (clock skew) are kept and count for nothing: we do not delete
//   what we cannot place in time, and they must not occupy the newest slots.
// - Ties on time: the greater id counts as the newer, so the plan is the same on every run.

export interface RetentionPolicy {
  keepLast: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
}

export interface SnapshotForRetention {
  id: string;
  takenAt: Date | number;
  verified: boolean;
  size?: number;
}

export interface RetentionOptions {
  now: Date | number;
  protectedIds?: string[];
  /** Who protects them, for the reason text, e.g. "restore ops/lab". Default "a running restore". */
  protectedBy?: string;
}

export interface KeptSnapshot { id: string; takenAt: string; verified: boolean; size?: number; reasons: string[] }
export interface DeletedSnapshot { id: string; takenAt: string; verified: boolean; size?: number; reason: string }

/** JSON-safe (ISO strings, no Dates), so it can cross an activity boundary into workflow history. */
export interface RetentionPlan {
  now: string;
  policy: RetentionPolicy;
  keep: KeptSnapshot[];
  delete: DeletedSnapshot[];
}

export const BUCKETS = ['hourly', 'daily', 'weekly', 'monthly'] as const;
export type BucketKind = (typeof BUCKETS)[number];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week of a UTC instant: "2026-W53". */
export function isoWeek(ms: number): string {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / 86_400_000 / 7);
  return `${year}-W${pad(week)}`;
}

/** The period a UTC instant falls in, as the label used in reasons. Equal labels = same period. */
export function periodOf(kind: BucketKind, ms: number): string {
  const d = new Date(ms);
  const ymd = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  switch (kind) {
    case 'hourly': return `${ymd} ${pad(d.getUTCHours())}:00Z`;
    case 'daily': return ymd;
    case 'weekly': return isoWeek(ms);
    case 'monthly': return ymd.slice(0, 7);
  }
}

function toMs(t: Date | number, what: string): number {
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`${what}: not a valid time`);
  return ms;
}

function checkPolicy(p: RetentionPolicy): void {
  for (const k of ['keepLast', ...BUCKETS] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 0) throw new TypeError(`retention.${k}: ${p[k]} is not a whole number ≥ 0`);
  }
}

export function describePolicy(p: RetentionPolicy): string {
  return `keep-last ${p.keepLast}, hourly ${p.hourly}, daily ${p.daily}, weekly ${p.weekly}, monthly ${p.monthly}`;
}

export function planRetention(snapshots: SnapshotForRetention[], policy: RetentionPolicy, opts: RetentionOptions): RetentionPlan {
  checkPolicy(policy);
  const now = toMs(opts.now, 'now');
  const seen = new Set<string>();
  const items = snapshots.map((s) => {
    if (seen.has(s.id)) throw new TypeError(`snapshot id ${JSON.stringify(s.id)} appears twice: ids must be unique`);
    seen.add(s.id);
    return { s, ms: toMs(s.takenAt, `snapshot ${s.id} takenAt`), reasons: [] as string[] };
  });
  // Newest first; on equal times the greater id is the newer.
  items.sort((a, b) => b.ms - a.ms || (a.s.id < b.s.id ? 1 : a.s.id > b.s.id ? -1 : 0));

  const future = items.filter((i) => i.ms > now);
  for (const i of future) i.reasons.push(`dated after now (${new Date(now).toISOString()}): clock skew? kept, counted for nothing`);
  const candidates = items.filter((i) => i.ms <= now && i.s.verified);

  candidates.slice(0, policy.keepLast).forEach((i, n) => i.reasons.push(`keep-last ${n + 1}/${policy.keepLast}`));
  for (const kind of BUCKETS) {
    let used = 0;
    let last: string | undefined;
    for (const i of candidates) {
      if (used >= policy[kind]) break;
      const p = periodOf(kind, i.ms);
      if (p === last) continue; // an older snapshot of a period already kept
      last = p;
      used += 1;
      i.reasons.push(`newest of ${kind} ${p}`);
    }
  }
  if (candidates[0]) candidates[0].reasons.push('newest verified');
  const protectedIds = new Set(opts.protectedIds ?? []);
  for (const i of items) if (protectedIds.has(i.s.id)) i.reasons.push(`protected: referenced by ${opts.protectedBy ?? 'a running restore'}`);

  const plan: RetentionPlan = { now: new Date(now).toISOString(), policy: { ...policy }, keep: [], delete: [] };
  for (const i of items) {
    const base = { id: i.s.id, takenAt: new Date(i.ms).toISOString(), verified: i.s.verified, ...(i.s.size !== undefined ? { size: i.s.size } : {}) };
    if (i.reasons.length) plan.keep.push({ ...base, reasons: i.reasons });
    else plan.delete.push({ ...base, reason: i.s.verified ? `not selected by the policy (${describePolicy(policy)})` : 'unverified: failed or unfinished verification; never kept by policy' });
  }
  return plan;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A dry run's output: every snapshot, newest first, what happens to it and why. */
export function renderRetentionPlan(plan: RetentionPlan): string {
  const rows = [
    ...plan.keep.map((k) => ({ action: 'keep', ...k, why: k.reasons.join('; ') })),
    ...plan.delete.map((d) => ({ action: 'DELETE', ...d, why: d.reason })),
  ].sort((a, b) => b.takenAt.localeCompare(a.takenAt) || b.id.localeCompare(a.id));
  const freed = plan.delete.reduce((sum, d) => sum + (d.size ?? 0), 0);
  const head = `Retention plan at ${plan.now} (${describePolicy(plan.policy)}): keep ${plan.keep.length}, delete ${plan.delete.length}`
    + (plan.delete.some((d) => d.size !== undefined) ? `, freeing ${bytes(freed)}` : '');
  if (!rows.length) return `${head}\n(no snapshots)`;
  const idW = Math.max(2, ...rows.map((r) => r.id.length));
  const lines = rows.map((r) => [
    r.action.padEnd(6), r.takenAt.padEnd(24), r.id.padEnd(idW), (r.verified ? 'verified' : 'UNVERIFIED').padEnd(10), bytes(r.size).padStart(10), r.why,
  ].join('  '));
  const title = ['action'.padEnd(6), 'taken at'.padEnd(24), 'id'.padEnd(idW), 'state'.padEnd(10), 'size'.padStart(10), 'why'].join('  ');
  return [head, title, ...lines].join('\n');
}
