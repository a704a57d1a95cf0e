// The CLI as a person meets it: --help on every command teaches, bad input exits non-zero with
// a message that names the problem.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mooring } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../../client/tools.js';

const COMMANDS = ['validate', 'server', 'worker', 'run', 'status', 'approve', 'reject', 'list', 'lab', 'lab up', 'lab down', 'lab status', 'lab fault', 'demo',
  'backup schedule create', 'backup schedule list', 'backup schedule pause', 'backup schedule trigger', 'recover etcd follower'];

describe('mooring CLI', () => {
  for (const cmd of COMMANDS) {
    it(`mooring ${cmd} --help explains itself`, async () => {
      const r = await mooring([...cmd.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: mooring ${cmd}`));
      assert.ok(r.stdout.split('\n').length > 4);
    });
  }

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
