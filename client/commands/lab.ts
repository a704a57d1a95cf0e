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

/** The Kubernetes lab (lab/kubernetes-lab.ts, network namespaces) in --dir, else .lab-kubernetes; loaded only when asked for. */
async function netnsLabOf(o: { dir?: string }) {
  const { NetnsLab } = await import('../../lab/netns/netns-lab.js');
  return new NetnsLab(o.dir ? { dir: o.dir } : {});
}

/** `--kubernetes`, or a --dir that holds a Kubernetes lab: the command is for that lab. */
async function isKubernetesLab(o: { dir?: string; kubernetes?: boolean }): Promise<boolean> {
  if (o.kubernetes) return true;
  if (!o.dir) return false;
  const { NETNS_STATE } = await import('../../lab/netns/netns-lab.js');
  const { join } = await import('node:path');
  return existsSync(join(o.dir, NETNS_STATE));
}

const KUBERNETES_LAB_FLAG = '--kubernetes';
const kubernetesLabHelp = 'the Kubernetes lab (`lab up --kubernetes`; default dir .lab-kubernetes) instead of the loopback etcd lab';

export function registerLab(program: Command): void {
  const lab = withExamples(program.command('lab'), 'mooring lab up', 'mooring lab up --kubernetes 1.35', 'mooring lab status', 'mooring lab fault kill-leader', 'mooring lab down').hook('preAction', async () => { ({ Lab } = await import('../../lab/lab.js')); }).description('The SIMULATED lab: a real sshd per node on its own loopback address and filesystem view, a real etcd cluster (3.4, 3.5 or 3.6) with TLS on the etcd nodes, faults on command. With `up --kubernetes 1.N`: the Kubernetes lab, nodes in network namespaces behind a keepalived VIP and HAProxy, a real kubeadm control plane (docs/kubernetes-lab.md)');
  labOptions(lab.command('up'))
    .option('--etcd <version>', 'etcd on every member: 3.4 (Debian\'s package), 3.5 or 3.6 (built by scripts/build-etcd.sh); default: what the lab ran before, else 3.4')
    .option('--etcd-member <member=version>', 'etcd of one member, over --etcd (repeatable; members at most one minor apart), e.g. etcd-3=3.6', (v: string, acc: string[] = []) => [...acc, v])
    .option('--kubernetes <1.N>', 'instead: the Kubernetes lab (dir .lab-kubernetes) with a real control plane of this release (1.35, 1.36, 1.37, built by set-up): gw-1, gw-2, master-1..3, worker-1, each in its own network namespace on a lab bridge (10.77.0.0/24), real sshd, keepalived + HAProxy on the gateways holding the VIP, kubeadm init/join with stacked etcd, the SIMULATED kubelet; this machine reaches gw-1 at 127.60.0.2:22 (the bastion) and the API at 127.60.0.100:6443')
    .description('Bring the lab up (idempotent: what runs is left alone, powered-off nodes come back): nodes, PKI, etcd with TLS; writes the inventory every command takes with -c. With --kubernetes 1.N: the Kubernetes lab, and a kubeconfig for kubectl')
    .addHelpText('after', '\nExamples:\n  mooring lab up\n  mooring lab up --etcd 3.6 --etcd-member etcd-3=3.5     a mixed-version cluster\n  mooring lab up --dir /tmp/lab2 --subnet 127.72.0         a second lab beside the first\n  mooring lab up --kubernetes 1.35                          the Kubernetes lab (kubeadm, VIP, gateways)')
    .action(async (o: { dir?: string; subnet?: string; etcd?: string; etcdMember?: string[]; kubernetes?: string }) => {
      if (o.kubernetes !== undefined) {
        if (o.subnet || o.etcd || o.etcdMember?.length) throw new Error('--kubernetes: --subnet, --etcd and --etcd-member apply to the loopback etcd lab; the Kubernetes lab runs on 10.77.0.0/24 in its own namespaces with the etcd kubeadm\'s manifests name (3.6)');
        const { KubernetesLab } = await import('../../lab/kubernetes-lab.js');
        const k = new KubernetesLab({ ...(o.dir ? { dir: o.dir } : {}), kubernetes: o.kubernetes });
        const { inventory, kubeconfig } = await k.up((m) => process.stderr.write(`${m}\n`));
        process.stdout.write(`Kubernetes lab ${k.build.version} is up; inventory: ${inventory}\nTry: kubectl --kubeconfig ${kubeconfig} get nodes\n     mooring lab fault power-off --kubernetes gw-1   (the VIP moves to gw-2)\n`);
        return;
      }
      const file = await labOf(o).up((m) => process.stderr.write(`${m}\n`));
      process.stdout.write(`lab is up; inventory: ${file}\nTry: mooring run inventory-check -c ${file} --wait\n`);
    });
  labOptions(lab.command('down'))
    .option(KUBERNETES_LAB_FLAG, kubernetesLabHelp)
    .addHelpText('after', '\nExamples:\n  mooring lab down\n  mooring lab down --dir /tmp/lab2\n  mooring lab down --kubernetes')
    .description('Stop every lab process, etcd included, and check none is left (the lab directory, keys and data stay for the next `up`). The Kubernetes lab (--kubernetes) also deletes its network namespaces, and with them every link and address it made')
    .action(async (o: { dir?: string; subnet?: string; kubernetes?: boolean }) => {
      if (await isKubernetesLab(o)) {
        await (await netnsLabOf(o)).down();
        process.stdout.write('Kubernetes lab is down (its network namespaces are deleted)\n');
        return;
      }
      await labOf(o).down();
      process.stdout.write('lab is down\n');
    });
  labOptions(lab.command('destroy'))
    .description('Stop the lab, then delete what it made: keys, PKI, every node\'s data (etcd, snapshots, moved-aside dirs) and the object store\'s bucket. Other files in the lab directory stay. The next `up` builds a new lab')
    .option('--yes', 'really delete (without it, only says what would be deleted)')
    .option(KUBERNETES_LAB_FLAG, kubernetesLabHelp)
    .addHelpText('after', '\nExamples:\n  mooring lab destroy          says what it would delete\n  mooring lab destroy --yes\n  mooring lab destroy --kubernetes --yes')
    .action(async (o: { yes?: boolean; dir?: string; subnet?: string; kubernetes?: boolean }) => {
      const l = (await isKubernetesLab(o)) ? await netnsLabOf(o) : labOf(o);
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
  withExamples(labOptions(lab.command('status')), 'mooring lab status', 'mooring lab status -o json', 'mooring lab status --kubernetes')
    .description('Show each node: address, role, sshd up/down, etcd leader/follower/unhealthy/stopped, and active faults. With --kubernetes: the Kubernetes lab\'s nodes, processes in each namespace and which gateway holds the VIP')
    .option(KUBERNETES_LAB_FLAG, kubernetesLabHelp)
    .addOption(outputOption())
    .action(async (o: { dir?: string; subnet?: string; kubernetes?: boolean; output?: string }) => {
      if (await isKubernetesLab(o)) {
        const nodes = await (await netnsLabOf(o)).status();
        if (await printData(o, nodes)) return;
        process.stdout.write(`${table(['node', 'address', 'role', 'sshd', 'processes', 'VIP'], nodes.map((n) => [n.name, n.ip, n.role, n.sshd, String(n.processes), n.vip ? 'holds it' : '']))}\n`);
        return;
      }
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
    .option(KUBERNETES_LAB_FLAG, `${kubernetesLabHelp}: every process in the node's network namespace dies and its link loses carrier (a gateway's VIP moves to the other one)`)
    .action(async (node: string, o: { dir?: string; subnet?: string; kubernetes?: boolean }) => {
      if (await isKubernetesLab(o)) await (await netnsLabOf(o)).powerOff(node);
      else await labOf(o).powerOff(node);
      process.stdout.write(`${node} is powered off (mooring lab up${o.kubernetes ? ' --kubernetes 1.N' : ''} powers it on)\n`);
    });
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
