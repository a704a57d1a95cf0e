// The lint rule that keeps workflow code deterministic, run through ESLint's own Node API on the
// project's eslint.config.js: a value import of an activity, a Node built-in or the client/worker
// packages is refused from a workflow file at any depth, and a type-only import of an activity
// is allowed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';

// The fixture is linted as text under a path that does not exist on disk, so the type-aware
// parser setup (projectService) and the one rule that needs types are turned off for it.
const eslint = new ESLint({
  cwd: PROJECT_ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
});

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, `ESLint linted ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${filePath} parsed`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const refused: [string, string][] = [
  // ROOT/ stands for the way up to the repository root from the fixture's folder.
  ['an activity', "import { createActivities } from 'ROOT/activities/index.js';"],
  ['an activity module in a sub-folder', "import { withSession } from 'ROOT/activities/ssh/access.js';"],
  ['the worker code of the repository', "import { runWorker } from 'ROOT/workers/worker.js';"],
  ['the client library of the repository', "import { startRunbook } from 'ROOT/client/start.js';"],
  ['an activity module beside an allowed pure one', "import { x } from 'ROOT/activities/backup/index.js';"],
  ['a Node built-in', "import { readFileSync } from 'node:fs';"],
  ['a Node built-in not in a hand-written list', "import { gzipSync } from 'node:zlib';"],
  ['a Node built-in without its prefix', "import assert from 'assert';"],
  ['@temporalio/client', "import { Client } from '@temporalio/client';"],
  ['a file inside @temporalio/worker', "import { Worker } from '@temporalio/worker/lib/worker.js';"],
  ['@temporalio/activity', "import { heartbeat } from '@temporalio/activity';"],
];

describe('workflow purity lint rule (eslint.config.js)', () => {
  for (const depth of ['workflows/lint-fixture.ts', 'workflows/a/lint-fixture.ts', 'workflows/a/b/lint-fixture.ts']) {
    for (const [what, code] of refused) {
      const source = code.replace("'ROOT/", `'${'../'.repeat(depth.split('/').length - 1)}`);
      it(`${depth}: refuses ${what}`, async () => {
        const messages = await restricted(depth, `${source}\nexport const x = 1;\n`);
        assert.ok(messages.length >= 1, `expected a no-restricted-imports error for ${JSON.stringify(source)} in ${depth}, got ${JSON.stringify(messages)}`);
      });
    }
    it(`${depth}: allows a type-only import of activities and @temporalio/workflow`, async () => {
      const up = '../'.repeat(depth.split('/').length - 1);
      const messages = await restricted(depth, `import type { MooringActivities } from '${up}activities/index.js';\nimport { proxyActivities } from '@temporalio/workflow';\nexport const a = proxyActivities<MooringActivities>({ startToCloseTimeout: '1m' });\n`);
      assert.deepEqual(messages, []);
    });
  }

  it('allows the pure modules the workflows share with activities, which import types only', async () => {
    for (const m of ['backup/local-names.js', 'backup/context.js']) {
      assert.deepEqual(await restricted('workflows/a/lint-fixture.ts', `import * as m from '../../activities/${m}';\nexport const x = m;\n`), [], m);
      const source = readFileSync(join(PROJECT_ROOT, 'activities', m.replace(/\.js$/, '.ts')), 'utf8');
      const runtimeImports = source.split('\n').filter((l) => /^\s*(import|export)\b.*\bfrom\b/.test(l) && !/^\s*(import|export) type\b/.test(l));
      assert.deepEqual(runtimeImports, [], `activities/${m} must stay pure to be allowed in workflows`);
    }
  });

  it('does not apply outside workflows/', async () => {
    assert.deepEqual(await restricted('activities/a/lint-fixture.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"), []);
  });
});
