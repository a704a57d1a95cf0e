import { Option, type Command } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { connectionFlags, fail, outputOption, printData, withConnectionOptions } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';

export function registerDoctor(program: Command): void {
  withConnectionOptions(program.command('doctor'))
    .description('Check this machine\'s set-up for Mooring and say how to fix each failure: Temporal reachable, search attributes registered, a worker polling, the inventory\'s SSH key, clouds.yaml, the lab\'s tools')
    .option('-c, --config <file>', 'also check what this inventory needs here: its SSH key (readable, mode 0600), clouds.yaml when it is on OpenStack')
    .option('--lab', 'the lab\'s programs are required (without it, missing ones are a warning)')
    .addOption(new Option('--task-queue <name>', 'the task queue a worker must poll').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .addOption(outputOption())
    .addHelpText('after', `
Run it on the machine you run the CLI from, and on each worker host (the worker reads the SSH key
and clouds.yaml). Temporal is found as by every command: --address, TEMPORAL_ADDRESS, the envconfig
profile, else 127.0.0.1:7233.

Exit status: 0 when no check failed (warnings allowed), 1 when one did.

Examples:
  mooring doctor
  mooring doctor -c cluster.yaml                 also the inventory's SSH key and clouds.yaml
  mooring doctor --address temporal.internal:7233 --namespace ops -o json
  mooring doctor --lab                            a lab or CI machine: the lab's programs must be there`)
    .action(async (o: Record<string, string | boolean>) => {
      const [{ temporalChecks }, { cloudsCheck, labToolsCheck, sshKeyCheck }, { renderChecks }] = await Promise.all([
        import('../doctor/temporal-checks.js'), import('../doctor/host-checks.js'), import('../doctor/report.js'),
      ]);
      const results = await temporalChecks(connectionFlags(o), String(o.taskQueue));
      if (typeof o.config === 'string') {
        const { InventoryError, loadInventory } = await import('../../config/load.js');
        try {
          const inv = await loadInventory(o.config);
          results.push({ check: 'inventory', status: 'ok', detail: `${o.config}: cluster ${inv.cluster.name}, provider ${inv.provider.type}` });
          results.push(await sshKeyCheck(inv), await cloudsCheck(inv));
        } catch (err) {
          if (!(err instanceof InventoryError)) throw err;
          results.push({ check: 'inventory', status: 'fail', detail: `${o.config}: ${err.problems.length} problem(s), first: ${err.problems[0] ? `${err.problems[0].path}: ${err.problems[0].message}` : err.message}`, fix: `mooring validate -c ${o.config}` });
        }
      } else {
        results.push({ check: 'ssh key', status: 'skip', detail: 'give -c FILE to check an inventory\'s key' }, { check: 'clouds.yaml', status: 'skip', detail: 'give -c FILE with an OpenStack inventory' });
      }
      results.push(await labToolsCheck(o.lab === true));
      if (!(await printData(o, results))) process.stdout.write(`${renderChecks(results)}\n`);
      const failed = results.filter((r) => r.status === 'fail');
      if (failed.length) fail(`doctor: ${failed.map((r) => r.check).join(', ')} failed`, ExitCode.failed);
    });
}
