// The control-plane restart after a majority restore, on a lab master over real sshd with the
// SIMULATED crictl (the lab has no kubelet): the container IDs are taken first, a restart waits
// until the kubelet runs new containers, and a retried restart finishes the job instead of
// stopping the new containers again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Lab } from '../../lab/lab.js';
import { loadInventory } from '../../config/load.js';
import { createActivities } from '../../activities/index.js';
import { etcdTargetOf, masterRefsOf } from '../../workflows/etcd-recovery/target.js';
import { SshSession } from '../../activities/ssh/session.js';
import { scratchDir } from '../helpers/scratch.js';

/** Runs a real activity in a mock activity context (heartbeats, cancellation signal). */
const activity = <A, R>(fn: (a: A) => Promise<R>, a: A) => new MockActivityEnvironment().run(fn, a) as Promise<R>;

describe('control-plane restart on a lab master (real sshd, SIMULATED crictl)', () => {
  let lab: Lab;
  let args: { ssh: ReturnType<typeof etcdTargetOf>['ssh']; host: ReturnType<typeof masterRefsOf>[number]; apiserverReadiness: 'readyz' | 'none-simulated' };
  const acts = createActivities();
  const node = () => lab.nodeDir('master-1');
  const log = (f: string) => (existsSync(join(node(), f)) ? readFileSync(join(node(), f), 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('\t')) : []);
  /** The SIMULATED kubelet's state: three control-plane containers running, new ones take 1 s to start. */
  const freshMaster = () => {
    for (const f of ['control-plane-restarts.log', 'control-plane-running.log']) rmSync(join(node(), f), { force: true });
    writeFileSync(join(node(), 'containers'), 'kube-apiserver a0 0\nkube-controller-manager b0 0\nkube-scheduler c0 0\n');
    writeFileSync(join(node(), 'container-start-seconds'), '1');
  };

  before(async () => {
    lab = new Lab({ dir: join(scratchDir('cp-restart-'), 'lab'), subnet: '127.47.0', etcd: false });
    await lab.up();
    const inv = await loadInventory(lab.inventoryFile);
    // The lab's masters run no apiserver: its inventory says so (the /readyz probe is proven
    // against a real apiserver in apiserver-readyz.test.ts).
    assert.equal(inv.kubernetes.apiserverReadiness, 'none-simulated');
    args = { ssh: etcdTargetOf(inv).ssh, host: masterRefsOf(inv)[0]!, apiserverReadiness: inv.kubernetes.apiserverReadiness };
  });
  after(async () => { await lab?.down(); });

  it('takes the IDs, restarts, waits for the new containers; a retry stops nothing again', async () => {
    freshMaster();
    const seen = await activity(acts.controlPlaneContainers, args);
    assert.deepEqual(seen.containers.map((c) => `${c.name} ${c.id}`).sort(), ['kube-apiserver a0', 'kube-controller-manager b0', 'kube-scheduler c0']);

    const first = await activity(acts.restartControlPlane, { ...args, before: seen.containers });
    assert.equal(first.stopped.length, 3);
    assert.match(first.readyz ?? '', /^not probed: .*SIMULATED lab/);
    const restarts = log('control-plane-restarts.log');
    assert.deepEqual(restarts.map((r) => r[1]).sort(), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    // It returned only once the kubelet ran the new kube-apiserver (seen running after its start-up delay).
    const newApiserver = restarts.find((r) => r[1] === 'kube-apiserver')![3]!;
    const running = log('control-plane-running.log').find((r) => r[2] === newApiserver);
    assert.ok(running, 'the new kube-apiserver container was seen running before the activity returned');
    assert.ok(Number(running[0]) - Number(restarts.find((r) => r[1] === 'kube-apiserver')![0]) >= 1, 'it waited out the start-up');

    // The same activity again with the same IDs, as a retry after the worker died before reporting.
    const retry = await activity(acts.restartControlPlane, { ...args, before: seen.containers });
    assert.deepEqual(retry.stopped, []);
    assert.equal(retry.alreadyRestarted?.length, 3);
    assert.equal(log('control-plane-restarts.log').length, 3, 'the new containers were not stopped again');
  });

  it('a retry after a cut mid-stop stops only the containers still carrying their old IDs', async () => {
    freshMaster();
    const seen = await activity(acts.controlPlaneContainers, args);
    // The first attempt stopped kube-apiserver, then its SSH session was cut.
    const inv = await loadInventory(lab.inventoryFile);
    const m = inv.masters[0]!;
    const s = await SshSession.open({ name: m.name, host: m.ip, port: m.sshPort, hostKey: m.hostKey!, where: 'masters[0]' }, { user: inv.ssh.user, privateKey: readFileSync(inv.ssh.privateKeyPath), connectTimeoutMs: 10_000 });
    try { await s.run('crictl stop a0'); } finally { s.close(); }

    const retry = await activity(acts.restartControlPlane, { ...args, before: seen.containers });
    assert.deepEqual(retry.stopped.map((c) => c.split(' ')[0]).sort(), ['kube-controller-manager', 'kube-scheduler']);
    assert.deepEqual(retry.alreadyRestarted, ['kube-apiserver a0']);
    const restarts = log('control-plane-restarts.log');
    assert.deepEqual(restarts.map((r) => r[2]).sort(), ['a0', 'b0', 'c0'], 'each old container stopped once, no new one stopped');
  });
});
