import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type * as LabModule from '../../lab/lab.js';
import { outputOption, printData, withExamples } from '../cli-shared.js';
import { table } from '../render.js';

const labOptions = (cmd: Command) => cmd
  .option('--dir <dir>', 'lab directory (default .lab, or $MOORING_LAB_DIR)')
  .option('--subnet <a.b.c>', 'loopback /24 for the nodes (default 127.10.0)');
// Loaded by the `lab` command's preAction hook, not when the CLI starts (see client/cli.ts).
let Lab: typeof LabModule.Lab;
const labOf = (o: { dir?: string; subnet?: string; etcd?: string; etcdMember?: string[] }) => new Lab({
  ...(o.dir ? { dir: o.dir } : {}), ...(o.subnet ? { subnet: o.subnet } : {}),
  ...(o.etcd ? { etcdVersion: o.etcd } : {}), ...(o.etcdMember?.length ? { etcdVersions: parseMemberVersions(o.etcdMember) } : {}),
});

/** `--etcd-member etcd-3=3.6` (repeatable) into { 'etcd-3': '3.6' }. */
function parseMemberVersions(items: string[]): Record<string, string> {
  return Object.fromEntries(items.map((item) => {
    const m = /^([^=\s]+)=(\S+)$/.exec(item);
    if (!m) throw new Error(`--etcd-member "${item}" must be MEMBER=VERSION, e.g. etcd-3=3.6`);
    return [m[1]!, m[2]!];
  }));
}

export function registerLab(program: Command): void {
  const lab = withExamples(program.command('lab'), 'mooring lab up', 'mooring lab status', 'mooring lab fault kill-leader', 'mooring lab down').hook('preAction', async () => { ({ Lab } = await import('../../lab/lab.js')); }).description('The SIMULATED lab: a real sshd per node on its own loopback address and filesystem view, a real etcd cluster (3.4, 3.5 or 3.6) with TLS on the etcd nodes, faults on command');
  labOptions(lab.command('up'))
    .option('--etcd <version>', 'etcd on every member: 3.4 (Debian\'s package), 3.5 or 3.6 (built by scripts/build-etcd.sh); default: what the lab ran before, else 3.4')
    .option('--etcd-member <member=version>', 'etcd of one member, over --etcd (repeatable; members at most one minor apart), e.g. etcd-3=3.6', (v: string, acc: string[] = []) => [...acc, v])
    .description('Bring the lab up (idempotent: what runs is left alone): nodes, PKI, etcd with TLS; writes the inventory every command takes with -c')
    .addHelpText('after', '\nExamples:\n  mooring lab up\n  mooring lab up --etcd 3.6 --etcd-member etcd-3=3.5     a mixed-version cluster\n  mooring lab up --dir /tmp/lab2 --subnet 127.72.0         a second lab beside the first')
    .action(async (o) => {
      const file = await labOf(o).up((m) => process.stderr.write(`${m}\n`));
      process.stdout.write(`lab is up; inventory: ${file}\nTry: mooring run inventory-check -c ${file} --wait\n`);
    });
  labOptions(lab.command('down'))
    .description('Stop every lab process, etcd included, and check none is left (the lab directory, keys and data stay for the next `up`)')
    .addHelpText('after', '\nExamples:\n  mooring lab down\n  mooring lab down --dir /tmp/lab2')
    .action(async (o) => { await labOf(o).down(); process.stdout.write('lab is down\n'); });
  labOptions(lab.command('destroy'))
    .description('Stop the lab, then delete what it made: keys, PKI, every node\'s data (etcd, snapshots, moved-aside dirs) and the object store\'s bucket. Other files in the lab directory stay. The next `up` builds a new lab')
    .option('--yes', 'really delete (without it, only says what would be deleted)')
    .addHelpText('after', '\nExamples:\n  mooring lab destroy          says what it would delete\n  mooring lab destroy --yes')
    .action(async (o: { yes?: boolean; dir?: string; subnet?: string }) => {
      const l = labOf(o);
      if (!existsSync(l.dir)) {
        process.stdout.write(`no lab in ${l.dir}; nothing to delete\n`);
        return;
      }
      if (!o.yes) {
        process.stdout.write(`would stop the lab and delete the lab's files in ${l.dir} (node data, snapshots, bucket, keys); run again with --yes to do it\n`);
        return;
      }
      const left = await l.destroy();
      process.stdout.write(`lab destroyed${left.length ? `; kept what the lab did not make: ${left.join(', ')}` : ` (${l.dir} removed)`}\n`);
    });
  withExamples(labOptions(lab.command('status')), 'mooring lab status', 'mooring lab status -o json')
    .description('Show each node: address, role, sshd up/down, etcd leader/follower/unhealthy/stopped, and active faults')
    .addOption(outputOption())
    .action(async (o) => {
      const nodes = await labOf(o).status();
      if (await printData(o, nodes)) return;
      process.stdout.write(`${table(['node', 'address', 'role', 'sshd', 'etcd', 'faults'], nodes.map((n) => [n.name, n.ip, n.role, n.sshd, n.etcd ? `${n.etcd}${n.etcdVersion ? ` (${n.etcdVersion})` : ''}` : '', n.faults.join(', ')]))}\n`);
    });
  const fault = withExamples(lab.command('fault').description('Inject a fault into the running lab'), 'mooring lab fault kill-etcd etcd-2', 'mooring lab fault clear');
  labOptions(fault.command('slow-ssh'))
    .description('Every SSH command on NODE waits SECONDS before it runs (a slow or hung host)')
    .argument('<node>').argument('<seconds>')
    .action((node: string, seconds: string, o) => {
      if (!/^\d+(\.\d+)?$/.test(seconds)) throw new Error(`seconds "${seconds}" must be a number`);
      labOf(o).slowSsh(node, Number(seconds));
    });
  labOptions(fault.command('kill-sshd'))
    .description('SIGKILL the listening sshd of NODE: new SSH connections are refused; open ones and etcd run on (see power-off)')
    .argument('<node>')
    .action(async (node: string, o) => { await labOf(o).killSshd(node); });
  labOptions(fault.command('kill-etcd'))
    .description('SIGKILL the etcd of NODE (a crashed member)')
    .argument('<node>')
    .action((node: string, o) => { labOf(o).killEtcd(node); process.stdout.write(`killed etcd on ${node}\n`); });
  labOptions(fault.command('kill-leader'))
    .description('SIGKILL the etcd of whichever member currently leads (found with etcdctl endpoint status) and print its name')
    .action(async (o) => { process.stdout.write(`killed the leader, ${await labOf(o).killLeader()}\n`); });
  labOptions(fault.command('kill-majority'))
    .description('SIGKILL etcd on a majority of members (all but the first): quorum is lost')
    .action((o) => { process.stdout.write(`killed etcd on ${labOf(o).killMajority().join(', ')}\n`); });
  labOptions(fault.command('lose-disk'))
    .description('NODE loses its disk: etcd is SIGKILLed and the node finds /var/lib/etcd empty (`fault clear` gives the disk back while it is still empty)')
    .argument('<node>')
    .action((node: string, o) => { labOf(o).loseDisk(node); process.stdout.write(`${node} lost its data dir\n`); });
  labOptions(fault.command('replace-node'))
    .description('NODE is replaced by a fresh host: etcd killed, its data dir empty and /etc/etcd/ssl gone (a follower recovery issues new certificates when etcd.tls.caKey is set)')
    .argument('<node>')
    .action((node: string, o) => { labOf(o).replaceNode(node); process.stdout.write(`${node} was replaced by a fresh host\n`); });
  labOptions(fault.command('power-off'))
    .description('NODE loses power: every process in it (sshd, SSH sessions, etcd) is SIGKILLed')
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
    .description('SSH sessions on NODE are dropped SECONDS after they start, mid-command: every one until `fault clear`, or with --once only the next')
    .argument('<node>').argument('<seconds>')
    .option('--once', 'only the next session is cut (a retry after it gets through)')
    .action((node: string, seconds: string, o: { once?: boolean; dir?: string; subnet?: string }) => {
      if (!/^\d+(\.\d+)?$/.test(seconds)) throw new Error(`seconds "${seconds}" must be a number`);
      labOf(o).cutSsh(node, Number(seconds), { once: o.once === true });
    });
  labOptions(fault.command('drop-ssh'))
    .description('Drop every SSH connection open to NODE right now, mid-command (sshd keeps accepting new ones)')
    .argument('<node>')
    .action((node: string, o) => { process.stdout.write(`dropped ${labOf(o).dropSshSessions(node)} SSH connection(s) to ${node}\n`); });
  labOptions(fault.command('s3-down'))
    .description('The object store crashes (SIGKILL): backups cannot ship off-site until `mooring lab up` brings it back on the same address')
    .action(async (o) => labOf(o).stopObjectStore());
  labOptions(fault.command('clear'))
    .description('Clear file faults (slow-ssh, cut-ssh, lost disks); killed or powered-off sshd and etcd come back with `mooring lab up`')
    .action((o) => labOf(o).clearFaults());
  // Each fault's example, from its own arguments.
  const sample: Record<string, string> = { node: 'etcd-2', seconds: '5', path: '/var/backups/etcd/snap.db' };
  for (const f of fault.commands) {
    withExamples(f, `mooring lab fault ${[f.name(), ...f.registeredArguments.map((a) => sample[a.name()] ?? a.name())].join(' ')}`, 'mooring lab status            see it take effect');
  }
}
