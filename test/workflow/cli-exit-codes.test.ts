// The CLI's exit codes and its Temporal connection on every way a command ends, on the real dev
// server. The probe activity is a FAKE (these tests are about how the CLI ends, not about hosts).
// `runCli` runs the real command in this process, so the test can see that each path closed the
// connection it opened (before, `fail()` called process.exit and skipped every `finally`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { HostFacts } from '../../activities/index.js';
import type { ProbeHostInput } from '../../activities/inventory/probe.js';
import { runCli } from '../../client/cli.js';
import { openClientConnections } from '../../client/connect.js';
import { ExitCode } from '../../client/exit-codes.js';
import { decide } from '../../client/decide.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { testInventory } from '../helpers/inventory.js';
import { mooring } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** FAKE probe: every host answers at once. */
const probeHost = async (input: ProbeHostInput): Promise<HostFacts> => ({
  name: input.host.name, ip: input.host.ip, os: 'Fake OS 1', kernel: 'Linux 6.1', uptimeSeconds: 60,
  disk: { mount: '/', sizeBytes: 2 ** 30, availBytes: 2 ** 29, usedPercent: 50 }, busyPorts: [], freePorts: input.expectedPorts,
});

describe('CLI exit codes and connections (real Temporal dev server, FAKE probe activity)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  const taskQueue = uniqueTaskQueue('exit');
  const dir = scratchDir('exit-codes-');
  const fileFor = (cluster: string) => {
    const f = join(dir, `${cluster}.yaml`);
    writeFileSync(f, stringify(testInventory(cluster)));
    return f;
  };
  const cli = (args: string[]) => runCli([...args, '--address', t.address, '--task-queue', taskQueue]);
  const gate = (workflowId: string) => eventually('the approval gate', async () => (await t.client.workflow.getHandle(workflowId).query(progressQuery)).pendingApproval);

  before(async () => {
    t = await startTestTemporal();
    w = await startTestWorker(t.address, taskQueue, { probeHost });
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
  });

  it('approval timed out: 5; the connection is closed', async () => {
    const code = await cli(['run', 'inventory-check', '-c', fileFor('x1'), '--wait', '--approval-timeout', '1s']);
    assert.equal(code, ExitCode.approvalTimedOut);
    assert.equal(openClientConnections(), 0);
  });

  it('rejected: 4; approved: 0; each closes its connection', async () => {
    const file = fileFor('x2');
    const rejected = cli(['run', 'inventory-check', '-c', file, '--wait']);
    await gate('inventory-check/x2');
    await decide(t.client, 'inventory-check/x2', { approved: false, by: 'test', comment: 'no' });
    assert.equal(await rejected, ExitCode.rejected);
    assert.equal(openClientConnections(), 0);

    const approved = cli(['run', 'inventory-check', '-c', file, '--wait']);
    await gate('inventory-check/x2');
    await decide(t.client, 'inventory-check/x2', { approved: true, by: 'test' });
    assert.equal(await approved, ExitCode.ok);
    assert.equal(openClientConnections(), 0);
  });

  it('busy: 3 with the connection closed; invalid input: 2 before connecting; a missing schedule: 1', async () => {
    const file = fileFor('x3');
    const first = await t.client.workflow.start('inventoryCheck', { workflowId: 'inventory-check/x3', taskQueue, args: [{ inventory: testInventory('x3') }] });
    try {
      assert.equal(await cli(['run', 'inventory-check', '-c', file]), ExitCode.busy);
      assert.equal(openClientConnections(), 0);
    } finally {
      await first.terminate('test done');
    }
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: mooring/v1\ncluster: { name: "Not Valid" }\n');
    assert.equal(await cli(['run', 'inventory-check', '-c', bad]), ExitCode.invalidInput);
    assert.equal(await runCli(['backup', 'schedule', 'pause', 'nothing-here', '--address', t.address]), ExitCode.failed);
    assert.equal(await runCli(['backup', 'schedule', 'pause', 'nothing-here', '--no-such-flag']), ExitCode.invalidInput, 'a usage error: commander does not exit the process');
    assert.equal(openClientConnections(), 0);
  });

  it('the installed command exits with the same codes (5 for a timed-out approval)', async () => {
    const r = await mooring(['run', 'inventory-check', '-c', fileFor('x4'), '--wait', '--approval-timeout', '1s'], { TEMPORAL_ADDRESS: t.address, MOORING_TASK_QUEUE: taskQueue });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /\[ApprovalTimedOut\]/);
    const help = await mooring(['--help']);
    assert.match(help.stdout, /Exit codes:[\s\S]*4 {2}the approval was rejected[\s\S]*6 {2}backup degraded/);
  });
});
