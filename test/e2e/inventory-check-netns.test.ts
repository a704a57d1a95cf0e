// A runbook on the Kubernetes lab's networks: the real Temporal dev server, a real worker in this
// machine's namespace, and `mooring run inventory-check` on the inventory the netns lab writes.
// The worker reaches gw-1 only through its loopback entry (the bastion) and every other node
// through gw-1, with Mooring's own SSH code: each host's facts are its own (address, listeners).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { NetnsLab } from '../../lab/netns/netns-lab.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { mooring } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('inventory-check on the netns lab through the gateway bastion (real Temporal, real sshd)', () => {
  let lab: NetnsLab;
  let t: TestTemporal | undefined;
  let w: TestWorker | undefined;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    lab = new NetnsLab({ dir: scratchDir('mooring-netns-check-'), layout: { tag: 'ic', lan: 3, loopback: '127.63.0' }, apiCheck: 'tcp' });
    await lab.up();
    t = await startTestTemporal();
    const taskQueue = uniqueTaskQueue('netns-check');
    w = await startTestWorker(t.address, taskQueue);
    env = { TEMPORAL_ADDRESS: t.address, MOORING_TASK_QUEUE: taskQueue };
  });
  after(async () => {
    await w?.stop();
    await t?.stop();
    await lab?.down();
    assert.deepEqual(await lab.leftovers(), []);
  });

  it('probes every node through the bastion after approval', async () => {
    // Something listens on master-2's kubelet port, in master-2's namespace only: the check must see it there.
    lab.startInNode('master-2', ['python3', '-m', 'http.server', '10250', '--bind', lab.address('master-2')], 'squatter.log');
    await eventually('the squatter on master-2', async () => ((await lab.execIn('master-2', ['ss', '-ltnH'])).includes(`${lab.address('master-2')}:10250`) ? true : undefined));
    const started = await mooring(['run', 'inventory-check', '-c', lab.inventoryFile, '-o', 'json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    await eventually('the approval gate', async () => {
      const s = JSON.parse((await mooring(['status', workflowId, '-o', 'json'], env)).stdout) as { progress?: { pendingApproval?: unknown } };
      return s.progress?.pendingApproval ? s : undefined;
    });
    assert.equal(lab.commandsReceived('master-1').length, 0, 'no host is touched before approval');
    const approved = await mooring(['approve', workflowId, '--by', 'alice', '--comment', 'netns lab'], env);
    assert.equal(approved.code, 0, approved.stderr);
    const followed = await mooring(['status', workflowId, '--follow'], env);
    assert.equal(followed.code, 0, followed.stderr);
    const done = JSON.parse((await mooring(['status', workflowId, '-o', 'json'], env)).stdout) as { status: string; result: { hosts: { name: string; busyPorts: number[] }[] } };
    assert.equal(done.status, 'COMPLETED');
    const hosts = new Map(done.result.hosts.map((h) => [h.name, h]));
    assert.deepEqual([...hosts.keys()].sort(), ['gw-1', 'gw-2', 'master-1', 'master-2', 'master-3', 'worker-1']);
    // Each answer came from the node itself: every node ran the probe on its own sshd, and only
    // master-2's namespace has the squatter on 10250.
    for (const name of hosts.keys()) assert.ok(lab.commandsReceived(name).length > 0, `${name} received the probe`);
    assert.deepEqual(hosts.get('master-2')!.busyPorts, [10250]);
    for (const name of ['master-1', 'master-3', 'worker-1']) assert.ok(!hosts.get(name)!.busyPorts.includes(10250), `${name}: 10250 free in its own namespace`);
  });
});
