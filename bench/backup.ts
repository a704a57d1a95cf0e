// Backup benchmark: the etcd-backup runbook (through Temporal: probe, snapshot save, both checks,
// sha256, encryption, multipart upload with manifest, retention) against a bare `etcdctl snapshot
// save` over ssh plus a plain streamed upload of the same database, on the same lab, in the same
// run. The database is filled to at least BENCH_DB_MB (default 110) MB first. Prints times, peak
// memory (RSS of the worker process vs the upload process) and the ratios. `npm run bench:backup`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { findLeader } from '../lab/etcd-cluster.js';
import { fillEtcd, labSsh, labSshArgs } from '../test/helpers/fill-etcd.js';
import { loadInventory } from '../config/load.js';
import { findRunbook } from '../client/runbooks.js';
import { startRunbook } from '../client/start.js';
import type { EtcdBackupResult } from '../workflows/etcd-backup/backup.js';
import { startTestTemporal, uniqueTaskQueue } from '../test/helpers/temporal.js';
import { startWorkerProcess } from '../test/helpers/worker-process.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { describeSteps, stepTimings, type StepTiming } from './breakdown.js';
import { peakSampler, rssOf } from './process-stats.js';

// Two sizes by default: the worker's memory growth must stay the same when the database doubles.
const DB_SIZES_MB = (process.env.BENCH_DB_MB ?? '110,220').split(',').map(Number).sort((a, b) => a - b);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const MIB = 1024 * 1024;

const lab = new Lab({ dir: scratchDir('mooring-bench-backup-'), subnet: process.env.BENCH_SUBNET ?? '127.91.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('bench-backup');
const worker = startWorkerProcess(t.address, taskQueue, join(lab.dir, 'worker.log'));
try {
  await worker.ready;
  const inv = await loadInventory(lab.inventoryFile);
  const members = lab.etcdMembers();
  const leader = (await findLeader(lab.etcdSettings, members))!;
  // The worker's idle footprint, measured once: a later round starts from the previous round's
  // high-water mark (the heap does not shrink back), which would hide the growth.
  const idle = rssOf(worker.child.pid!);
  const growth: string[] = [];
  for (const sizeMb of DB_SIZES_MB) {
    const dbSize = await fillEtcd(lab, members[0]!, sizeMb);
    process.stderr.write(`etcd database: ${(dbSize / MIB).toFixed(0)} MiB\n`);
    const mooring: { ms: number; peak: number; base: number; snapshotMs: number; uploadMs: number; size: number; steps: StepTiming[] }[] = [];
    const bare: { ms: number; peak: number; saveMs: number; uploadMs: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Mooring: the whole runbook as a scheduled run would do it.
      const base = idle;
      const sampler = peakSampler(() => [worker.child.pid!]);
      let started = Date.now();
      const h = await startRunbook(t.client, findRunbook('etcd-backup'), inv, { taskQueue });
      const r = (await h.result()) as EtcdBackupResult;
      const ms = Date.now() - started;
      const peak = sampler.stop();
      if (r.outcome !== 'completed') throw new Error(`backup run ended ${r.outcome}: ${r.report}`);
      const steps = await stepTimings(h);
      const took = (id: string) => steps.find((x) => x.id === id)?.ms ?? 0;
      mooring.push({ ms, peak, base, snapshotMs: took('snapshot'), uploadMs: took('upload'), size: r.snapshot!.size, steps });

      // Baseline: the same member, snapshot save over ssh, then cat | plain streamed upload.
      const node = members.find((m) => m.name === r.snapshot!.member) ?? members.find((m) => m.name !== leader.name)!;
      const file = `/var/backups/etcd/bare-${i}.db`;
      started = Date.now();
      await ssh(node.ip, `rm -f ${file} && ETCDCTL_API=3 etcdctl --endpoints=https://${node.ip}:2379 --cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key snapshot save ${file} >/dev/null`);
      const saveMs = Date.now() - started;
      const up0 = Date.now();
      const peakBare = await pipedUpload(node.ip, file, `bench/bare-${i}.db`);
      bare.push({ ms: Date.now() - started, peak: peakBare, saveMs, uploadMs: Date.now() - up0 });
      await ssh(node.ip, `rm -f ${file}`);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mb = (b: number) => `${(b / MIB).toFixed(0)} MiB`;
    const m = { ms: med(mooring.map((x) => x.ms)), peak: Math.max(...mooring.map((x) => x.peak)), base: med(mooring.map((x) => x.base)), snap: med(mooring.map((x) => x.snapshotMs)), up: med(mooring.map((x) => x.uploadMs)) };
    const b = { ms: med(bare.map((x) => x.ms)), peak: Math.max(...bare.map((x) => x.peak)), save: med(bare.map((x) => x.saveMs)), up: med(bare.map((x) => x.uploadMs)) };
    process.stdout.write([
      `etcd backup of a ${mb(mooring[0]!.size)} snapshot on the lab, ${ROUNDS} round(s) each (median times; peak memory over all rounds)`,
      `  mooring etcd-backup : ${s(m.ms)} total (snapshot save + checks + sha256 ${s(m.snap)}, encrypt + upload ${s(m.up)}; the rest is probing, retention, Temporal)`,
      `                        peak RSS of the worker ${mb(m.peak)} (${mb(m.peak - m.base)} above its idle ${mb(m.base)})`,
      `  bare save + upload  : ${s(b.ms)} total (etcdctl snapshot save ${s(b.save)}, ssh cat | streamed upload ${s(b.up)})`,
      `                        peak RSS of the upload process ${mb(b.peak)}`,
      `  ratio time mooring/bare: ${(m.ms / b.ms).toFixed(2)}   (save+upload steps only: ${((m.snap + m.up) / b.ms).toFixed(2)})`,
      `  ratio peak memory worker-above-idle / bare upload process: ${((m.peak - m.base) / b.peak).toFixed(2)}; snapshot size / worker growth: ${(mooring[0]!.size / Math.max(1, m.peak - m.base)).toFixed(1)}`,
      '  runbook per step (the median round; activities run/waited from the workflow history):',
      ...describeSteps([...mooring].sort((x, y) => x.ms - y.ms)[Math.floor(mooring.length / 2)]!.steps, { detail: true }),
      `  bare per step (median): snapshot save ${s(b.save)}, ssh cat | upload ${s(b.up)}`,
      '',
    ].join('\n'));
    growth.push(`${mb(mooring[0]!.size)} snapshot: worker +${mb(m.peak - m.base)}`);
  }
  process.stdout.write(`worker memory growth by snapshot size (peak RSS above idle): ${growth.join('; ')}\n`);
} finally {
  await worker.stop();
  await t.stop();
  await lab.down();
}

function ssh(ip: string, command: string): Promise<void> {
  return labSsh(lab, ip, command);
}

/** ssh cat FILE | node plain-upload.js …; returns the upload process's peak RSS. */
async function pipedUpload(ip: string, file: string, key: string): Promise<number> {
  const store = lab.objectStore!;
  const cat = spawn('ssh', [...labSshArgs(lab), `root@${ip}`, `cat ${file}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const up = spawn(process.execPath, [fileURLToPath(new URL('./plain-upload.js', import.meta.url)), store.endpoint, store.bucket, key, join(lab.dir, 's3-access-key'), join(lab.dir, 's3-secret-key')], { stdio: [cat.stdout, 'inherit', 'inherit'] });
  const sampler = peakSampler(() => [up.pid!]);
  const code = await new Promise<number | null>((r) => up.on('exit', r));
  const peak = sampler.stop();
  if (code !== 0) throw new Error(`plain upload exited ${code}`);
  return peak;
}
