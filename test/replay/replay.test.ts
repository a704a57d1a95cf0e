// Every recorded history (test/histories/*.json) must replay on today's workflow code: a change
// that would break a running workflow fails here, unless it is guarded with patched().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { randomBytes } from 'node:crypto';
import { codecWorkerOptions, workflowBundle } from '../../workers/worker.js';
import { AesGcmPayloadCodec } from '../../workers/codec/aes-gcm.js';
import { codecFromEnv } from '../../workers/codec/config.js';
import * as registeredWorkflows from '../../workflows/index.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const DIR = join(PROJECT_ROOT, 'test', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'before-patches.json').sort();

interface RecordedHistory {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowType: { name: string } };
    markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads?: { data?: string }[] }> };
  }[];
}
const read = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as RecordedHistory;
const workflowTypeOf = (h: RecordedHistory) => h.events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name;
/** The patch ids a history's markers record (the SDK's core_patch marker: {"id": …, "deprecated": …}). */
function patchMarkersOf(h: RecordedHistory): string[] {
  return h.events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') return [];
    const data = m.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

/** Every patch id the workflow sources name, by file (a non-literal id cannot be checked: refused). */
function patchIdsInWorkflows(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
  for (const file of walk(join(PROJECT_ROOT, 'workflows'))) {
    const src = readFileSync(file, 'utf8');
    const calls = src.match(/\b(?:patched|deprecatePatch)\(/g)?.length ?? 0;
    const ids = [...src.matchAll(/\b(?:patched|deprecatePatch)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
    assert.equal(ids.length, calls, `${relative(PROJECT_ROOT, file)}: every patched()/deprecatePatch() takes a literal 'id', so the replay test can find its histories`);
    for (const id of ids) found.set(id, relative(PROJECT_ROOT, file));
  }
  return found;
}

/** Workflow types the worker registers that no history in `list` runs. */
function workflowsWithoutHistory(list: string[]): string[] {
  const covered = new Set(list.map((f) => workflowTypeOf(read(f))));
  return Object.keys(registeredWorkflows).sort().filter((name) => !covered.has(name));
}

/**
 * Histories recorded before a patch was written, by patch id: a history recorded from released code
 * stands for the shape before every later patch of its workflow, so it is listed here rather than
 * copied to a `…-before-<id>.json` name.
 */
const BEFORE_FILE = join(DIR, 'before-patches.json');
const recordedBefore: Record<string, string[]> = existsSync(BEFORE_FILE) ? JSON.parse(readFileSync(BEFORE_FILE, 'utf8')) as Record<string, string[]> : {};

/**
 * For each patched() id in workflows/: a history in `list` must record its marker (the new shape),
 * and one named `…-before-<id>.json` or listed for the id in test/histories/before-patches.json, of
 * the same workflow type and without the marker, must stand for the shape before it (recorded from
 * code before the patch: a history where the branch is simply not taken would not prove that a run
 * started before the patch still replays).
 */
function patchShapeProblems(list: string[]): string[] {
  const histories = list.map((f) => ({ file: f, type: workflowTypeOf(read(f)), patches: new Set(patchMarkersOf(read(f))) }));
  const problems: string[] = [];
  for (const [id, file] of patchIdsInWorkflows()) {
    const withIt = histories.filter((h) => h.patches.has(id));
    if (!withIt.length) problems.push(`${id} (${file}): no history records its marker (the new shape): record one with test/replay/record-histories.ts`);
    const types = new Set(withIt.map((h) => h.type));
    const listed = recordedBefore[id] ?? [];
    for (const f of listed) if (!list.includes(f)) problems.push(`before-patches.json lists ${f} for ${id}, but there is no such history`);
    const old = histories.filter((h) => h.file.endsWith(`-before-${id}.json`) || listed.includes(h.file));
    if (!old.length) problems.push(`${id} (${file}): no history of the shape before the patch: list one recorded before it (e.g. from the last release) under "${id}" in test/histories/before-patches.json, or record one from the commit before it with test/replay/record-old-shape.ts as *-before-${id}.json`);
    for (const h of old) {
      if (h.patches.has(id)) problems.push(`${h.file} records the marker ${id}: it is not the shape before the patch`);
      if (withIt.length && !types.has(h.type)) problems.push(`${h.file} runs ${h.type}, but ${id} is recorded only in ${[...types].join(', ')}`);
    }
  }
  return problems;
}

// The replay worker is wired as the production worker: with MOORING_CODEC_KEYS set, through the
// payload codec and the failure converter that encodes messages.
const replayOptions = async () => codecWorkerOptions(await codecFromEnv('the replay test'));

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    assert.ok(files.length >= 2, `recorded histories in ${DIR}: ${files.join(', ')}`);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
      await Worker.runReplayHistory(await replayOptions(), history, file);
    });
  }

  it('every history recorded in clear replays with the payload codec on (turning encryption on keeps running workflows replaying)', async () => {
    const codec = new AesGcmPayloadCodec({ current: 'replay', keys: new Map([['replay', randomBytes(32)]]) });
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
      await Worker.runReplayHistory(await codecWorkerOptions(codec), history, file);
    }
  });

  it('has a recorded history for every workflow the worker registers (workflows/index.ts)', () => {
    assert.ok(Object.keys(registeredWorkflows).length > 0, 'workflows/index.ts exports workflows');
    const missing = workflowsWithoutHistory(files);
    assert.deepEqual(missing, [], `no recorded history in ${relative(PROJECT_ROOT, DIR)} for ${missing.join(', ')}: record one (test/replay/record-histories.ts, \`npm run record:histories\` under the lab lock) before it ships`);
  });

  it('has both shapes of every patched() branch: a history with its marker and one recorded before the patch', () => {
    const problems = patchShapeProblems(files);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('the coverage checks have teeth: leaving histories out is caught', () => {
    assert.deepEqual(workflowsWithoutHistory(files.filter((f) => !f.startsWith('recover-etcd-leader'))), ['recoverEtcdLeader']);
    assert.match(patchShapeProblems(files.filter((f) => f !== 'recover-etcd-majority-before-majority-remote-snapshots.json')).join('\n'), /majority-remote-snapshots .*no history of the shape before the patch/);
    assert.match(patchShapeProblems(files.filter((f) => !f.startsWith('recover-etcd-follower-lay-down'))).join('\n'), /lay-down-certificates .*no history records its marker/);
  });

  it('fails when the code no longer matches the history (the check has teeth)', async () => {
    const raw = JSON.parse(readFileSync(join(DIR, 'inventory-check-approved.json'), 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[] };
    // Pretend the released code scheduled another activity than today's code does.
    const first = raw.events.find((e) => e.activityTaskScheduledEventAttributes);
    assert.ok(first?.activityTaskScheduledEventAttributes, 'the history has an activity');
    first.activityTaskScheduledEventAttributes.activityType.name = 'probeHostAsReleasedLastYear';
    const tampered = raw;
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(tampered), 'tampered'),
      (err: unknown) => /nondetermin/i.test(`${(err as Error).name} ${(err as Error).message}`),
    );
  });
});
