// scripts/ensure-setup.sh, which `npm start` and `npm test` run first: set-up happens when it is
// missing or stale and not otherwise. Run in a scratch copy of the project's layout whose
// scripts/setup.sh is a stand-in that counts its runs and makes what the real one makes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';
import { scratchDir } from '../helpers/scratch.js';

const STANDIN_SETUP = `#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
echo run >> setup-runs
[ -f fail-setup ] && { echo "stand-in setup failing" >&2; exit 1; }
mkdir -p node_modules .tools/bin
cp package-lock.json node_modules/.package-lock.json
printf '#!/bin/sh\\n' > .tools/bin/some-tool && chmod +x .tools/bin/some-tool
`;

function project(): string {
  const dir = scratchDir('mooring-ensure-setup-');
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(PROJECT_ROOT, 'scripts/ensure-setup.sh'), join(dir, 'scripts/ensure-setup.sh'));
  writeFileSync(join(dir, 'scripts/setup.sh'), STANDIN_SETUP);
  writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  mkdirSync(join(dir, 'docker'));
  writeFileSync(join(dir, 'docker/versions.env'), 'NODE_VERSION=24.0.0\n');
  return dir;
}

function ensure(dir: string, ...args: string[]): { code: number; out: string; runs: number } {
  const r = spawnSync('bash', [join(dir, 'scripts/ensure-setup.sh'), ...args], { encoding: 'utf8' });
  let runs = 0;
  try { runs = readFileSync(join(dir, 'setup-runs'), 'utf8').split('\n').filter(Boolean).length; } catch { /* never ran */ }
  return { code: r.status ?? 1, out: r.stdout + r.stderr, runs };
}

describe('ensure-setup', () => {
  it('runs set-up on a fresh clone, then not again', () => {
    const dir = project();
    const first = ensure(dir);
    assert.equal(first.code, 0, first.out);
    assert.equal(first.runs, 1);
    assert.match(first.out, /node_modules is missing: running scripts\/setup\.sh/);
    const second = ensure(dir);
    assert.equal(second.code, 0, second.out);
    assert.equal(second.runs, 1, 'a second call must not run set-up');
    assert.match(second.out, /up to date/);
  });

  it('runs set-up again when package-lock.json or setup.sh changed', () => {
    const dir = project();
    ensure(dir);
    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion": 3, "changed": true}\n');
    assert.equal(ensure(dir).runs, 2);
    assert.equal(ensure(dir).runs, 2);
    appendFileSync(join(dir, 'scripts/setup.sh'), '# a new step\n');
    const r = ensure(dir);
    assert.equal(r.runs, 3);
    assert.match(r.out, /package-lock\.json, scripts\/setup\.sh, docker\/versions\.env or Node\.js changed/);
    // A new pinned version (the Node 24 or Temporal server set-up installs) redoes set-up too.
    appendFileSync(join(dir, 'docker/versions.env'), 'TEMPORAL_VERSION=1.0.0\n');
    assert.equal(ensure(dir).runs, 4);
    assert.equal(ensure(dir).runs, 4);
  });

  it('runs set-up again when a tool it installed or node_modules is gone', () => {
    const dir = project();
    ensure(dir);
    rmSync(join(dir, '.tools/bin/some-tool'));
    const r = ensure(dir);
    assert.equal(r.runs, 2);
    assert.match(r.out, /\.tools\/bin\/some-tool is missing/);
    rmSync(join(dir, 'node_modules'), { recursive: true });
    assert.equal(ensure(dir).runs, 3);
  });

  it('a failed set-up fails the command and is retried next time', () => {
    const dir = project();
    writeFileSync(join(dir, 'fail-setup'), '');
    const r = ensure(dir);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /stand-in setup failing/);
    rmSync(join(dir, 'fail-setup'));
    const again = ensure(dir);
    assert.equal(again.code, 0, again.out);
    assert.equal(again.runs, 2);
  });

  it('--force (npm run setup) always runs set-up', () => {
    const dir = project();
    ensure(dir);
    assert.equal(ensure(dir, '--force').runs, 2);
  });

  it('the project is wired to it: npm start and npm test', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const s of ['start', 'test']) assert.match(pkg.scripts[s] ?? '', /^bash scripts\/ensure-setup\.sh && /, `npm ${s}`);
    // bash -n: the script at least parses, whatever machine runs this test.
    execFileSync('bash', ['-n', join(PROJECT_ROOT, 'scripts/ensure-setup.sh')]);
  });
});
