// Quoting is proven by a real shell; fingerprints by the real ssh-keygen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, shellQuote } from '../../activities/ssh/quote.js';
import { checkHostKey, fingerprint, keyBlob } from '../../activities/ssh/host-key.js';
import { scratchDir } from '../helpers/scratch.js';

describe('shell quoting', () => {
  const nasty = ["it's", '$(touch /tmp/pwned)', '`id`', 'a b\tc\nd', '"; rm -rf / #', '', '--flag', '\\', "''", '*', '~root'];
  for (const value of nasty) {
    it(`passes ${JSON.stringify(value)} through /bin/sh unchanged`, () => {
      const out = execFileSync('/bin/sh', ['-c', sh`printf %s ${value}`]);
      assert.equal(out.toString(), value);
    });
  }
  it('quotes arrays as separate words', () => {
    const out = execFileSync('/bin/sh', ['-c', `${sh`printf '%s|' ${['a b', "c'd"]}`}`]);
    assert.equal(out.toString(), "a b|c'd|");
  });
  it('refuses NUL bytes', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});

describe('host key pinning', () => {
  const dir = scratchDir('hk-');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'a')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'b')]);
  const pubA = readFileSync(join(dir, 'a.pub'), 'utf8').trim();
  const pubB = readFileSync(join(dir, 'b.pub'), 'utf8').trim();

  it('computes the same fingerprint as ssh-keygen -lf', () => {
    const expected = execFileSync('ssh-keygen', ['-lf', join(dir, 'a.pub')]).toString().split(' ')[1];
    assert.equal(fingerprint(keyBlob(pubA)), expected);
  });
  it('accepts the pinned key and refuses another, saying what to do', () => {
    assert.equal(checkHostKey('10.0.0.1', pubA, keyBlob(pubA), 'masters[0]'), null);
    const msg = checkHostKey('10.0.0.1', pubA, keyBlob(pubB), 'masters[0]');
    assert.match(msg ?? '', /presented host key SHA256:.* but masters\[0\]\.hostKey pins SHA256:/);
    assert.match(msg ?? '', /verify the new key out of band/);
  });
  it('refuses an unpinned host and names the field to fill', () => {
    assert.match(checkHostKey('10.0.0.1', undefined, keyBlob(pubA), 'workers[1]') ?? '', /no pinned host key \(workers\[1\]\.hostKey\)/);
  });
});
