// The lab with real networks: each node in its own network namespace on a lab bridge, reached
// by Mooring's own SSH code the way seeds 001/002 reach production (gw-1 as the bastion, through
// the loopback address that stands for its floating IP); real keepalived moving the VIP between
// the gateways' namespaces and real HAProxy balancing to the masters; everything gone after down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../config/load.js';
import { hostsOf } from '../../config/hosts.js';
import type { Inventory } from '../../config/schema.js';
import { withSession, type SshAccess } from '../../activities/ssh/access.js';
import { shellQuote } from '../../activities/ssh/quote.js';
import { NetnsLab } from '../../lab/netns/netns-lab.js';
import { waitFor } from '../../lab/processes.js';
import { parse } from 'yaml';
import { scratchDir } from '../helpers/scratch.js';

const LAYOUT = { tag: 't', lan: 1, loopback: '127.61.0' };

describe('netns lab: nodes on a lab bridge, gateways as bastions, a VIP that moves', () => {
  let lab: NetnsLab;
  let inv: Inventory;
  let access: SshAccess;
  const run = (name: string, command: string) => {
    const h = hostsOf(inv).find((x) => x.name === name)!;
    return withSession({}, access, { name, ip: h.ip, sshPort: h.sshPort, ...(h.hostKey ? { hostKey: h.hostKey } : {}), where: name }, new AbortController().signal,
      (s) => s.run(command, { timeoutMs: 20_000 }));
  };
  const fromLan = (url: string) => lab.execIn('lan', ['curl', '--silent', '--fail', '--max-time', '3', url]).catch(() => '');

  before(async () => {
    lab = new NetnsLab({ dir: scratchDir('mooring-netns-'), layout: LAYOUT, apiCheck: 'tcp' });
    await lab.up();
    inv = parseInventory(parse(readFileSync(lab.inventoryFile, 'utf8')), lab.inventoryFile);
    access = { user: inv.ssh.user, privateKeyPath: inv.ssh.privateKeyPath, connectTimeoutSeconds: inv.ssh.connectTimeoutSeconds, ...(inv.ssh.bastion ? { bastion: inv.ssh.bastion } : {}) };
  });
  after(async () => {
    const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`mnet-${LAYOUT.tag}-`));
    const before = namespaces();
    await lab?.down();
    assert.ok(before.length >= 7, `the lab made its namespaces (${before.join(', ')})`);
    assert.deepEqual(namespaces(), [], 'every namespace the lab made is deleted');
    assert.deepEqual(await lab.leftovers(), []);
  });

  it('writes an inventory Mooring accepts, with a bastion on this machine\'s loopback and node addresses only inside the lab', () => {
    assert.equal(inv.ssh.bastion?.host, `${LAYOUT.loopback}.2`);
    assert.ok(inv.ssh.bastion?.hostKey, 'the bastion host key is pinned');
    assert.equal(hostsOf(inv).length, 6);
    for (const h of hostsOf(inv)) assert.match(h.ip, /^10\.77\.1\.\d+$/);
    // Nothing of the lab network exists in this machine's namespace: no address, no route.
    assert.doesNotMatch(execFileSync('ip', ['-4', 'addr'], { encoding: 'utf8' }), /10\.77\./);
    assert.doesNotMatch(execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' }), /10\.77\./);
  });

  it('runs a command on every node through the bastion with Mooring\'s SSH session, each in its own network and filesystem', async () => {
    const seen = new Map<string, string>();
    for (const h of hostsOf(inv)) {
      const out = await run(h.name, `ip -4 -o addr show dev eth0; readlink /proc/self/ns/net; echo ${shellQuote(h.name)} > /etc/kubernetes/who; cat /etc/kubernetes/who`);
      assert.match(out, new RegExp(`inet ${h.ip.replaceAll('.', '\\.')}/24`), `${h.name} answers from its own address: ${out}`);
      const [netns] = out.match(/net:\[\d+\]/) ?? [];
      assert.ok(netns, out);
      assert.ok(![...seen.values()].includes(netns), `${h.name} has a network namespace of its own`);
      seen.set(h.name, netns);
      assert.ok(out.trim().endsWith(h.name), 'the node writes to its own /etc/kubernetes');
    }
    // The bastion carried the sessions: every node's own sshd logged the command it ran.
    assert.ok(lab.commandsReceived('worker-1').some((c) => c.includes('/etc/kubernetes/who')));
    assert.equal(await run('master-2', 'cat /etc/kubernetes/who'), 'master-2\n');
  });

  it('keeps the VIP on one gateway, HAProxy serves the masters on it, and both move to the other gateway when it is powered off', async () => {
    // Stand-ins for the apiservers (this test has no Kubernetes): each master answers its name on 6443.
    for (const m of inv.masters) {
      await run(m.name, `mkdir -p /var/lib/whoami && echo ${shellQuote(m.name)} > /var/lib/whoami/name && setsid python3 -m http.server 6443 --bind ${shellQuote(m.ip)} --directory /var/lib/whoami < /dev/null > /dev/null 2>&1 &`);
    }
    const holder = await lab.vipHolder();
    assert.equal(holder, 'gw-1', 'the first gateway is MASTER (priority 150)');
    const masters = new Set(inv.masters.map((m) => m.name));
    const names = new Set<string>();
    await waitFor('HAProxy on the VIP to reach every master', async () => {
      const got = (await fromLan(`http://${lab.vip}:6443/name`)).trim();
      if (got) names.add(got);
      return names.size === masters.size;
    }, 30_000, 200);
    assert.deepEqual([...names].sort(), [...masters].sort(), 'round robin over the three masters');
    // From this machine: only through the loopback forward to the VIP.
    const viaLoopback = await (await fetch(`http://${lab.apiEndpoint.host}:${lab.apiEndpoint.port}/name`)).text();
    assert.ok(masters.has(viaLoopback.trim()), viaLoopback);

    const killed = await lab.powerOff('gw-1');
    assert.ok(killed >= 3, `sshd, keepalived and HAProxy of gw-1 were killed (${killed})`);
    await waitFor('the VIP to move to gw-2', async () => (await lab.vipHolder()) === 'gw-2', 20_000, 200);
    assert.deepEqual(await lab.execIn('gw-1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).then((o) => o.includes(lab.vip)), false, 'gw-1 no longer has it');
    let served = '';
    await waitFor('HAProxy on gw-2 to serve the VIP', async () => { served = (await fromLan(`http://${lab.vip}:6443/name`)).trim(); return masters.has(served); }, 20_000, 200);
    // gw-2 answered: gw-1's HAProxy is dead, and the lan's neighbour entry for the VIP is gw-2's MAC.
    const neigh = await lab.execIn('lan', ['ip', 'neigh', 'show', lab.vip]);
    const gw2Mac = (await lab.execIn('gw-2', ['cat', '/sys/class/net/eth0/address'])).trim();
    assert.ok(neigh.includes(gw2Mac), `the VIP resolves to gw-2 (${gw2Mac}): ${neigh}`);

    // Power back on: `up` restarts gw-1's processes; gw-1 (higher priority) takes the VIP back.
    await lab.up();
    await waitFor('gw-1 to take the VIP back', async () => (await lab.vipHolder()) === 'gw-1', 20_000, 200);
  });
});
