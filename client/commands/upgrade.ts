import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { fail, inventoryOrExit, parseCanary, parseDuration, withConnectionOptions } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';

export function registerUpgrade(program: Command): void {
  withConnectionOptions(program.command('upgrade'))
    .description('Upgrade to a Kubernetes release, one minor at a time, external etcd first where the target needs it (today: the etcd hops run, the run stops before the Kubernetes hops)')
    .requiredOption('-c, --config <file>', 'inventory file')
    .requiredOption('--to <version>', 'the Kubernetes release to reach, e.g. 1.37.2 (one the binary source offers: kubernetes.binaries.source)')
    .option('--plan', 'read the versions, print the hops and the skew rules; change nothing')
    .option('--canary <key=value>', 'an etcd key that must read back after the upgrade')
    .option('--approval-timeout <duration>', 'stop safely if nobody approves within this time (default 60m; e.g. 2h)')
    .option('--no-wait', 'return after starting instead of following the run')
    .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addHelpText('after', `
Examples:
  mooring upgrade -c cluster.yaml --to 1.37.2 --plan
  mooring upgrade -c cluster.yaml --to 1.37.2 --canary canary=ok
  mooring approve ops/CLUSTER --by NAME --comment "change 1234"

What runs today: the plan (from the versions every node and etcd member runs), one approval gate,
a fresh snapshot through etcd-backup (a child run; its ID is in the report), and each external
etcd hop (3.4 → 3.5 → 3.6) member by member, followers first and the leader last. The Kubernetes
hops (kubeadm upgrade apply/node, kubelets, drains) are planned and shown but NOT built: the run
stops before the first one and exits 8. Nothing is done to Kubernetes.`)
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
      }, o.plan ? 'plan only' : undefined);
    });
}
