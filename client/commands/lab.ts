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
      process.stdout.write(`${table(['node', 'address', 'role', 'sshd', 'etcd', 'faults'], nodes.map((n) => [n.name, n.ip, n.role, n.sshd, n.etcd ?? '', n.faults.join(', ')]))}\n`);
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
  labOptions(fault.command('kill-etcd'))
    .description('SIGKILL the etcd of NODE (a crashed member)')
    .argument('<node>')
    .action((node: string, o) => { labOf(o).killEtcd(node); process.stdout.write(`killed etcd on ${node}\n`); });
  labOptions(fault.command('kill-leader'))
    .description('SIGKILL whichever member currently leads')
    .action(async (o) => { process.stdout.write(`killed the leader, ${await labOf(o).killLeader()}\n`); });
  labOptions(fault.command('kill-majority'))
    .description('SIGKILL etcd on a majority of members: quorum is lost')
    .action((o) => { process.stdout.write(`killed etcd on ${labOf(o).killMajority().join(', ')}\n`); });
  labOptions(fault.command('lose-disk'))
    .description('NODE loses its disk: etcd dies and /var/lib/etcd is emptied')
    .argument('<node>')
    .action((node: string, o) => { labOf(o).loseDisk(node); process.stdout.write(`${node} lost its data dir\n`); });
  labOptions(fault.command('power-off'))
    .description('NODE loses power: its etcd and its sshd die')
    .argument('<node>')
    .action(async (node: string, o) => { await labOf(o).powerOff(node); process.stdout.write(`${node} is powered off (mooring lab up powers it on)\n`); });
  for (const kind of ['corrupt', 'truncate'] as const) {
    labOptions(fault.command(`${kind}-snapshot`))
      .description(kind === 'corrupt' ? 'Overwrite 4 KiB in the middle of a snapshot file on NODE' : 'Cut a snapshot file on NODE to half its size')
      .argument('<node>').argument('<path>', 'path inside the node, e.g. /var/backups/etcd/snap.db')
      .action((node: string, path: string, o) => {
        const lab = labOf(o);
        if (kind === 'corrupt') lab.corruptSnapshot(node, path); else lab.truncateSnapshot(node, path);
        process.stdout.write(`${kind === 'corrupt' ? 'corrupted' : 'truncated'} ${path} on ${node}\n`);
      });
  }
  labOptions(fault.command('cut-ssh'))
    .description('Every SSH session on NODE is dropped SECONDS after it starts, mid-command')
    .argument('<node>').argument('<seconds>')
    .action((node: string, seconds: string, o) => {
      if (!/^\d+(\.\d+)?$/.test(seconds)) throw new Error(`seconds "${seconds}" must be a number`);
      labOf(o).cutSsh(node, Number(seconds));
    });
  labOptions(fault.command('clear'))
    .description('Remove SSH fault files; killed sshd and etcd come back with `mooring lab up`')
    .action((o) => labOf(o).clearFaults());
}
