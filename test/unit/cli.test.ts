// The CLI as a person meets it: --help on every command teaches, bad input exits non-zero with
// a message that names the problem.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { mooring } from '../helpers/cli.js';
import { buildProgram } from '../../client/cli.js';
import { PROJECT_ROOT } from '../../client/tools.js';

const COMMANDS = ['validate', 'server', 'worker', 'run', 'status', 'approve', 'reject', 'list', 'lab', 'lab up', 'lab down', 'lab status', 'lab fault', 'demo',
  'backup schedule create', 'backup schedule list', 'backup schedule pause', 'backup schedule trigger', 'recover etcd follower', 'doctor', 'completion'];

/** Every command of the program, with the text its --help prints (the after-help sections included). */
function allHelp(): { path: string; help: string }[] {
  const out: { path: string; help: string }[] = [];
  const walk = (cmd: Command, path: string) => {
    let help = '';
    cmd.configureOutput({ writeOut: (s) => { help += s; } });
    cmd.outputHelp();
    out.push({ path, help });
    for (const c of cmd.commands) walk(c, `${path} ${c.name()}`);
  };
  walk(buildProgram(), 'mooring');
  return out;
}

describe('mooring CLI', () => {
  for (const cmd of COMMANDS) {
    it(`mooring ${cmd} --help explains itself`, async () => {
      const r = await mooring([...cmd.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: mooring ${cmd}`));
      assert.ok(r.stdout.split('\n').length > 4);
    });
  }

  it('every command\'s --help teaches by example', () => {
    const all = allHelp();
    assert.ok(all.length > 40, `only ${all.length} commands found`);
    const without = all.filter((c) => !/\nExamples?[^\n]*:\n {2}\S/.test(c.help)).map((c) => c.path);
    assert.deepEqual(without, []);
  });

  it('every command that shows data offers -o table|json|yaml', () => {
    const withOutput = allHelp().filter((c) => /-o, --output <format>/.test(c.help));
    for (const c of withOutput) assert.match(c.help.replace(/\s+/g, ' '), /choices: "table", "json", "yaml"/, c.path);
    const paths = withOutput.map((c) => c.path.replace(/^mooring /, ''));
    for (const p of ['list', 'status', 'run', 'validate', 'doctor', 'lab status', 'backup list', 'backup status', 'backup run', 'backup verify', 'backup schedule list', 'recover etcd follower']) assert.ok(paths.includes(p), p);
  });

  it('-o yaml carries the same data as -o json', async () => {
    const file = join(PROJECT_ROOT, 'config/examples/seed-001-openstack-external-etcd.yaml');
    const [json, yaml] = await Promise.all([mooring(['validate', '-c', file, '-o', 'json']), mooring(['validate', '-c', file, '-o', 'yaml'])]);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.doesNotMatch(yaml.stdout, /^\s*[{[]/);
    assert.deepEqual(parse(yaml.stdout), JSON.parse(json.stdout));
    const bad = await mooring(['validate', '-c', '/nonexistent/x.yaml', '-o', 'yaml']);
    assert.equal(bad.code, 2);
    assert.equal((parse(bad.stdout) as { valid: boolean }).valid, false);
  });

  it('validate reports a valid example with its hosts', async () => {
    const r = await mooring(['validate', '-c', join(PROJECT_ROOT, 'config/examples/seed-002-openstack-stacked-etcd.yaml'), '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { valid: boolean; cluster: string; hosts: unknown[] };
    assert.deepEqual([j.valid, j.cluster, j.hosts.length], [true, 'managed-k8s', 7]);
  });

  it('validate exits 2 for a missing file and names it', async () => {
    const r = await mooring(['validate', '-c', '/nonexistent/cluster.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\/nonexistent\/cluster\.yaml: .*cannot read: ENOENT/s);
  });

  it('run refuses an unknown runbook and lists the known ones', async () => {
    const r = await mooring(['run', 'rm-rf', '-c', join(PROJECT_ROOT, 'config/examples/seed-002-openstack-stacked-etcd.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown runbook "rm-rf": choose one of inventory-check/);
  });

  it('list refuses a cluster name that is not a safe name (no query injection)', async () => {
    const r = await mooring(['list', '--cluster', 'x" OR 1=1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--cluster "x" OR 1=1" is not a valid name/);
  });
});
