// The upgrade runbook's etcd part on the lab: a real three-member TLS etcd cluster on Debian's
// 3.4 behind real sshd is upgraded 3.4 → 3.5 → 3.6 with the binaries set-up built (found through
// etcd.binaries.source), member by member, leader last, after a snapshot taken by the real
// etcd-backup runbook as a child run into the lab's real S3. Also: a member whose new release
// does not start (a SIMULATED broken release: a script that reports the version and exits) stops
// the run with its old binary and data in place, and a second run after the upgrade does nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy, nodeSystemctl } from '../../lab/etcd-cluster.js';
import { nodeRoot } from '../../lab/node-view.js';
import { etcdCacheDir } from '../../client/tools.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { decideUpdate, progressQuery } from '../../workflows/runbook/definitions.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { eventually, type TestTemporal } from '../helpers/temporal.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { scratchDir } from '../helpers/scratch.js';
import { mooring } from '../helpers/cli.js';
import { stringify } from 'yaml';

Runtime.install({ logger: new DefaultLogger('ERROR') });

// No node runs Kubernetes in this lab, and its Kubernetes builds take half an hour of set-up: the
// Kubernetes release source is a SIMULATED one, a directory per release holding an executable
// named kubeadm (only the listing reads it; nothing runs it). etcd's releases are the real builds
// in etcd.binaries.source. With no control plane found, the plan is etcd-only.
const K8S_RELEASES = ['1.33.7', '1.35.4', '1.36.3', '1.37.2'];

function simulatedKubernetesReleases(): string {
  const dir = scratchDir('mooring-upgrade-k8s-releases-');
  for (const v of K8S_RELEASES) {
    mkdirSync(join(dir, v));
    writeFileSync(join(dir, v, 'kubeadm'), '#!/bin/sh\necho "SIMULATED release directory: this kubeadm is never run" >&2\nexit 1\n', { mode: 0o755 });
  }
  return join(dir, '{version}');
}

describe('upgrade on the lab: external etcd 3.4 → 3.5 → 3.6 member by member (real etcd, sshd, S3, Temporal)', () => {
  let stack: LabStack | undefined;
  let t: TestTemporal;
  let lab: Lab;
  let inv: Inventory;
  let invFile: string;
  let env: NodeJS.ProcessEnv;

  const members = () => lab.etcdMembers();
  const etcdctl = (args: string[], via = 'etcd-1') => hostEtcdctl(lab.etcdSettings, members().find((m) => m.name === via)!, members().map((m) => clientEndpoint(lab.etcdSettings, m)), args, 5);
  const versions = async () => Object.fromEntries(await Promise.all(members().map(async (m) => {
    const out = await hostEtcdctl(lab.etcdSettings, m, [clientEndpoint(lab.etcdSettings, m)], ['endpoint', 'status', '-w', 'json'], 5);
    return [m.name, /"version":"([^"]+)"/.exec(out)?.[1]] as const;
  })));

  async function run(inventory: Inventory, to: string, approve = true): Promise<{ result?: UpgradeResult; error?: WorkflowFailedError; handle: ReturnType<TestTemporal['client']['workflow']['getHandle']> }> {
    const handle = await startRunbook(t.client, findRunbook('upgrade'), inventory, { to, canary: { key: 'canary', value: 'before-the-upgrade' }, taskQueue: stack!.taskQueue });
    if (approve) {
      const gate = await eventually('the upgrade approval gate', async () => {
        const p = await handle.query(progressQuery);
        if (p.phase.startsWith('failed') || p.phase === 'completed') throw new Error(`the run ended before its gate: ${p.phase} ${p.steps.map((s) => s.detail).join(' | ')}`);
        return p.pendingApproval;
      }, 90_000, 300);
      assert.equal(gate.step, 'approve');
      await handle.executeUpdate(decideUpdate, { args: [{ step: 'approve', approved: true, by: 'oncall', comment: 'upgrade test', identity: 'test' }] });
    }
    try {
      return { result: await handle.result() as UpgradeResult, handle };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { error: err, handle };
      throw err;
    }
  }

  before(async () => {
    stack = await startLabStack('upgrade', '127.74.0', { etcdVersion: '3.4' });
    ({ lab, t, env } = stack);
    const labInv = await loadInventory(lab.inventoryFile);
    inv = { ...labInv, kubernetes: { ...labInv.kubernetes, binaries: { source: simulatedKubernetesReleases(), installDir: '/usr/bin' } } };
    invFile = join(scratchDir('mooring-upgrade-inv-'), 'inventory.yaml');
    writeFileSync(invFile, stringify(inv));
    await etcdctl(['put', 'canary', 'before-the-upgrade']);
  });
  after(async () => { await stack?.stop(); });

  it('a member whose new release does not start stops the run; its old binary and data stay, the others keep quorum', async () => {
    // SIMULATED broken release 3.5.35: etcd answers --version and exits otherwise; etcdctl/etcdutl are the real 3.5.35.
    const src = scratchDir('mooring-upgrade-broken-');
    const dir = join(src, '3.5.35');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'etcd'), '#!/bin/sh\nif [ "$1" = --version ]; then echo "etcd Version: 3.5.35"; exit 0; fi\necho "SIMULATED broken release" >&2\nexit 1\n');
    chmodSync(join(dir, 'etcd'), 0o755);
    for (const tool of ['etcdctl', 'etcdutl']) copyFileSync(join(etcdCacheDir(), '3.5.35', tool), join(dir, tool));
    const broken: Inventory = { ...inv, etcd: { ...inv.etcd, binaries: { ...inv.etcd.binaries!, source: join(src, '{version}') } } };

    const { error, handle } = await run(broken, '1.33.7');
    assert.ok(error, 'the run failed');
    const p = await handle.query(progressQuery);
    const failed = p.steps.find((s) => s.status === 'failed');
    assert.ok(failed, JSON.stringify(p.steps));
    const victim = failed.id.split(':')[1]!;
    assert.match(failed.detail ?? '', new RegExp(`${victim} did not come back healthy on etcd 3\\.5\\.35; the upgrade stopped here\\. Its data is untouched in /var/lib/etcd`));
    assert.equal(p.steps.find((s) => s.id === 'snapshot')?.status, 'done', 'the snapshot came first');
    // The others still form the cluster, on 3.4, and hold the data.
    const others = members().filter((m) => m.name !== victim);
    for (const m of others) assert.ok(await memberHealthy(lab.etcdSettings, m), `${m.name} healthy`);
    assert.equal((await etcdctl(['get', 'canary', '--print-value-only'], others[0]!.name)).trim(), 'before-the-upgrade');
    // The old binary (Debian's /usr/bin/etcd) and the data dir are where they were: taking the
    // broken files away and starting the unit brings the member back on 3.4 with its data.
    const root = nodeRoot(lab.nodeDir(victim));
    assert.ok(existsSync(join(root, '/var/lib/etcd/member')), 'data dir untouched');
    for (const tool of ['etcd', 'etcdctl', 'etcdutl']) rmSync(join(root, '/usr/local/sbin', tool), { force: true });
    await nodeSystemctl(members().find((m) => m.name === victim)!, 'start', 'etcd');
    await eventually(`${victim} back on its old binary`, async () => memberHealthy(lab.etcdSettings, members().find((m) => m.name === victim)!), 30_000, 250);
    assert.deepEqual(new Set(Object.values(await versions())), new Set(['3.4.23']));
  });

  it('3.4 → 3.5 → 3.6: snapshot first, followers then the leader, agreement after each member, canary readable, every member on 3.6', async () => {
    const before = await versions();
    assert.ok(Object.values(before).every((v) => v?.startsWith('3.4.')), JSON.stringify(before));
    const plan = await mooring(['upgrade', '-c', invFile, '--to', '1.37.2', '--plan'], env);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /1\. etcd 3\.4\.23 → 3\.5\.35/);
    assert.deepEqual(await versions(), before, 'plan mode changed nothing');

    // Through the CLI, approved through the CLI, as an operator would.
    const running = mooring(['upgrade', '-c', invFile, '--to', '1.37.2', '--canary', 'canary=before-the-upgrade'], env, 900_000);
    await eventually('the upgrade approval gate', async () => (await t.client.workflow.getHandle('ops/lab').query(progressQuery).catch(() => undefined))?.pendingApproval, 90_000, 300);
    const ok = await mooring(['approve', 'ops/lab', '--by', 'oncall', '--comment', 'upgrade etcd'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const r = await running;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const handle = t.client.workflow.getHandle('ops/lab');
    const result = await handle.result() as UpgradeResult;
    assert.match(result.plan, /1\. etcd 3\.4\.23 → 3\.5\.35.*\n2\. etcd 3\.5\.35 → 3\.6\.16/);
    assert.match(result.plan, /No node runs a Kubernetes control plane/);
    assert.ok(result.snapshot?.key && result.snapshot.workflowId.startsWith('ops/lab/etcd-backup-'), JSON.stringify(result.snapshot));
    const child = await t.client.workflow.getHandle(result.snapshot.workflowId).result() as { outcome: string; uploaded?: { key: string } };
    assert.equal(child.outcome, 'completed');
    assert.equal(child.uploaded?.key, result.snapshot.key);

    const after = await versions();
    assert.deepEqual(after, { 'etcd-1': '3.6.16', 'etcd-2': '3.6.16', 'etcd-3': '3.6.16' });
    assert.equal((await etcdctl(['get', 'canary', '--print-value-only'])).trim(), 'before-the-upgrade');
    const list = (await etcdctl(['member', 'list'])).trim().split('\n');
    assert.equal(list.length, 3);
    assert.ok(list.every((l) => /, started, /.test(l) && /, false$/.test(l)), list.join('\n'));

    // Order: the member that led at the start of each hop went last, after leadership moved away.
    const p = await handle.query(progressQuery);
    // Time per step in the test's output (what a hop costs on the lab; bench:upgrade is not built).
    for (const s of p.steps) process.stderr.write(`  ${s.id}: ${s.endedAt && s.startedAt ? `${((s.endedAt - s.startedAt) / 1000).toFixed(1)}s` : '-'} ${s.detail ?? ''}\n`);
    for (const hop of ['etcd-1', 'etcd-2']) {
      const order = p.steps.find((s) => s.id === `${hop}:order`)!;
      const leader = /(etcd-\d) [\d.]+, leader/.exec(order.detail ?? '')?.[1];
      assert.ok(leader, order.detail);
      const memberSteps = p.steps.filter((s) => s.id.startsWith(`${hop}:etcd-`));
      assert.equal(memberSteps.length, 3);
      assert.equal(memberSteps.at(-1)!.id, `${hop}:${leader}`, `${hop}: the leader is upgraded last (${order.detail})`);
      assert.match(memberSteps.at(-1)!.detail ?? '', /leadership moved to etcd-\d/);
      for (const s of memberSteps) assert.match(s.detail ?? '', /all voting, revision \d+ on every member/);
      assert.match(p.steps.find((s) => s.id === `${hop}:cluster-version`)!.detail ?? '', hop === 'etcd-1' ? /etcdcluster 3\.5\./ : /etcdcluster 3\.6\./);
    }
    // The 3.5 binaries each member ran are kept (3.4 was Debian's /usr/bin/etcd, never touched).
    for (const m of members()) assert.ok(existsSync(join(nodeRoot(m.nodeDir), '/var/backups/etcd-binaries/3.5.35/etcd')), `${m.name} keeps 3.5.35`);
    assert.ok(existsSync(join(nodeRoot(members()[0]!.nodeDir), '/var/backups/etcd-binaries/3.5.35/etcdctl')));
  });

  it('run again: the versions read show nothing to do, so nothing is touched and no gate is asked', async () => {
    const { result } = await run(inv, '1.37.2', false);
    assert.ok(result);
    assert.match(result.plan, /Nothing to do/);
    assert.equal(result.snapshot, undefined);
    const refused = await mooring(['upgrade', '-c', invFile, '--to', '1.36.9', '--plan'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /1\.36\.9 is not a Kubernetes release the binary source offers \(1\.33\.7, 1\.35\.4, 1\.36\.3, 1\.37\.2\)/);
    const down = await mooring(['upgrade', '-c', invFile, '--to', '1.33.7', '--plan'], env);
    assert.equal(down.code, 0, 'no control plane: 1.33 needs etcd 3.5, which 3.6 satisfies');
    assert.deepEqual(await versions(), { 'etcd-1': '3.6.16', 'etcd-2': '3.6.16', 'etcd-3': '3.6.16' });
  });
});
