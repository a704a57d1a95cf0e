// The CLI starts without loading what the command does not use, and prints no third-party warning.
// Each command runs as a subprocess with test/helpers/record-imports.js, which records every module
// the process loads; timing is not asserted here (bench/cli.ts measures it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../../client/tools.js';
import { scratchDir } from '../helpers/scratch.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-imports.js', import.meta.url));
const EXAMPLE = join(PROJECT_ROOT, 'config/examples/seed-002-openstack-stacked-etcd.yaml');
/** What `--help` and `validate` must not load: each costs hundreds of milliseconds at start-up. */
const HEAVY = /\/node_modules\/(@aws-sdk|@smithy|@temporalio\/(client|worker|common|envconfig|proto|core-bridge)|@grpc|ssh2|node-forge|protobufjs)\//;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

interface Run { code: number; stdout: string; stderr: string; loaded: string[] }

function run(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Run> {
  const record = join(scratchDir('mooring-imports-'), 'loaded.txt');
  writeFileSync(record, '');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', RECORDER, ...nodeArgs, join(PROJECT_ROOT, 'bin/mooring.js'), ...args],
      { env: { ...process.env, NO_COLOR: '1', MOORING_RECORD_IMPORTS: record, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
        const loaded = [...new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean))];
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, loaded });
      });
  });
}

const packagesOf = (loaded: string[]) => [...new Set(loaded.filter((u) => HEAVY.test(u)).map((u) => u.split('/node_modules/').pop()!.split('/').slice(0, 2).join('/')))];

describe('CLI start-up', () => {
  for (const args of [['--help'], ['validate', '-c', EXAMPLE], ['validate', '-c', EXAMPLE, '-o', 'json'], ['run', '--help'], ['backup', 'list', '--help'], ['lab', '--help'], ['doctor', '--help'], ['completion', 'bash'], ['validate', '-c', EXAMPLE, '-o', 'yaml'], ['codec-server', '--help'], ['upgrade', '--help']]) {
    it(`mooring ${args.join(' ').replace(PROJECT_ROOT, '')} loads no Temporal client, AWS SDK or ssh2 and prints nothing on stderr`, async () => {
      const r = await run(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.ok(r.stdout.length > 0);
      // The recorder works: it saw commander (and, for validate, zod).
      assert.ok(r.loaded.some((u) => u.includes('/node_modules/commander/')), 'the recorder saw nothing');
      if (args[0] === 'validate') assert.ok(r.loaded.some((u) => u.includes('/node_modules/zod/')));
      assert.deepEqual(packagesOf(r.loaded), []);
    });
  }

  // A command that does use the AWS SDK: it loads (the recorder catches it), and the SDK's Node.js
  // version warning stays off stderr. The endpoint refuses connections, so the command fails fast.
  const backupList = (env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) => {
    const dir = scratchDir('mooring-cli-s3-');
    const inv = join(dir, 'cluster.yaml');
    writeFileSync(inv, readFileSync(EXAMPLE, 'utf8').replace('https://object-store.example.org', 'http://127.0.0.1:9'));
    return run(['backup', 'list', '-c', inv], { MOORING_S3_ACCESS_KEY: 'test', MOORING_S3_SECRET_KEY: 'test-secret', ...env }, nodeArgs);
  };

  it('backup list loads the AWS SDK and prints its own error, no SDK warning', async () => {
    const r = await backupList();
    assert.equal(r.code, 1);
    assert.ok(packagesOf(r.loaded).some((p) => p.startsWith('@aws-sdk/')), 'the S3 client was never loaded: this test proves nothing');
    assert.match(r.stderr, /^mooring: /);
    assert.doesNotMatch(r.stderr, /Warning|AWS SDK/);
  });

  // Reports, as the process exits, the value the SDK saw: the CLI only fills the variable in when unset.
  const reportVariable = ['--import', `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('sdk-warning-disabled=' + process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED + '\\n'))")}`];

  it('the SDK warning is off only by default: a user who sets the variable gets it', async () => {
    const byDefault = await backupList({}, reportVariable);
    assert.match(byDefault.stderr, /^sdk-warning-disabled=true$/m);
    const r = await backupList({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }, reportVariable);
    assert.match(r.stderr, /^sdk-warning-disabled=false$/m, 'the user\'s setting is left as it is');
    // The SDK itself warns only on Node.js below 22; there, the user's setting brings the warning back.
    if (NODE_MAJOR < 22) assert.match(r.stderr, /NodeVersionSupportWarning/);
  });

  it('bin/mooring.js says what to do when dist/ is not built', async () => {
    const dir = scratchDir('mooring-unbuilt-');
    const bin = join(dir, 'bin', 'mooring.js');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    copyFileSync(join(PROJECT_ROOT, 'bin/mooring.js'), bin);
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => execFile(process.execPath, [bin, '--help'], (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr })));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not built yet \(no dist\/client\/cli\.js\): run `npm run build` in /);
  });
});
