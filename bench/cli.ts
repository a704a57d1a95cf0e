// CLI start-up benchmark: wall time of `mooring --help` and `mooring validate` (a new Node process
// each, as a person runs them) against `node -e ''` in the same run, plus what loading the Temporal
// client and the AWS SDK alone costs (what every command paid before they were loaded lazily).
// Runs are interleaved round-robin so a change in machine load hits every command alike; prints
// median and minimum per command and the ratio to the bare Node start. No lab, no root needed.
// `npm run bench:cli` (BENCH_ROUNDS, default 15; BENCH_CLI_COMPARE=/other/checkout/bin/mooring.js
// adds that CLI's --help and validate, e.g. of an older commit, to the same run).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../client/tools.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const MOORING = join(PROJECT_ROOT, 'bin', 'mooring.js');
const EXAMPLE = join(PROJECT_ROOT, 'config/examples/seed-002-openstack-stacked-etcd.yaml');

const CASES: { name: string; args: string[] }[] = [
  { name: "node -e ''  (baseline)", args: ['-e', ''] },
  { name: 'mooring --help', args: [MOORING, '--help'] },
  { name: 'mooring validate -c seed-002', args: [MOORING, 'validate', '-c', EXAMPLE] },
  { name: 'mooring backup list --help', args: [MOORING, 'backup', 'list', '--help'] },
  ...(process.env.BENCH_CLI_COMPARE ? [
    { name: 'compared CLI --help', args: [process.env.BENCH_CLI_COMPARE, '--help'] },
    { name: 'compared CLI validate -c seed-002', args: [process.env.BENCH_CLI_COMPARE, 'validate', '-c', EXAMPLE] },
  ] : []),
  { name: 'import @temporalio/client + @aws-sdk/client-s3  (reference)', args: ['--input-type=module', '-e', "await import('@temporalio/client'); await import('@aws-sdk/client-s3');"] },
];

function once(args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' } }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`node ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times = CASES.map(() => [] as number[]);
process.stderr.write(`[bench:cli] ${CASES.length} commands × ${ROUNDS} rounds\n`);
for (const c of CASES) await once(c.args); // warm the file cache; not counted
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, c] of CASES.entries()) times[i]!.push(await once(c.args));
}

const base = median(times[0]!);
const width = Math.max(...CASES.map((c) => c.name.length));
const lines = [
  `CLI start-up, Node ${process.version}, ${ROUNDS} interleaved rounds (wall time of a new process)`,
  `${'command'.padEnd(width)}  median ms  min ms  ratio to node -e ''`,
  ...CASES.map((c, i) => {
    const xs = times[i]!;
    return `${c.name.padEnd(width)}  ${median(xs).toFixed(0).padStart(9)}  ${Math.min(...xs).toFixed(0).padStart(6)}  ${(median(xs) / base).toFixed(2).padStart(6)}`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
