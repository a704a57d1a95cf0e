// `mooring doctor` against the real Temporal dev server: every check passes on a machine set up
// right, and each failure (no server, a namespace without Mooring's search attributes, no worker,
// a key others can read, a public key, no clouds.yaml, a cloud clouds.yaml lacks) is reported
// with a fix, and where the fix is a command, running it makes the check pass.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { msToTs } from '@temporalio/common/lib/time.js';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { findTool } from '../../client/tools.js';
import type { CheckResult } from '../../client/doctor/report.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { testInventory } from '../helpers/inventory.js';
import { mooring } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { freeLoopbackPorts } from '../helpers/ports.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('mooring doctor (real Temporal dev server)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  const taskQueue = uniqueTaskQueue('doctor');
  const dir = scratchDir('doctor-');
  const key = join(dir, 'id_ed25519');
  const env = { HOME: dir, OS_CLIENT_CONFIG_FILE: '', OS_CLOUD: '', OS_AUTH_URL: '' };

  const inventoryFile = (name: string, over: Record<string, unknown> = {}) => {
    const file = join(dir, `${name}.yaml`);
    const inv = { ...JSON.parse(JSON.stringify(testInventory(name))) as Record<string, unknown>, ...over };
    writeFileSync(file, stringify(inv));
    return file;
  };
  const doctor = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = await mooring(['doctor', '--task-queue', taskQueue, '-o', 'json', ...args], { ...env, ...extraEnv });
    const results = JSON.parse(r.stdout) as CheckResult[];
    return { code: r.code, stderr: r.stderr, byName: Object.fromEntries(results.map((c) => [c.check, c])) as Record<string, CheckResult> };
  };

  before(async () => {
    t = await startTestTemporal();
    // One FAKE activity: a worker polls the activity queue only when it has activities (the real one has them all).
    w = await startTestWorker(t.address, taskQueue, { probeHost: async () => { throw new Error('FAKE: never called'); } });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'doctor-test', '-f', key]);
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
  });

  it('a machine set up right: every check passes, exit 0', async () => {
    const file = inventoryFile('good', { ssh: { user: 'root', privateKeyPath: key } });
    const r = await eventually('the worker to show as a poller', async () => {
      const d = await doctor(['--address', t.address, '-c', file]);
      if (d.byName.worker?.status !== 'ok') throw new Error(d.byName.worker?.detail);
      return d;
    }, 30_000, 500);
    assert.equal(r.code, 0, r.stderr);
    for (const c of ['temporal', 'search attributes', 'worker', 'inventory', 'ssh key']) assert.equal(r.byName[c]?.status, 'ok', `${c}: ${r.byName[c]?.detail}`);
    assert.match(r.byName.temporal!.detail, new RegExp(`reachable at ${t.address.replace(/\./g, '\\.')} \\(namespace default`));
    assert.equal(r.byName['clouds.yaml']?.status, 'skip');
    assert.notEqual(r.byName['lab tools']?.status, 'fail');
  });

  it('no server: temporal fails with the way to start one, the checks that need it are skipped, exit 1', async () => {
    const [port] = await freeLoopbackPorts(1);
    const r = await doctor(['--address', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.byName.temporal?.status, 'fail');
    assert.match(r.byName.temporal!.fix!, /mooring server/);
    assert.deepEqual([r.byName['search attributes']?.status, r.byName.worker?.status], ['skip', 'skip']);
    assert.match(r.stderr, /doctor: temporal failed/);
  });

  it('a namespace without Mooring\'s search attributes and workers: both fail; running the printed fix makes the search attributes pass', async () => {
    await t.connection.workflowService.registerNamespace({ namespace: 'bare', workflowExecutionRetentionPeriod: msToTs('1 day') });
    const r = await eventually('the new namespace to answer', async () => {
      const d = await doctor(['--address', t.address, '--namespace', 'bare']);
      return d.byName.temporal?.status === 'ok' ? d : undefined;
    }, 30_000, 500);
    assert.equal(r.code, 1);
    assert.equal(r.byName['search attributes']?.status, 'fail');
    assert.match(r.byName['search attributes']!.detail, /missing: MooringCluster, MooringRunbook, MooringPhase/);
    assert.equal(r.byName.worker?.status, 'fail');
    assert.match(r.byName.worker!.fix!, new RegExp(`mooring worker --address ${t.address} --namespace bare --task-queue ${taskQueue}`));

    for (const line of r.byName['search attributes']!.fix!.split('\n')) {
      const [cmd, ...args] = line.split(' ');
      assert.equal(cmd, 'temporal');
      execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), args, { stdio: 'pipe' });
    }
    const fixed = await eventually('the search attributes to be registered', async () => {
      const d = await doctor(['--address', t.address, '--namespace', 'bare']);
      return d.byName['search attributes']?.status === 'ok' ? d : undefined;
    }, 30_000, 500);
    assert.equal(fixed.byName.worker?.status, 'fail');
  });

  it('the SSH key: readable by others fails with chmod 600 (which fixes it); a public key fails', async () => {
    const file = inventoryFile('keys', { ssh: { user: 'root', privateKeyPath: key } });
    chmodSync(key, 0o644);
    const loose = await doctor(['--address', t.address, '-c', file]);
    assert.equal(loose.code, 1);
    assert.equal(loose.byName['ssh key']?.status, 'fail');
    assert.match(loose.byName['ssh key']!.detail, /mode 0644/);
    assert.equal(loose.byName['ssh key']!.fix, `chmod 600 ${key}`);
    chmodSync(key, 0o600);
    assert.equal((await doctor(['--address', t.address, '-c', file])).byName['ssh key']?.status, 'ok');

    const pub = await doctor(['--address', t.address, '-c', inventoryFile('pub', { ssh: { user: 'root', privateKeyPath: `${key}.pub` } })]);
    assert.equal(pub.byName['ssh key']?.status, 'fail');
    assert.match(pub.byName['ssh key']!.detail, /is a public key/);
  });

  it('an OpenStack inventory: clouds.yaml missing, lacking the cloud, then found (OS_CLIENT_CONFIG_FILE)', async () => {
    const inv = JSON.parse(JSON.stringify(testInventory('os'))) as Record<string, unknown>;
    const file = inventoryFile('os', {
      provider: { type: 'openstack', openstack: { cloud: 'paas', region: 'RegionOne', network: { name: 'net', cidr: '10.0.0.0/24' }, floatingNetwork: 'public', image: 'debian-12', flavors: { master: 'm1', worker: 'w1' }, keyName: 'admin', floatingIps: 'none' } },
      ssh: { ...(inv.ssh as object), privateKeyPath: key, hostKeySeed: { env: 'MOORING_TEST_HOST_KEY_SEED' } },
    });
    const none = await doctor(['--address', t.address, '-c', file]);
    assert.equal(none.byName['clouds.yaml']?.status, 'fail', JSON.stringify(none.byName));
    assert.match(none.byName['clouds.yaml']!.detail, /cloud "paas" was asked for \(provider\.openstack\.cloud\) but no clouds\.yaml was found/);

    const clouds = join(dir, 'clouds.yaml');
    writeFileSync(clouds, stringify({ clouds: { other: { auth: { auth_url: 'https://keystone.example:5000/v3' } } } }), { mode: 0o600 });
    const other = await doctor(['--address', t.address, '-c', file], { OS_CLIENT_CONFIG_FILE: clouds });
    assert.equal(other.byName['clouds.yaml']?.status, 'fail');
    assert.match(other.byName['clouds.yaml']!.detail, /no cloud "paas" \(it has: other\)/);

    writeFileSync(clouds, stringify({ clouds: { paas: { auth: { auth_url: 'https://keystone.example:5000/v3', username: 'ops', password: 'not-shown', project_name: 'paas' } } } }), { mode: 0o600 });
    const found = await doctor(['--address', t.address, '-c', file], { OS_CLIENT_CONFIG_FILE: clouds });
    assert.equal(found.byName['clouds.yaml']?.status, 'ok', found.byName['clouds.yaml']?.detail);
    assert.doesNotMatch(JSON.stringify(found.byName['clouds.yaml']), /not-shown/, 'doctor never shows the password');
  });

  it('an invalid inventory is a failed check that points to validate', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: mooring/v0\n');
    const r = await doctor(['--address', t.address, '-c', file]);
    assert.equal(r.code, 1);
    assert.equal(r.byName.inventory?.status, 'fail');
    assert.equal(r.byName.inventory!.fix, `mooring validate -c ${file}`);
  });
});
