import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { inventoryOrExit, outputOption, parseCanary, parseDuration, withConnectionOptions, withExamples } from '../cli-shared.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from '../../workflows/etcd-recovery/approval-defaults.js';

const SCENARIOS = {
  follower: { runbook: 'recover-etcd-follower', text: 'one member failed, quorum intact: replace it (remove, move data aside, re-add as learner, promote, verify)' },
  leader: { runbook: 'recover-etcd-leader', text: 'the leader failed: confirm the new election and the write outage, then replace the old leader as a follower' },
  majority: { runbook: 'recover-etcd-majority', text: 'quorum lost: confirm, restore the newest verified snapshot on one member with a new cluster token, grow back member by member' },
} as const;

export function registerRecover(program: Command): void {
  const recover = withExamples(program.command('recover').description('Disaster recovery runbooks'), 'mooring recover etcd follower -c cluster.yaml --plan');
  const etcd = withExamples(recover.command('etcd').description('etcd recovery, following etcd\'s disaster-recovery guide'), 'mooring recover etcd follower -c cluster.yaml --member etcd-2', 'mooring recover etcd majority -c cluster.yaml --plan')
  for (const [scenario, spec] of Object.entries(SCENARIOS)) {
    withConnectionOptions(etcd.command(scenario))
      .description(spec.text)
      .requiredOption('-c, --config <file>', 'inventory file')
      .option('--member <name>', 'the failed member (found automatically when exactly one is failed)')
      .option('--plan', 'print the steps for this inventory and its current state; change nothing')
      .option('--canary <key=value>', 'a key written before the failure that must read back afterwards')
      .option('--approval-timeout <duration>', `stop safely if nobody approves within this time (default ${DEFAULT_APPROVAL_TIMEOUT_MS[scenario as keyof typeof SCENARIOS] / 60_000}m; e.g. 2h)`)
      .option('--no-wait', 'return after starting instead of following the run')
      .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
      .addOption(outputOption())
      .addHelpText('after', `\nExamples:\n  mooring recover etcd ${scenario} -c cluster.yaml --plan\n  mooring recover etcd ${scenario} -c cluster.yaml --plan -o json     # the plan for a script\n  mooring recover etcd ${scenario} -c cluster.yaml --member etcd-2\n  mooring approve ops/CLUSTER --by NAME --comment "ticket"\n\nAfter each approval the runbook looks at the cluster again; if what the plan was built on changed\n(quorum, a member's health, the leader, the snapshot) it changes nothing and asks again with the\nnew plan, or stops when the new state rules the runbook out.`)
      .action(async (o: Record<string, string | boolean>) => {
        const [{ startAndFollow }, { staleScheduleHint }] = await Promise.all([import('./start-and-follow.js'), import('../schedules.js')]);
        const inv = await inventoryOrExit(String(o.config));
        const canary = parseCanary(o.canary);
        await startAndFollow(o, inv, spec.runbook, {
          ...(typeof o.member === 'string' ? { member: o.member } : {}),
          ...(o.plan ? { planOnly: true } : {}),
          ...(canary ? { canary } : {}),
          ...(typeof o.approvalTimeout === 'string' ? { approvalTimeoutMs: parseDuration(o.approvalTimeout) } : {}),
        }, o.plan ? 'plan only' : undefined, o.plan ? undefined : async (mc) => {
          // A recovery may have replaced a member (new host key, address): a backup schedule keeps its own copy.
          const hint = await staleScheduleHint(mc.client, inv, String(o.config)).catch(() => undefined);
          if (hint) process.stderr.write(`note: ${hint}\n`);
        });
      });
  }
}
