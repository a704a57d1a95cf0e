// `mooring completion bash|zsh`: the script the CLI prints is sourced into a real bash, and its
// completion function is called the way bash calls it on TAB (COMP_WORDS, COMP_CWORD); what it
// puts in COMPREPLY is what a person would be offered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mooring } from '../helpers/cli.js';

let dir: string;
let script: string;

/** COMPREPLY for the command line `words` with the cursor in the last word, sorted. */
function complete(words: string[]): string[] {
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _mooring; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', script, ...words], { cwd: dir, encoding: 'utf8' });
  return out.split('\n').filter(Boolean).sort();
}

describe('mooring completion', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mooring-completion-'));
    const r = await mooring(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    script = join(dir, 'mooring.bash');
    writeFileSync(script, r.stdout);
    mkdirSync(join(dir, 'clusters'));
    writeFileSync(join(dir, 'clusters', 'prod.yaml'), '');
    writeFileSync(join(dir, 'cluster.yaml'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bash: top-level commands, from the command tree', () => {
    assert.deepEqual(complete(['mooring', 'ba']), ['backup']);
    const all = complete(['mooring', '']);
    for (const c of ['validate', 'status', 'list', 'backup', 'recover', 'lab', 'completion']) assert.ok(all.includes(c), c);
  });

  it('bash: subcommands two levels down, and nothing after a finished path', () => {
    assert.deepEqual(complete(['mooring', 'backup', 'schedule', '']), ['create', 'delete', 'list', 'pause', 'resume', 'trigger', 'update']);
    assert.deepEqual(complete(['mooring', 'recover', 'etcd', 'f']), ['follower']);
    assert.deepEqual(complete(['mooring', 'completion', '']), ['bash', 'zsh']);
  });

  it('bash: options of the command typed, and an option\'s choices', () => {
    assert.deepEqual(complete(['mooring', 'validate', '--c']), ['--config']);
    assert.deepEqual(complete(['mooring', 'backup', 'schedule', 'list', '-o', '']), ['json', 'table', 'yaml']);
    assert.deepEqual(complete(['mooring', 'list', '--output', 'y']), ['yaml']);
    // --follow belongs to status, not to list
    assert.ok(complete(['mooring', 'status', '--f']).includes('--follow'));
    assert.deepEqual(complete(['mooring', 'list', '--f']), []);
  });

  it('bash: an option\'s value is skipped when finding the command, and files complete after -c', () => {
    // "backup" here is the value of --address, not the backup command
    assert.ok(complete(['mooring', 'status', '--address', 'backup', '--']).includes('--follow'));
    assert.deepEqual(complete(['mooring', 'validate', '-c', 'clu']), ['cluster.yaml', 'clusters']);
    assert.deepEqual(complete(['mooring', 'validate', '-c', 'clusters/']), ['clusters/prod.yaml']);
  });

  it('zsh: a script with the same tree, registered with compdef', async () => {
    const r = await mooring(['completion', 'zsh']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef mooring\n/);
    assert.match(r.stdout, /'backup schedule'\) echo 'create update list pause resume delete trigger'/);
    assert.match(r.stdout, /compdef _mooring mooring/);
    // The data functions are plain POSIX shell, shared with the bash script: check them in bash.
    const fns = r.stdout.split('\n_mooring() {')[0]!;
    const out = execFileSync('bash', ['--norc', '-c', `${fns}\n_mooring_path status --address backup --follow; _mooring_path backup schedule list`], { encoding: 'utf8' });
    assert.deepEqual(out.trim().split('\n'), ['status', 'backup schedule list']);
  });

  it('refuses a shell it does not know and names the choices', async () => {
    const r = await mooring(['completion', 'fish']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are bash, zsh/);
  });
});
