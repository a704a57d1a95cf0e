// stallGuarded() runs for real here, in /bin/sh on this machine, around stand-in transfers: one
// that stops writing, one that keeps writing slowly, one that fails on its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sh } from '../../activities/ssh/quote.js';
import { stallGuarded, stallMessage } from '../../activities/backup/stall-guard.js';

function run(script: string) {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr.trim() };
}

describe('stallGuarded: a transfer cut off when its file stops growing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mooring-stall-'));
  const file = join(dir, 'snap.db.part');

  it('a transfer that writes once and then hangs is killed after the stall, with the message as the last stderr line', () => {
    rmSync(file, { force: true });
    const r = run(stallGuarded(sh`sh -c ${`printf x > ${file}; echo started >&2; exec sleep 60`}`, file, 2));
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.split('\n').at(-1), stallMessage(file, 2));
  });

  it('a transfer that never creates its file (a member that accepts nothing) is killed too', () => {
    rmSync(file, { force: true });
    const r = run(stallGuarded('sleep 60', file, 2));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /stopped sending/);
  });

  it('a slow transfer that keeps writing runs to its end and keeps its exit status 0', () => {
    rmSync(file, { force: true });
    // a byte every 0.5 s for 4 s: longer than the 2 s stall, never 2 s without growth
    const r = run(stallGuarded(sh`sh -c ${`for i in 1 2 3 4 5 6 7 8; do printf x >> ${file}; sleep 0.5; done`}`, file, 2));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('a transfer that fails on its own exits with its own status and no stall message', () => {
    const r = run(stallGuarded(sh`sh -c ${'echo refused >&2; exit 3'}`, file, 2));
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'refused');
  });

  it('refuses a stall bound under 2 s or not whole', () => {
    assert.throws(() => stallGuarded('true', file, 1), /stallSeconds/);
    assert.throws(() => stallGuarded('true', file, 2.5), /stallSeconds/);
    rmSync(dir, { recursive: true, force: true });
  });
});
