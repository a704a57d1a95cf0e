// Records one recovery history on the code of the checkout it is compiled in: how the old-shape
// histories in test/histories were made. Copy it into a worktree at the commit before a patch
// (e.g. `git worktree add --detach ../old 242a97d^`, node_modules and .tools symlinked), build
// there, and under the lab lock run
//   node dist/test/replay/record-old-shape.js local|remote|replaced-follower OUT.json
// local:             majority recovery from a snapshot on etcd-1 (the inventory has a backup section)
// remote:            majority recovery with a backup in the bucket and no snapshot left on the members
// replaced-follower: follower recovery of a node with an empty disk and no /etc/etcd/ssl
// Lab subnet 127.25.0 (no test uses it). It relies only on APIs the commits since 9526b05 share.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl } from '../../lab/etcd-cluster.js';
import { loadInventory } from '../../config/load.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { findTool } from '../../client/tools.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { startTestWorker } from '../helpers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const [mode, out] = process.argv.slice(2);
if (!['local', 'remote', 'replaced-follower'].includes(mode ?? '') || !out) throw new Error('usage: record-old-shape.js local|remote|replaced-follower OUT.json');
const dir = mkdtempSync(join(tmpdir(), 'mooring-record-old-'));
const lab = new Lab({ dir, subnet: '127.25.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('record-old');
const w = await startTestWorker(t.address, taskQueue);
try {
  const inv = await loadInventory(lab.inventoryFile);
  if (!inv.backup) throw new Error('the lab inventory has no backup section');
  const etcd1 = lab.etcdMembers().find((m) => m.name === 'etcd-1')!;
  const canary = { key: 'replay-canary', value: 'written-before-the-failure' };
  await hostEtcdctl(lab.etcdSettings, etcd1, lab.etcdMembers().map((m) => clientEndpoint(lab.etcdSettings, m)), ['put', canary.key, canary.value], 10);
  const record = (workflowId: string, runId: string) => {
    const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']);
    writeFileSync(out, json);
    process.stdout.write(`recorded ${out}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
  };
  const approve = async (handle: Awaited<ReturnType<typeof startRunbook>>) => {
    await eventually('the gate', async () => {
      if ((await handle.describe()).status.name !== 'RUNNING') throw new Error(`ended before its gate: ${JSON.stringify((await handle.query(progressQuery)).steps)}`);
      return (await handle.query(progressQuery)).pendingApproval;
    }, 120_000, 200);
    await decide(t.client, handle.workflowId, { approved: true, by: 'recorder', comment: 'recorded for the replay test' });
  };

  if (mode === 'replaced-follower') {
    // A replaced node, as the later lab fault replace-node makes it.
    lab.loseDisk('etcd-3');
    rmSync(lab.viewPath('etcd-3', '/etc/etcd/ssl'), { recursive: true, force: true });
    mkdirSync(lab.viewPath('etcd-3', '/etc/etcd/ssl'), { recursive: true });
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, { taskQueue, member: 'etcd-3', canary });
    await approve(handle);
    const err = await handle.result().then(() => undefined, (e: Error) => e);
    const said = err ? `${err.message} ${(err.cause as Error | undefined)?.message ?? ''}` : 'success';
    if (!/no etcd certificates/.test(said)) throw new Error(`expected the old refusal of a node without certificates, got ${said}`);
    record(handle.workflowId, handle.firstExecutionRunId);
  } else {
    if (mode === 'local') {
      await hostEtcdctl(lab.etcdSettings, etcd1, [clientEndpoint(lab.etcdSettings, etcd1)], ['snapshot', 'save', join(lab.viewPath('etcd-1', '/var/backups/etcd'), 'replay-local.db')], 10);
    } else {
      const b = await startRunbook(t.client, findRunbook('etcd-backup'), inv, { taskQueue });
      const r = (await b.result()) as { outcome: string; uploaded?: { key: string } };
      if (!r.uploaded) throw new Error(`backup did not upload: ${JSON.stringify(r)}`);
      for (const m of lab.etcdMembers()) {
        const d = lab.viewPath(m.name, inv.backup.localDir);
        if (existsSync(d)) for (const f of readdirSync(d)) rmSync(join(d, f), { recursive: true, force: true });
      }
    }
    lab.killMajority();
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-majority'), inv, { taskQueue, canary });
    await approve(handle);
    const r = (await handle.result()) as { recovered?: string; snapshot?: { remoteKey?: string } };
    if (r.recovered?.split(',').length !== 3) throw new Error(`not three members back: ${JSON.stringify(r)}`);
    if (mode === 'remote' && !r.snapshot?.remoteKey) throw new Error(`the off-site snapshot was not used: ${JSON.stringify(r.snapshot)}`);
    record(handle.workflowId, handle.firstExecutionRunId);
  }
} finally {
  await w.stop();
  await t.stop();
  await lab.down();
  rmSync(dir, { recursive: true, force: true });
}
