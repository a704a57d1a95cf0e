import type { Command } from 'commander';
import { Lab } from '../../lab/lab.js';
import { outputOption, printJson } from '../cli-shared.js';
import { table } from '../render.js';

const labOptions = (cmd: Command) => cmd
  .option('--dir <dir>', 'lab directory (default .lab, or $MOORING_LAB_DIR)')
  .option('--subnet <a.b.c>', 'loopback /24 for the nodes (default 127.10.0)');
const labOf = (o: { dir?: string; subnet?: string }) => new Lab({ ...(o.dir ? { dir: o.dir } : {}), ...(o.subnet ? { subnet: o.subnet } : {}) });

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('The SIMULATED lab: real sshd per node on loopback addresses, with faults on command');
  labOptions(lab.command('up'))
    .description('Bring the lab up (idempotent) and write its inventory')
    .action(async (o) => {
      const file = await labOf(o).up((m) => process.stderr.write(`${m}\n`));
      process.stdout.write(`lab is up; inventory: ${file}\nTry: mooring run inventory-check -c ${file} --wait\n`);
    });
  labOptions(lab.command('down'))
    .description('Stop every lab process (the lab directory and its keys stay for the next `up`)')
    .action(async (o) => { await labOf(o).down(); process.stdout.write('lab is down\n'); });
  labOptions(lab.command('status'))
    .description('Show each node, its address, whether its sshd answers, and active faults')
    .addOption(outputOption())
    .action(async (o) => {
      const nodes = await labOf(o).status();
      if (o.output === 'json') return printJson(nodes);
      process.stdout.write(`${table(['node', 'address', 'role', 'sshd', 'faults'], nodes.map((n) => [n.name, n.ip, n.role, n.sshd, n.faults.join(', ')]))}\n`);
    });
  const fault = lab.command('fault').description('Inject a fault into the running lab');
  labOptions(fault.command('slow-ssh'))
    .description('Every SSH command on NODE waits SECONDS before it runs (a slow or hung host)')
    .argument('<node>').argument('<seconds>')
    .action((node: string, seconds: string, o) => {
      if (!/^\d+(\.\d+)?$/.test(seconds)) throw new Error(`seconds "${seconds}" must be a number`);
      labOf(o).slowSsh(node, Number(seconds));
    });
  labOptions(fault.command('kill-sshd'))
    .description('SIGKILL the sshd of NODE, as when the host loses power')
    .argument('<node>')
    .action(async (node: string, o) => { await labOf(o).killSshd(node); });
  labOptions(fault.command('clear'))
    .description('Remove every injected fault (a killed sshd comes back with `mooring lab up`)')
    .action((o) => labOf(o).clearFaults());
}
