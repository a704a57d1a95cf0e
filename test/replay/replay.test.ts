// Every recorded history (test/histories/*.json) must replay on today's workflow code: a change
// that would break a running workflow fails here, unless it is guarded with patched().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { workflowBundle } from '../../workers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const DIR = join(PROJECT_ROOT, 'test', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    assert.ok(files.length >= 2, `recorded histories in ${DIR}: ${files.join(', ')}`);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }

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
