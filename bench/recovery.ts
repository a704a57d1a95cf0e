// Recovery benchmark: each etcd recovery runbook (follower, leader, majority; through Temporal,
// with its checks) against a plain shell script doing the same steps over ssh, on the same lab, in
// the same run. Prints each runbook's time, the script's time and the ratio per scenario, then a
// summary, and per step the median time of each side: the runbook's from its workflow history
// (activity run and wait times), the script's from bench/timing.sh. `npm run bench:recovery`
// (needs root, like the lab; BENCH_ROUNDS, default 3; BENCH_DETAIL=1 lists every activity).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
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
import { sshCosts } from './ssh-costs.js';
import { describeScript, describeSteps, medianSteps, readScriptSteps, stepTimings, type ScriptStep, type StepTiming } from './breakdown.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// BENCH_SCENARIOS=follower,majority runs only those (all three by default).
const want = (name: string) => !process.env.BENCH_SCENARIOS || process.env.BENCH_SCENARIOS.split(',').includes(name);
const script = (name: string) => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const progress = (msg: string) => process.stderr.write(`[bench:recovery] ${msg}\n`);

interface Scenario { name: string; note: string; mooring: number[]; shell: number[]; steps: StepTiming[][]; scriptSteps: ScriptStep[][] }

// BENCH_ETCD=3.6: the lab's members on that built release instead of Debian's 3.4 (scripts/build-etcd.sh).
const lab = new Lab({ dir: scratchDir('mooring-bench-'), subnet: process.env.BENCH_SUBNET ?? '127.90.0', ...(process.env.BENCH_ETCD ? { etcdVersion: process.env.BENCH_ETCD } : {}) });
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
  async function runbook(name: string, into: Scenario): Promise<number> {
    const started = Date.now();
    const h = await startRunbook(t.client, findRunbook(name), inv, { taskQueue });
    await eventually('gate', async () => (await h.query(progressQuery)).pendingApproval, 120_000, 50);
    await decide(t.client, h.workflowId, { approved: true, by: 'bench' });
    await h.result();
    const ms = Date.now() - started;
    // Where the runbook's time went, from its history; each activity on stderr with BENCH_DETAIL.
    const steps = await stepTimings(h);
    into.steps.push(steps);
    progress(`${name} ${secs(ms)} s:\n${describeSteps(steps, { detail: process.env.BENCH_DETAIL === '1' }).join('\n')}`);
    return ms;
  }
  const timesFile = join(lab.dir, 'script-steps.log');
  async function shell(file: string, args: string[], into: Scenario): Promise<number> {
    rmSync(timesFile, { force: true });
    const started = Date.now();
    await run(script(file), args, { env: { ...process.env, BENCH_TIMES: timesFile } });
    const ms = Date.now() - started;
    const steps = readScriptSteps(timesFile);
    into.scriptSteps.push(steps);
    progress(`${file} ${secs(ms)} s:\n${describeScript(steps).join('\n')}`);
    return ms;
  }
  /** Between rounds: every member healthy, three started voting members. */
  async function expectHealthy3(after: string): Promise<void> {
    const lines = (await etcdctl(['member', 'list'])).trim().split('\n');
    const voting = lines.filter((l) => /, started, /.test(l) && /, false$/.test(l));
    if (!(await healthyAll()) || voting.length !== 3) throw new Error(`cluster not healthy with 3 members after ${after}:\n${lines.join('\n')}`);
  }

  // The unit cost behind most steps, measured first on the same lab (docs/performance.md).
  process.stdout.write(`${(await sshCosts(inv, first.ip)).join('\n')}\n\n`);

  const scenarios: Scenario[] = [];
  const report = (s: Scenario) => {
    const m = median(s.mooring);
    const sh = median(s.shell);
    process.stdout.write([
      `${s.name} recovery on the lab, ${ROUNDS} rounds each (median; ${s.note})`,
      `  mooring runbook : ${secs(m)} s   (${s.mooring.map(secs).join(', ')})`,
      `  plain shell     : ${secs(sh)} s   (${s.shell.map(secs).join(', ')})`,
      `  ratio mooring/shell: ${(m / sh).toFixed(2)}`,
      '  runbook per step (median over rounds; activities run/waited from the workflow history):',
      ...describeSteps(medianStepTimings(s.steps)),
      '  script per step (median over rounds):',
      ...medianSteps(s.scriptSteps).map((x) => `    ${x.id.padEnd(18)} ${secs(x.ms).padStart(6)} s`),
      '',
    ].join('\n'));
    scenarios.push(s);
  };

  // Follower: one member SIGKILLed; the others keep quorum.
  const follower: Scenario = { name: 'follower', note: 'the runbook includes its assessment, approval round trip and verification', mooring: [], shell: [], steps: [], scriptSteps: [] };
  for (let i = 0; i < ROUNDS && want('follower'); i++) {
    progress(`follower round ${i + 1}/${ROUNDS}`);
    lab.killEtcd('etcd-2');
    follower.mooring.push(await runbook('recover-etcd-follower', follower));
    await expectHealthy3('the follower runbook');
    lab.killEtcd('etcd-2');
    follower.shell.push(await shell('follower-baseline.sh', [key, first.ip, 'etcd-2', members[1]!.ip, endpoints, initial], follower));
    await expectHealthy3('the follower shell baseline');
  }
  if (want('follower')) report(follower);

  // Leader: whichever member leads is SIGKILLed; both wait for the new election, then re-add it.
  const leader: Scenario = { name: 'leader', note: 'both wait for the new election; the runbook also measures until writes are accepted', mooring: [], shell: [], steps: [], scriptSteps: [] };
  for (let i = 0; i < ROUNDS && want('leader'); i++) {
    progress(`leader round ${i + 1}/${ROUNDS}`);
    await lab.killLeader();
    leader.mooring.push(await runbook('recover-etcd-leader', leader));
    await expectHealthy3('the leader runbook');
    const killed = await lab.killLeader();
    const dead = members.find((m) => m.name === killed)!;
    leader.shell.push(await shell('leader-baseline.sh', [key, dead.name, dead.ip, endpoints, initial, ...members.filter((m) => m !== dead).map((m) => m.ip)], leader));
    await expectHealthy3('the leader shell baseline');
  }
  if (want('leader')) report(leader);

  // Majority: all but etcd-1 SIGKILLed, quorum lost; both restore a fresh snapshot taken on
  // etcd-1 into /var/backups/etcd just before, and grow the cluster back to three.
  const snapshot = async (name: string) => {
    const path = `/var/backups/etcd/${name}.db`;
    await hostEtcdctl(lab.etcdSettings, first, [clientEndpoint(lab.etcdSettings, first)], ['snapshot', 'save', lab.viewPath(first.name, path)], 30);
    return path;
  };
  const majority: Scenario = { name: 'majority', note: 'the runbook keeps its default quorum-lost confirmation (2 probes 3 s apart since 1168c20, 3 probes 5 s apart before); it also looks in the (empty) bucket and restarts the control plane, which the script does not', mooring: [], shell: [], steps: [], scriptSteps: [] };
  for (let i = 0; i < ROUNDS && want('majority'); i++) {
    progress(`majority round ${i + 1}/${ROUNDS}`);
    await snapshot(`bench-${i + 1}-runbook`);
    lab.killMajority();
    majority.mooring.push(await runbook('recover-etcd-majority', majority));
    await expectHealthy3('the majority runbook');
    const snap = await snapshot(`bench-${i + 1}-shell`);
    lab.killMajority();
    majority.shell.push(await shell('majority-baseline.sh', [key, snap, `lab-bench-${Date.now()}`, ...members.map((m) => `${m.name}=${m.ip}`)], majority));
    await expectHealthy3('the majority shell baseline');
  }
  if (want('majority')) report(majority);

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

/** Per step, the round with the median wall time for that step (its activities kept together). */
function medianStepTimings(rounds: StepTiming[][]): StepTiming[] {
  return medianSteps(rounds).map(({ id }) => {
    const xs = rounds.flatMap((r) => r.filter((s) => s.id === id)).sort((a, b) => a.ms - b.ms);
    return xs[Math.floor(xs.length / 2)]!;
  });
}
