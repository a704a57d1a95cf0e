// Recovery benchmark: the follower recovery runbook (through Temporal, with its checks) against a
// plain shell script doing the same steps over ssh, on the same lab, in the same run. Prints each
// time and the ratio. `npm run bench:recovery` (needs root, like the lab).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../lab/lab.js';
import { clientEndpoint, memberHealthy } from '../lab/etcd-cluster.js';
import { loadInventory } from '../config/load.js';
import { findRunbook } from '../client/runbooks.js';
import { startRunbook } from '../client/start.js';
import { decide } from '../client/decide.js';
import { progressQuery } from '../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../test/helpers/temporal.js';
import { startTestWorker } from '../test/helpers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const lab = new Lab({ dir: mkdtempSync(join(tmpdir(), 'mooring-bench-')), subnet: '127.34.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('bench');
const w = await startTestWorker(t.address, taskQueue);
const healthyAll = async () => (await Promise.all(lab.etcdMembers().map((m) => memberHealthy(lab.etcdSettings, m)))).every(Boolean);
try {
  const inv = await loadInventory(lab.inventoryFile);
  const members = lab.etcdMembers();
  const endpoints = members.map((m) => clientEndpoint(lab.etcdSettings, m)).join(',');
  const initial = members.map((m) => `${m.name}=https://${m.ip}:2380`).join(',');
  const key = inv.ssh.privateKeyPath;
  const mooringTimes: number[] = [];
  const shellTimes: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    lab.killEtcd('etcd-2');
    let started = Date.now();
    const h = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, { taskQueue });
    await eventually('gate', async () => (await h.query(progressQuery)).pendingApproval, 60_000, 50);
    await decide(t.client, h.workflowId, { approved: true, by: 'bench' });
    await h.result();
    mooringTimes.push(Date.now() - started);
    if (!(await healthyAll())) throw new Error('cluster not healthy after the runbook');

    lab.killEtcd('etcd-2');
    started = Date.now();
    await run(fileURLToPath(new URL('../../bench/follower-baseline.sh', import.meta.url)), [key, members[0]!.ip, 'etcd-2', members[1]!.ip, endpoints, initial]);
    shellTimes.push(Date.now() - started);
    if (!(await healthyAll())) throw new Error('cluster not healthy after the shell baseline');
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const m = median(mooringTimes);
  const s = median(shellTimes);
  process.stdout.write([
    `follower recovery on the lab, ${ROUNDS} rounds each (median; the runbook includes its assessment, approval round trip and verification)`,
    `  mooring runbook : ${(m / 1000).toFixed(2)} s   (${mooringTimes.map((x) => (x / 1000).toFixed(2)).join(', ')})`,
    `  plain shell     : ${(s / 1000).toFixed(2)} s   (${shellTimes.map((x) => (x / 1000).toFixed(2)).join(', ')})`,
    `  ratio mooring/shell: ${(m / s).toFixed(2)}`,
    '',
  ].join('\n'));
} finally {
  await w.stop();
  await t.stop();
  await lab.down();
}
