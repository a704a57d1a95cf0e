// `etcd-status` end to end: real Temporal, real worker and activities, the lab's TLS etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('etcd-status on the lab (real etcd, sshd, Temporal)', () => {
  let stack: LabStack | undefined;
  let lab: Lab;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    stack = await startLabStack('status', '127.30.0');
    ({ lab, env } = stack);
  });
  after(async () => { await stack?.stop(); });

  const status = async () => {
    const r = await mooring(['run', 'etcd-status', '-c', lab.inventoryFile, '--wait', '-o', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { result: { members: { name: string; healthy: boolean; isLeader: boolean }[]; findings: string[]; quorum: boolean } };
  };

  it('three healthy members and exactly one leader; then a finding naming a killed member', async () => {
    const healthy = await status();
    assert.equal(healthy.result.members.filter((m) => m.healthy).length, 3);
    assert.equal(healthy.result.members.filter((m) => m.isLeader).length, 1);
    assert.deepEqual(healthy.result.findings, []);

    lab.killEtcd('etcd-2');
    const degraded = await status();
    assert.equal(degraded.result.quorum, true);
    assert.deepEqual(degraded.result.findings, ['etcd-2: etcd not healthy']);
  });
});
