import type { Command } from 'commander';
import { hostsOf } from '../../config/hosts.js';
import { outputOption, printData } from '../cli-shared.js';
import { table } from '../render.js';

export function registerValidate(program: Command): void {
  program.command('validate')
    .description('Check an inventory file: every problem is reported with its path and the fix; nothing is contacted')
    .requiredOption('-c, --config <file>', 'inventory file (YAML)')
    .addOption(outputOption())
    .addHelpText('after', '\nExamples:\n  mooring validate -c config/examples/seed-001-openstack-external-etcd.yaml\n  mooring validate -c cluster.yaml -o json\n  mooring validate -c cluster.yaml -o yaml')
    .action(async (o: { config: string; output: string }) => {
      const { InventoryError, loadInventory } = await import('../../config/load.js');
      try {
        const inv = await loadInventory(o.config);
        const hosts = hostsOf(inv);
        if (await printData(o, { valid: true, cluster: inv.cluster.name, hosts: hosts.map((h) => ({ name: h.name, ip: h.ip, roles: h.roles })) })) return;
        process.stdout.write(`${o.config}: valid. Cluster ${inv.cluster.name}, provider ${inv.provider.type}, etcd ${inv.etcd.topology} (${inv.etcd.version}), ${hosts.length} hosts\n\n`);
        process.stdout.write(`${table(['host', 'address', 'roles'], hosts.map((h) => [h.name, h.ip, h.roles.join(',')]))}\n`);
      } catch (err) {
        if (!(err instanceof InventoryError)) throw err;
        if (!(await printData(o, { valid: false, problems: err.problems }))) process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
