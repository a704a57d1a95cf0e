// What one SSH step costs on the lab, measured beside the recoveries: an OpenSSH client process
// running one command (what the baseline scripts pay per command), an ssh2 connection with its
// handshake (what an activity paid before the worker's pool), and one command on a connection
// that is already open (what an activity pays on a pooled one). Interleaved, median of `rounds`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { SshSession } from '../activities/ssh/session.js';
import type { Inventory } from '../config/schema.js';
import { memberRefsOf } from '../workflows/etcd-recovery/target.js';

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function sshCosts(inv: Inventory, ip: string, rounds = 9): Promise<string[]> {
  const node = memberRefsOf(inv).find((m) => m.ip === ip);
  if (!node) throw new Error(`${ip} is not an etcd member of the inventory`);
  const key = readFileSync(inv.ssh.privateKeyPath);
  const target = { name: node.name, host: ip, port: node.sshPort, where: node.where, ...(node.hostKey ? { hostKey: node.hostKey } : {}) };
  const t = { openssh: [] as number[], handshake: [] as number[], exec: [] as number[] };
  const time = async (into: number[], fn: () => Promise<unknown>) => { const s = performance.now(); await fn(); into.push(performance.now() - s); };
  const session = await SshSession.open(target, { user: inv.ssh.user, privateKey: key, connectTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < rounds; i++) {
      await time(t.openssh, () => run('ssh', ['-i', inv.ssh.privateKeyPath, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', String(node.sshPort), `${inv.ssh.user}@${ip}`, 'true']));
      await time(t.handshake, async () => (await SshSession.open(target, { user: inv.ssh.user, privateKey: key, connectTimeoutMs: 10_000 })).close());
      await time(t.exec, () => session.run('true'));
    }
  } finally {
    session.close();
  }
  const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
  return [
    `ssh costs on the lab (median of ${rounds}, interleaved):`,
    `  OpenSSH client, one command (the scripts, per command) : ${ms(t.openssh)}`,
    `  ssh2 connection: TCP + SSH handshake + auth            : ${ms(t.handshake)}`,
    `  one command on an open ssh2 connection                 : ${ms(t.exec)}`,
  ];
}
