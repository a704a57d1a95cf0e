// `mooring provision` and `mooring deprovision`: start the runbook on the inventory's cluster
// (workflow ID ops/<cluster>) and follow it; --plan changes nothing.
import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { fail, inventoryOrExit, outputOption, parseDuration, withConnectionOptions, withExamples } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';

function common(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .requiredOption('-c, --config <file>', 'inventory file')
    .option('--approval-timeout <duration>', 'stop safely if nobody approves within this time (default 60m; e.g. 2h)')
    .option('--no-wait', 'return after starting instead of following the run')
    .option('--yes', 'approve every approval gate of this run in advance (needs --by); for a lab or a pipeline')
    .option('--by <name>', 'who approves with --yes (kept in the history with the CLI identity)')
    .addOption(new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addOption(outputOption());
}

async function run(runbook: 'provision' | 'deprovision', o: Record<string, string | boolean>): Promise<void> {
  const { startAndFollow } = await import('./start-and-follow.js');
  if (o.yes && (typeof o.by !== 'string' || !o.by.trim())) fail('--yes needs --by NAME: who approves the gates in advance (kept in the history)', ExitCode.invalidInput);
  if (o.yes && o.wait === false) fail('--yes follows the run to approve its gates: drop --no-wait', ExitCode.invalidInput);
  const inv = await inventoryOrExit(String(o.config));
  await startAndFollow(o, inv, runbook, {
    ...(o.plan ? { planOnly: true } : {}),
    ...(typeof o.approvalTimeout === 'string' ? { approvalTimeoutMs: parseDuration(o.approvalTimeout) } : {}),
  }, o.plan ? 'plan only' : undefined, undefined, o.yes ? { by: String(o.by) } : undefined);
}

export function registerProvision(program: Command): void {
  withExamples(common(program.command('provision'))
    .description('Create the cluster the inventory describes: cloud resources (OpenStack, Proxmox), then gateways, etcd and Kubernetes on them')
    .option('--plan', 'print every resource and host step with counts, and the quota it will use; create nothing'),
  'mooring provision -c config/examples/seed-001-openstack-external-etcd.yaml --plan',
  'mooring provision -c cluster.yaml',
  'mooring provision -c lab.yaml --yes --by alice     # gates approved in advance (lab, pipeline)',
  'mooring approve ops/CLUSTER --by NAME --comment "ticket 1234"',
  'mooring provision -c cluster.yaml --plan -o json     # the plan for a script')
    .addHelpText('after', `
One approval comes before the first billable create (none when every resource exists already).
The run refuses, before creating anything, an image, flavor, network or key pair that does not
exist and a plan that needs more than the project's quota leaves. A server that goes to ERROR is
deleted and booted once more; a second ERROR holds the run for a decision (mooring approve/reject).
Running it again on a finished cluster changes nothing and says so.`)
    .action((o: Record<string, string | boolean>) => run('provision', o));

  withExamples(common(program.command('deprovision'))
    .description('Delete the cluster\'s cloud resources (OpenStack, Proxmox VE): only what carries its tag, in reverse order; the etcd snapshots in the backup bucket are kept')
    .option('--plan', 'list what would be deleted; delete nothing'),
  'mooring deprovision -c cluster.yaml --plan',
  'mooring deprovision -c cluster.yaml',
  'mooring approve ops/CLUSTER --by NAME --comment "decommission"',
  'mooring deprovision -c config/examples/seed-003-proxmox-stacked-etcd.yaml --plan -o json')
    .addHelpText('after', `
One approval comes before the first delete. OpenStack: only resources carrying the cluster's tag,
servers first, the network last. Proxmox VE: only VMs in provider.proxmox.vmids tagged
mooring-<cluster> (or marked mooring:<cluster>/<host> by a clone that was never configured), each
checked again just before it is stopped and destroyed with its disks. Something already gone is
done; a final look-up proves nothing is left.`)
    .action((o: Record<string, string | boolean>) => run('deprovision', o));
}
