import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { fail, inventoryOrExit, parseCanary, parseDuration, withConnectionOptions } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';

/** --batch: a count (2) or a percentage (25%), as kubernetes.upgrade.workerBatch. */
export function parseBatch(text: string): number | string {
  if (/^([1-9]\d?|100)%$/.test(text)) return text;
  if (/^[1-9]\d*$/.test(text)) return Number(text);
  return fail(`--batch "${text}" must be a count such as 2 or a percentage such as 25%`, ExitCode.invalidInput);
}

export function registerUpgrade(program: Command): void {
  withConnectionOptions(program.command('upgrade'))
    .description('Upgrade to a Kubernetes release, one minor at a time, external etcd first where the target needs it: kubeadm upgrade apply/node, kubelets, workers drained in batches')
    .requiredOption('-c, --config <file>', 'inventory file')
    .requiredOption('--to <version>', 'the Kubernetes release to reach, e.g. 1.37.2 (one the binary source offers: kubernetes.binaries.source)')
    .option('--plan', 'read the versions, print the hops and the skew rules; change nothing')
    .option('--canary <key=value>', 'an etcd key that must read back after the upgrade')
    .option('--batch <n>', 'workers upgraded at once: a count (2) or a percentage (25%); default kubernetes.upgrade.workerBatch')
    .option('--single-gate', 'one approval for the whole plan, none before each Kubernetes hop (default kubernetes.upgrade.gates)')
    .option('--skip-snapshot <reason>', 'go on without the fresh etcd snapshot when the inventory has no backup section (the reason is recorded)')
    .option('--approval-timeout <duration>', 'stop safely if nobody approves within this time (default 60m; e.g. 2h)')
    .option('--no-wait', 'return after starting instead of following the run')
    .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addHelpText('after', `
Examples:
  mooring upgrade -c cluster.yaml --to 1.37.2 --plan
  mooring upgrade -c cluster.yaml --to 1.37.2 --canary canary=ok --batch 25%
  mooring approve ops/CLUSTER --by NAME --comment "change 1234"
  mooring resolve ops/CLUSTER --choice retry --by NAME --comment "PDB relaxed"

The plan (from the versions every node and etcd member runs), one approval gate with it, a fresh
snapshot through etcd-backup (a child run; its ID is in the report), then the hops in order: each
external etcd hop member by member (followers first, the leader last); each Kubernetes hop behind
its own approval (unless --single-gate), a preflight, kubeadm upgrade apply on the first master,
upgrade node on the others, kubelets one master at a time, workers in batches (cordon, drain,
upgrade, uncordon). A blocked step (a drain a PodDisruptionBudget holds up) holds and asks:
mooring resolve --choice retry|skip|stop. See docs/upgrade.md.`)
    .action(async (o: Record<string, string | boolean>) => {
      const to = String(o.to);
      if (!/^v?\d+\.\d+\.\d+$/.test(to)) fail(`--to "${to}" is not a Kubernetes version such as 1.37.2`, ExitCode.invalidInput);
      const { startAndFollow } = await import('./start-and-follow.js');
      const inv = await inventoryOrExit(String(o.config));
      const canary = parseCanary(o.canary);
      await startAndFollow(o, inv, 'upgrade', {
        to: to.replace(/^v/, ''),
        ...(o.plan ? { planOnly: true } : {}),
        ...(canary ? { canary } : {}),
        ...(typeof o.approvalTimeout === 'string' ? { approvalTimeoutMs: parseDuration(o.approvalTimeout) } : {}),
        ...(typeof o.batch === 'string' ? { workerBatch: parseBatch(o.batch) } : {}),
        ...(o.singleGate ? { gates: 'single' as const } : {}),
        ...(typeof o.skipSnapshot === 'string' ? { skipSnapshot: o.skipSnapshot } : {}),
      }, o.plan ? 'plan only' : undefined);
    });
}
