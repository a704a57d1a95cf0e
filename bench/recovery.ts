// Recovery benchmark: each etcd recovery runbook (follower, leader, majority; through Temporal,
// with its checks) against a plain shell script doing the same steps over ssh, on the same lab, in
// the same run. Prints each runbook's time, the script's time and the ratio per scenario, then a
// summary. `npm run bench:recovery` (needs root, like the lab; BENCH_ROUNDS, default 3).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../lab/etcd-cluster.js';
import { loadInventory } from '../config/load.js';
import { findRunbook } from '../client/runbooks.js';
import { startRunbook } from '../client/start.js';
import { decide } from '../client/decide.js';
import { progressQuery } from '../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../test/helpers/temporal.js';
import { startTestWorker } from '../test/helpers/worker.js';
import { scratchDir } from '../test/helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const script = (name: string) => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const progress = (msg: string) => process.stderr.write(`[bench:recovery] ${msg}\n`);

interface Scenario { name: string; note: string; mooring: number[]; shell: number[] }

const lab = new Lab({ dir: scratchDir('mooring-bench-'), subnet: '127.34.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('bench');
const w = await startTestWorker(t.address, taskQueue);
const healthyAll = async () => (await Promise.all(lab.etcdMembers().map((m) => memberHealthy(lab.etcdSettings, m)))).every(Boolean);
try {
  const inv = await loadInventory(lab.inventoryFile);
  const members = lab.etcdMembers();
  const first = members[0]!;
  const endpointList = members.map((m) => clientEndpoint(lab.etcdSettings, m));
  const endpoints = endpointList.join(',');
  const initial = members.map((m) => `${m.name}=https://${m.ip}:2380`).join(',');
  const key = inv.ssh.privateKeyPath;
  const etcdctl = (args: string[], timeoutSeconds = 5) => hostEtcdctl(lab.etcdSettings, first, endpointList, args, timeoutSeconds);

  /** Starts a recovery runbook, approves it at its gate, waits for its end; returns the milliseconds. */
  async function runbook(name: string): Promise<number> {
    const started = Date.now();
    const h = await startRunbook(t.client, findRunbook(name), inv, { taskQueue });
    await eventually('gate', async () => (await h.query(progressQuery)).pendingApproval, 120_000, 50);
    await decide(t.client, h.workflowId, { approved: true, by: 'bench' });
    await h.result();
    const ms = Date.now() - started;
    // Where the runbook's time went, on stderr (stdout keeps the results only).
    const steps = (await h.query(progressQuery)).steps.filter((x) => x.startedAt !== undefined && x.endedAt !== undefined);
    progress(`${name} ${secs(ms)} s: ${steps.map((x) => `${x.id} ${secs(x.endedAt! - x.startedAt!)}`).join(', ')}`);
    return ms;
  }
  async function shell(file: string, args: string[]): Promise<number> {
    const started = Date.now();
    await run(script(file), args);
    return Date.now() - started;
  }
  /** Between rounds: every member healthy, three started voting members. */
  async function expectHealthy3(after: string): Promise<void> {
    const lines = (await etcdctl(['member', 'list'])).trim().split('\n');
    const voting = lines.filter((l) => /, started, /.test(l) && /, false$/.test(l));
    if (!(await healthyAll()) || voting.length !== 3) throw new Error(`cluster not healthy with 3 members after ${after}:\n${lines.join('\n')}`);
  }

  const scenarios: Scenario[] = [];
  const report = (s: Scenario) => {
    const m = median(s.mooring);
    const sh = median(s.shell);
    process.stdout.write([
      `${s.name} recovery on the lab, ${ROUNDS} rounds each (median; ${s.note})`,
      `  mooring runbook : ${secs(m)} s   (${s.mooring.map(secs).join(', ')})`,
      `  plain shell     : ${secs(sh)} s   (${s.shell.map(secs).join(', ')})`,
      `  ratio mooring/shell: ${(m / sh).toFixed(2)}`,
      '',
    ].join('\n'));
    scenarios.push(s);
  };

  // Follower: one member SIGKILLed; the others keep quorum.
  const follower: Scenario = { name: 'follower', note: 'the runbook includes its assessment, approval round trip and verification', mooring: [], shell: [] };
  for (let i = 0; i < ROUNDS; i++) {
    progress(`follower round ${i + 1}/${ROUNDS}`);
    lab.killEtcd('etcd-2');
    follower.mooring.push(await runbook('recover-etcd-follower'));
    await expectHealthy3('the follower runbook');
    lab.killEtcd('etcd-2');
    follower.shell.push(await shell('follower-baseline.sh', [key, first.ip, 'etcd-2', members[1]!.ip, endpoints, initial]));
    await expectHealthy3('the follower shell baseline');
  }
  report(follower);

  // Leader: whichever member leads is SIGKILLed; both wait for the new election, then re-add it.
  const leader: Scenario = { name: 'leader', note: 'both wait for the new election; the runbook also measures until writes are accepted', mooring: [], shell: [] };
  for (let i = 0; i < ROUNDS; i++) {
    progress(`leader round ${i + 1}/${ROUNDS}`);
    await lab.killLeader();
    leader.mooring.push(await runbook('recover-etcd-leader'));
    await expectHealthy3('the leader runbook');
    const killed = await lab.killLeader();
    const dead = members.find((m) => m.name === killed)!;
    leader.shell.push(await shell('leader-baseline.sh', [key, dead.name, dead.ip, endpoints, initial, ...members.filter((m) => m !== dead).map((m) => m.ip)]));
    await expectHealthy3('the leader shell baseline');
  }
  report(leader);

  // Majority: all but etcd-1 SIGKILLed, quorum lost; both restore a fresh snapshot taken on
  // etcd-1 into /var/backups/etcd just before, and grow the cluster back to three.
  const snapshot = async (name: string) => {
    const path = `/var/backups/etcd/${name}.db`;
    await hostEtcdctl(lab.etcdSettings, first, [clientEndpoint(lab.etcdSettings, first)], ['snapshot', 'save', lab.viewPath(first.name, path)], 30);
    return path;
  };
  const majority: Scenario = { name: 'majority', note: 'the runbook keeps its default quorum-lost confirmation: 3 probes 5 s apart; it also looks in the (empty) bucket', mooring: [], shell: [] };
  for (let i = 0; i < ROUNDS; i++) {
    progress(`majority round ${i + 1}/${ROUNDS}`);
    await snapshot(`bench-${i + 1}-runbook`);
    lab.killMajority();
    majority.mooring.push(await runbook('recover-etcd-majority'));
    await expectHealthy3('the majority runbook');
    const snap = await snapshot(`bench-${i + 1}-shell`);
    lab.killMajority();
    majority.shell.push(await shell('majority-baseline.sh', [key, snap, `lab-bench-${Date.now()}`, ...members.map((m) => `${m.name}=${m.ip}`)]));
    await expectHealthy3('the majority shell baseline');
  }
  report(majority);

  process.stdout.write([
    `summary: recovery runbooks vs plain shell on the lab, median of ${ROUNDS} round(s)`,
    '  scenario   mooring   shell     ratio',
    ...scenarios.map((s) => `  ${s.name.padEnd(9)}  ${`${secs(median(s.mooring))} s`.padEnd(8)}  ${`${secs(median(s.shell))} s`.padEnd(8)}  ${(median(s.mooring) / median(s.shell)).toFixed(2)}`),
    '',
  ].join('\n'));
} finally {
  await w.stop();
  await t.stop();
  await lab.down();
}
