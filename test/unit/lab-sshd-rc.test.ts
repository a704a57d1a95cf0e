// The lab's sshd runs every command through root's login shell (ForceCommand), and Debian's bash
// sources ~/.bashrc for a command sent over SSH when it is a top-level shell. The lab's
// sshd_config sets SHLVL=1 for its sessions so the machine's rc files never run (on this machine
// root's runs `pyenv init`, which could stall each lab login 60 s on a stale lock). Checked here
// with the machine's real bash the way sshd starts it (SSH_CLIENT set, a HOME whose .bashrc leaves
// a mark): without SHLVL the rc file runs (the hazard is real), with SHLVL=1 it does not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshdConfig } from '../../lab/sshd.js';

describe('lab sshd: commands run without the machine\'s shell rc files', () => {
  it('the generated sshd_config sets SHLVL=1 for every session', () => {
    const conf = sshdConfig({ ip: '127.24.0.1', port: 22, nodeDir: '/n', labDir: '/l', nodeName: 'etcd-1', nodeShell: '/l/bin/node-shell' });
    assert.match(conf, /^SetEnv SHLVL=1$/m);
  });

  it('bash started as sshd starts it reads ~/.bashrc when SHLVL is unset, and not with SHLVL=1', () => {
    const home = mkdtempSync(join(tmpdir(), 'mooring-rc-'));
    try {
      const mark = join(home, 'rc-ran');
      writeFileSync(join(home, '.bashrc'), `touch '${mark}'\n`);
      const run = (extra: Record<string, string>) => {
        rmSync(mark, { force: true });
        execFileSync('/bin/bash', ['-c', 'true'], { env: { HOME: home, PATH: '/usr/bin:/bin', SSH_CLIENT: '127.0.0.1 50000 22', ...extra }, stdio: ['ignore', 'ignore', 'ignore'] });
        return existsSync(mark);
      };
      assert.equal(run({}), true, 'bash sourced ~/.bashrc for an SSH command (Debian\'s SSH_SOURCE_BASHRC): the reason for SetEnv');
      assert.equal(run({ SHLVL: '1' }), false, 'with SHLVL=1 no rc file runs');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
