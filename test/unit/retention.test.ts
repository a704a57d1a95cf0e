// Retention planning: hand-checked small cases (exact keep/delete sets and reasons), then many
// synthetic timestamps compared with an independent reference implementation that computes
// periods arithmetically (epoch hours/days/weeks, year*12+month) and selects group-then-pick,
// where planRetention labels periods with calendar strings and scans newest-first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isoWeek, planRetention, renderRetentionPlan, type RetentionPolicy, type SnapshotForRetention } from '../../activities/backup/retention.js';

const H = 3_600_000, D = 24 * H, Q = 15 * 60_000;
const at = (iso: string) => Date.parse(iso);
const policy = (p: Partial<RetentionPolicy> = {}): RetentionPolicy => ({ keepLast: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, ...p });
const snap = (id: string, iso: string, verified = true, size?: number): SnapshotForRetention => ({ id, takenAt: new Date(iso), verified, ...(size !== undefined ? { size } : {}) });
const keptIds = (plan: ReturnType<typeof planRetention>) => plan.keep.map((k) => k.id).sort();
const deletedIds = (plan: ReturnType<typeof planRetention>) => plan.delete.map((d) => d.id).sort();
const reasonsOf = (plan: ReturnType<typeof planRetention>, id: string) => plan.keep.find((k) => k.id === id)?.reasons;

// ---- independent reference ------------------------------------------------------------------
type Kind = 'hourly' | 'daily' | 'weekly' | 'monthly';
function periodNumber(kind: Kind, ms: number): number {
  const day = Math.floor(ms / D);
  switch (kind) {
    case 'hourly': return Math.floor(ms / H);
    case 'daily': return day;
    // 1970-01-01 was a Thursday: Monday-based week number since the Monday before it.
    case 'weekly': return Math.floor((day + 3) / 7);
    case 'monthly': { const d = new Date(ms); return d.getUTCFullYear() * 12 + d.getUTCMonth(); }
  }
}
function newer(a: { id: string; ms: number }, b: { id: string; ms: number }): boolean {
  return a.ms > b.ms || (a.ms === b.ms && a.id > b.id);
}
function reference(snaps: SnapshotForRetention[], p: RetentionPolicy, now: number, protectedIds: string[] = []): { keep: string[]; del: string[] } {
  const all = snaps.map((s) => ({ id: s.id, ms: +s.takenAt, verified: s.verified }));
  const keep = new Set<string>();
  const eligible = all.filter((s) => s.verified && s.ms <= now);
  const newestFirst = [...eligible].sort((a, b) => (newer(a, b) ? -1 : 1));
  newestFirst.slice(0, p.keepLast).forEach((s) => keep.add(s.id));
  for (const kind of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    const best = new Map<number, { id: string; ms: number }>();
    for (const s of eligible) {
      const k = periodNumber(kind, s.ms);
      const cur = best.get(k);
      if (!cur || newer(s, cur)) best.set(k, s);
    }
    [...best.keys()].sort((a, b) => b - a).slice(0, p[kind]).forEach((k) => keep.add(best.get(k)!.id));
  }
  if (newestFirst[0]) keep.add(newestFirst[0].id);
  all.filter((s) => s.ms > now || protectedIds.includes(s.id)).forEach((s) => keep.add(s.id));
  return { keep: [...keep].sort(), del: all.map((s) => s.id).filter((id) => !keep.has(id)).sort() };
}

// A small, seeded PRNG (mulberry32) so the synthetic data is the same on every run.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('isoWeek', () => {
  const cases: [string, string][] = [
    ['2026-01-01T00:00:00Z', '2026-W01'], // a Thursday: 2026 has 53 weeks
    ['2026-12-28T00:00:00Z', '2026-W53'], ['2026-12-31T23:59:59Z', '2026-W53'],
    ['2027-01-01T00:00:00Z', '2026-W53'], ['2027-01-03T23:59:59Z', '2026-W53'], ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2020-12-31T12:00:00Z', '2020-W53'], ['2021-01-03T12:00:00Z', '2020-W53'], ['2021-01-04T00:00:00Z', '2021-W01'],
    ['2024-12-30T00:00:00Z', '2025-W01'], ['2024-12-29T23:59:59Z', '2024-W52'], ['2026-11-08T23:45:00Z', '2026-W45'],
  ];
  for (const [iso, want] of cases) it(`${iso} is in ${want}`, () => assert.equal(isoWeek(at(iso)), want));
});

describe('planRetention: hand-checked cases', () => {
  const now = at('2026-11-24T12:00:00Z');

  it('empty list: nothing kept, nothing deleted', () => {
    const plan = planRetention([], policy({ keepLast: 3, daily: 7 }), { now });
    assert.deepEqual(plan.keep, []);
    assert.deepEqual(plan.delete, []);
    assert.match(renderRetentionPlan(plan), /keep 0, delete 0\n\(no snapshots\)/);
  });

  it('all unverified: none fills a slot, all are deleted with the reason', () => {
    const snaps = [snap('a', '2026-11-20T10:00:00Z', false), snap('b', '2026-11-21T10:00:00Z', false)];
    const plan = planRetention(snaps, policy({ keepLast: 3, daily: 7, monthly: 6 }), { now });
    assert.deepEqual(plan.keep, []);
    assert.deepEqual(deletedIds(plan), ['a', 'b']);
    assert.match(plan.delete[0]!.reason, /^unverified/);
  });

  it('an unverified newest snapshot does not push the verified one out; its period goes to the verified one', () => {
    const snaps = [snap('good', '2026-11-20T10:00:00Z'), snap('bad', '2026-11-20T11:00:00Z', false), snap('old', '2026-11-19T10:00:00Z')];
    const plan = planRetention(snaps, policy({ keepLast: 1, daily: 1 }), { now });
    assert.deepEqual(keptIds(plan), ['good']);
    assert.deepEqual(reasonsOf(plan, 'good'), ['keep-last 1/1', 'newest of daily 2026-11-20', 'newest verified']);
    assert.deepEqual(deletedIds(plan), ['bad', 'old']);
  });

  it('keep-last and daily with exact reasons', () => {
    const snaps = [
      snap('d18', '2026-11-18T06:00:00Z'), snap('d19a', '2026-11-19T06:00:00Z'), snap('d19b', '2026-11-19T18:00:00Z'),
      snap('d20a', '2026-11-20T01:00:00Z'), snap('d20b', '2026-11-20T09:00:00Z'), snap('d20c', '2026-11-20T23:00:00Z'),
    ];
    const plan = planRetention(snaps, policy({ keepLast: 3, daily: 2 }), { now });
    assert.deepEqual(plan.keep.map((k) => [k.id, k.reasons]), [
      ['d20c', ['keep-last 1/3', 'newest of daily 2026-11-20', 'newest verified']],
      ['d20b', ['keep-last 2/3']],
      ['d20a', ['keep-last 3/3']],
      ['d19b', ['newest of daily 2026-11-19']],
    ]);
    assert.deepEqual(plan.delete.map((d) => d.id), ['d19a', 'd18']);
    assert.match(plan.delete[0]!.reason, /not selected by the policy \(keep-last 3, hourly 0, daily 2, weekly 0, monthly 0\)/);
  });

  it('periods without snapshots do not use up the count (restic semantics)', () => {
    // daily 3 over days with gaps: the three most recent days *that have snapshots*.
    const snaps = [snap('nov1', '2026-11-01T12:00:00Z'), snap('nov5', '2026-11-05T12:00:00Z'), snap('nov9', '2026-11-09T12:00:00Z'), snap('oct20', '2026-10-20T12:00:00Z')];
    const plan = planRetention(snaps, policy({ daily: 3 }), { now });
    assert.deepEqual(keptIds(plan), ['nov1', 'nov5', 'nov9']);
    assert.deepEqual(deletedIds(plan), ['oct20']);
  });

  it('ties on time: the greater id counts as the newer', () => {
    const snaps = [snap('m1-a', '2026-11-20T10:00:00Z'), snap('m1-b', '2026-11-20T10:00:00Z'), snap('m1-c', '2026-11-20T09:00:00Z')];
    const plan = planRetention(snaps, policy({ keepLast: 1, hourly: 2 }), { now });
    assert.deepEqual(reasonsOf(plan, 'm1-b'), ['keep-last 1/1', 'newest of hourly 2026-11-20 10:00Z', 'newest verified']);
    assert.deepEqual(reasonsOf(plan, 'm1-c'), ['newest of hourly 2026-11-20 09:00Z']);
    assert.deepEqual(deletedIds(plan), ['m1-a']);
    // The input order does not matter.
    assert.deepEqual(planRetention([...snaps].reverse(), policy({ keepLast: 1, hourly: 2 }), { now }), plan);
  });

  it('UTC day and hour boundaries: 23:59:59.999 and 00:00:00.000 are different days and hours', () => {
    const snaps = [snap('before', '2026-11-20T23:59:59.999Z'), snap('after', '2026-11-21T00:00:00.000Z'), snap('early', '2026-11-20T23:00:00.000Z')];
    assert.deepEqual(keptIds(planRetention(snaps, policy({ daily: 2 }), { now })), ['after', 'before']);
    assert.deepEqual(keptIds(planRetention(snaps, policy({ hourly: 1 }), { now })), ['after']);
    assert.deepEqual(keptIds(planRetention(snaps, policy({ hourly: 2 }), { now })), ['after', 'before']);
  });

  it('week 53: 2026-12-28 and 2027-01-03 are one ISO week, 2027-01-04 starts the next', () => {
    const snaps = [snap('mon-w53', '2026-12-28T08:00:00Z'), snap('sun-w53', '2027-01-03T08:00:00Z'), snap('mon-w01', '2027-01-04T08:00:00Z'), snap('w52', '2026-12-27T08:00:00Z')];
    const later = at('2027-01-10T00:00:00Z');
    const plan = planRetention(snaps, policy({ weekly: 2 }), { now: later });
    assert.deepEqual(reasonsOf(plan, 'sun-w53'), ['newest of weekly 2026-W53']);
    assert.deepEqual(reasonsOf(plan, 'mon-w01'), ['newest of weekly 2027-W01', 'newest verified']);
    assert.deepEqual(deletedIds(plan), ['mon-w53', 'w52']);
    assert.deepEqual(keptIds(planRetention(snaps, policy({ weekly: 3 }), { now: later })), ['mon-w01', 'sun-w53', 'w52']);
  });

  it('month boundaries, leap day, and the year turning', () => {
    const snaps = [
      snap('jan31', '2028-01-31T23:59:59Z'), snap('feb01', '2028-02-01T00:00:00Z'), snap('feb29', '2028-02-29T12:00:00Z'),
      snap('mar01', '2028-03-01T00:00:00Z'), snap('dec31', '2027-12-31T23:00:00Z'), snap('dec01', '2027-12-01T00:00:00Z'),
    ];
    const plan = planRetention(snaps, policy({ monthly: 3 }), { now: at('2028-04-01T00:00:00Z') });
    assert.deepEqual(plan.keep.map((k) => [k.id, k.reasons[0]]), [
      ['mar01', 'newest of monthly 2028-03'], ['feb29', 'newest of monthly 2028-02'], ['jan31', 'newest of monthly 2028-01'],
    ]);
    assert.deepEqual(deletedIds(plan), ['dec01', 'dec31', 'feb01']);
    assert.deepEqual(keptIds(planRetention(snaps, policy({ monthly: 4 }), { now: at('2028-04-01T00:00:00Z') })), ['dec31', 'feb29', 'jan31', 'mar01']);
  });

  it('the newest verified snapshot survives a policy that keeps nothing', () => {
    const snaps = [snap('a', '2026-11-20T10:00:00Z'), snap('b', '2026-11-21T10:00:00Z'), snap('c', '2026-11-22T10:00:00Z', false)];
    const plan = planRetention(snaps, policy(), { now });
    assert.deepEqual(plan.keep.map((k) => [k.id, k.reasons]), [['b', ['newest verified']]]);
    assert.deepEqual(deletedIds(plan), ['a', 'c']);
  });

  it('protected snapshots are kept, even old or unverified ones, with who protects them', () => {
    const snaps = [snap('old', '2025-01-01T00:00:00Z'), snap('bad', '2026-11-01T00:00:00Z', false), snap('new', '2026-11-22T00:00:00Z')];
    const plan = planRetention(snaps, policy({ keepLast: 1 }), { now, protectedIds: ['old', 'bad', 'not-there'], protectedBy: 'restore ops/x' });
    assert.deepEqual(reasonsOf(plan, 'old'), ['protected: referenced by restore ops/x']);
    assert.deepEqual(reasonsOf(plan, 'bad'), ['protected: referenced by restore ops/x']);
    assert.deepEqual(plan.delete, []);
    const plain = planRetention(snaps, policy({ keepLast: 1 }), { now, protectedIds: ['old'] });
    assert.deepEqual(reasonsOf(plain, 'old'), ['protected: referenced by a running restore']);
  });

  it('snapshots dated after now are kept and take no slot', () => {
    const snaps = [snap('future', '2026-12-01T00:00:00Z'), snap('a', '2026-11-23T00:00:00Z'), snap('b', '2026-11-22T00:00:00Z')];
    const plan = planRetention(snaps, policy({ keepLast: 1 }), { now });
    assert.deepEqual(keptIds(plan), ['a', 'future']);
    assert.match(reasonsOf(plan, 'future')![0]!, /^dated after now/);
    assert.deepEqual(reasonsOf(plan, 'a'), ['keep-last 1/1', 'newest verified']);
  });

  it('refuses duplicate ids, bad times and bad policies', () => {
    assert.throws(() => planRetention([snap('x', '2026-11-20T00:00:00Z'), snap('x', '2026-11-21T00:00:00Z')], policy(), { now }), /"x" appears twice/);
    assert.throws(() => planRetention([{ id: 'y', takenAt: new Date('nope'), verified: true }], policy(), { now }), /snapshot y takenAt: not a valid time/);
    assert.throws(() => planRetention([], policy({ daily: -1 }), { now }), /retention\.daily: -1/);
    assert.throws(() => planRetention([], policy({ keepLast: 1.5 }), { now }), /retention\.keepLast/);
  });

  it('the dry-run rendering lists every snapshot with its fate and reason, and the space freed', () => {
    const snaps = [snap('keepme', '2026-11-22T00:00:00Z', true, 3 * 1024 * 1024), snap('dropme', '2026-11-20T00:00:00Z', true, 1024 * 1024), snap('broken', '2026-11-21T00:00:00Z', false, 512)];
    const text = renderRetentionPlan(planRetention(snaps, policy({ keepLast: 1 }), { now }));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^Retention plan at 2026-11-24T12:00:00.000Z \(keep-last 1, hourly 0, daily 0, weekly 0, monthly 0\): keep 1, delete 2, freeing 1\.0 MiB$/);
    assert.match(lines[2]!, /^keep {4}2026-11-22T00:00:00.000Z {2}keepme .*verified .*3\.0 MiB {2}keep-last 1\/1; newest verified$/);
    assert.match(lines[3]!, /^DELETE {2}2026-11-21T00:00:00.000Z {2}broken .*UNVERIFIED .*512 B {2}unverified: /);
    assert.match(lines[4]!, /^DELETE {2}2026-11-20T00:00:00.000Z {2}dropme .*not selected by the policy/);
    assert.equal(lines.length, 5);
  });
});

describe('planRetention: synthetic history against the reference', () => {
  // Every 15 minutes for 100 days from 2026-08-01T00:00Z (the last one 2026-11-08T23:45Z, a Sunday).
  const start = at('2026-08-01T00:00:00Z');
  const regular = Array.from({ length: 100 * 96 }, (_, i) => ({ id: `s${String(i).padStart(5, '0')}`, takenAt: start + i * Q, verified: true }));
  const last = start + (100 * 96 - 1) * Q;

  it('hand count: the default policy keeps 38 of 9600 evenly spaced verified snapshots', () => {
    const plan = planRetention(regular, { keepLast: 3, hourly: 24, daily: 7, weekly: 4, monthly: 6 }, { now: last });
    const iso = (id: string) => new Date(regular.find((s) => s.id === id)!.takenAt).toISOString().slice(0, 16);
    const kept = plan.keep.map((k) => iso(k.id)).sort();
    const expected = [
      '2026-11-08T23:15', '2026-11-08T23:30', // keep-last (23:45 is also the newest of its hour)
      ...Array.from({ length: 24 }, (_, h) => `2026-11-08T${String(h).padStart(2, '0')}:45`), // hourly
      ...[2, 3, 4, 5, 6, 7].map((d) => `2026-11-0${d}T23:45`), // daily (8th already kept)
      '2026-10-18T23:45', '2026-10-25T23:45', '2026-11-01T23:45', // weekly: Sundays (this week's is kept already)
      '2026-08-31T23:45', '2026-09-30T23:45', '2026-10-31T23:45', // monthly: only four months have snapshots
    ].sort();
    assert.deepEqual(kept, expected);
    assert.equal(plan.delete.length, 9600 - 38);
  });

  const random = rng(20261124);
  const jittered: SnapshotForRetention[] = [];
  for (const [i, s] of regular.entries()) {
    const prev = jittered[i - 1];
    // ±7 minutes of jitter moves snapshots across hour/day/week/month edges; every 97th shares its
    // predecessor's exact time (ties).
    const takenAt = i % 97 === 0 && prev ? +prev.takenAt : s.takenAt + Math.round((random() - 0.5) * 14 * 60_000);
    jittered.push({ id: s.id, takenAt, verified: random() > 0.1 });
  }
  // Holes of whole days, so periods without snapshots occur.
  const holey = jittered.filter((s) => Math.floor(+s.takenAt / D) % 9 !== 4);
  const protectedIds = ['s00010', 's04444', 's09599'];
  const policies: RetentionPolicy[] = [
    { keepLast: 3, hourly: 24, daily: 7, weekly: 4, monthly: 6 },
    { keepLast: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0 },
    { keepLast: 1, hourly: 0, daily: 30, weekly: 0, monthly: 0 },
    { keepLast: 0, hourly: 500, daily: 0, weekly: 53, monthly: 12 },
    { keepLast: 50, hourly: 3, daily: 200, weekly: 2, monthly: 1 },
    { keepLast: 10000, hourly: 0, daily: 0, weekly: 0, monthly: 0 },
  ];
  const nows = [last, last - 3 * D + 7 * 60_000, start + 40 * D];

  for (const [name, data] of [['jittered', jittered], ['with day holes', holey]] as const) {
    for (const p of policies) {
      for (const now of nows) {
        it(`${name}, ${JSON.stringify(p)}, now ${new Date(now).toISOString()}`, () => {
          const plan = planRetention(data, p, { now, protectedIds });
          const ref = reference(data, p, now, protectedIds);
          assert.deepEqual(keptIds(plan), ref.keep);
          assert.deepEqual(deletedIds(plan), ref.del);
          assert.equal(plan.keep.length + plan.delete.length, data.length);
          // Invariants the reference also encodes, stated directly.
          const newestVerified = [...data].filter((s) => s.verified && +s.takenAt <= now).sort((a, b) => +b.takenAt - +a.takenAt || (a.id < b.id ? 1 : -1))[0];
          if (newestVerified) assert.ok(reasonsOf(plan, newestVerified.id)?.includes('newest verified'));
          for (const id of protectedIds) if (data.some((s) => s.id === id)) assert.ok(keptIds(plan).includes(id), `${id} is protected`);
          for (const k of plan.keep) if (!k.verified) assert.ok(k.reasons.every((r) => r.startsWith('protected') || r.startsWith('dated after now')), `${k.id}: ${k.reasons.join('; ')}`);
        });
      }
    }
  }
});
