// End to end on real software: the Temporal dev server, a real worker, the lab's real sshd
// hosts, and the `mooring` CLI as a subprocess. Hosts are SIMULATED by the lab (loopback).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { listeningOn } from '../../activities/inventory/facts.js';
import { eventually } from '../helpers/temporal.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const SUBNET = '127.20.0';

describe('inventory-check on the lab through the CLI (real Temporal, real sshd)', () => {
  let stack: LabStack | undefined;
  let lab: Lab;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startLabStack('inventory', SUBNET);
    ({ lab, env } = stack);
  });
  after(async () => { await stack?.stop(); });

  it('validate, run, refuse a second run, approve, follow, list: every host probed for real', async () => {
    const v = await mooring(['validate', '-c', lab.inventoryFile], env);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /valid\. Cluster lab/);

    // Something listens on worker-1's kubelet port: the check must report it.
    const squatter = await listen(`${SUBNET}.31`, 10250);
    try {
      const started = await mooring(['run', 'inventory-check', '-c', lab.inventoryFile, '-o', 'json'], env);
      assert.equal(started.code, 0, started.stderr);
      const { workflowId, url } = JSON.parse(started.stdout) as { workflowId: string; url: string };
      assert.equal(workflowId, 'inventory-check/lab');
      assert.match(url, /\/namespaces\/default\/workflows\/inventory-check%2Flab\//);

      const again = await mooring(['run', 'inventory-check', '-c', lab.inventoryFile], env);
      assert.equal(again.code, 3);
      assert.match(again.stderr, /cluster is busy: inventory-check is already running as inventory-check\/lab \(run /);

      const waiting = await eventually('the approval gate', async () => {
        const s = await mooring(['status', workflowId, '-o', 'json'], env);
        const j = JSON.parse(s.stdout) as { progress?: { pendingApproval?: { step: string } } };
        return j.progress?.pendingApproval ? j : undefined;
      });
      assert.equal(waiting.progress?.pendingApproval?.step, 'approve');
      assert.equal(lab.commandsReceived('etcd-1').length, 0, 'no host is touched before approval');

      const human = await mooring(['status', workflowId], env);
      assert.match(human.stdout, /Waiting for approval of "approve"/);
      assert.match(human.stdout, /mooring approve inventory-check\/lab --by NAME/);

      const approved = await mooring(['approve', workflowId, '--by', 'alice', '--comment', 'CHG-42'], env);
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, /approved "approve" of inventory-check\/lab by alice/);

      const followed = await mooring(['status', workflowId, '--follow'], env);
      assert.equal(followed.code, 0, followed.stderr);
      assert.match(followed.stdout, /approved approve by alice .*: CHG-42/);

      const done = JSON.parse((await mooring(['status', workflowId, '-o', 'json'], env)).stdout) as { status: string; result: { hosts: { name: string; os: string; kernel: string; busyPorts: number[]; freePorts: number[] }[]; findings: string[] } };
      assert.equal(done.status, 'COMPLETED');
      const hosts = done.result.hosts;
      assert.deepEqual(hosts.map((h) => h.name).sort(), ['etcd-1', 'etcd-2', 'etcd-3', 'gw-1', 'gw-2', 'master-1', 'worker-1']);
      // The facts are the machine's own, read over SSH: compare with what this process sees.
      const prettyName = /PRETTY_NAME="?([^"\n]*)"?/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
      const kernel = execFileSync('uname', ['-sr']).toString().trim();
      for (const h of hosts) {
        assert.equal(h.os, prettyName, h.name);
        assert.equal(h.kernel, kernel, h.name);
      }
      // Busy ports are exactly what listens on each host's address, as seen independently here.
      const ss = execFileSync('ss', ['-ltnH']).toString();
      for (const h of hosts) {
        const listening = listeningOn(ss, `${SUBNET}.${octetOf(h.name)}`);
        assert.deepEqual(h.busyPorts, [...h.busyPorts, ...h.freePorts].sort((a, b) => a - b).filter((p) => listening.has(p)), h.name);
      }
      assert.ok(hosts.find((h) => h.name === 'worker-1')?.busyPorts.includes(10250));
      assert.ok(done.result.findings.some((f) => /^worker-1: ports .*10250.* already in use$/.test(f)), JSON.stringify(done.result.findings));
      for (const n of ['gw-1', 'etcd-1', 'master-1']) assert.equal(lab.commandsReceived(n).length, 1, `${n} probed exactly once`);

      const list = await mooring(['list', '--cluster', 'lab', '-o', 'json'], env);
      const runs = JSON.parse(list.stdout) as { workflowId: string; runbook: string; status: string }[];
      assert.ok(runs.some((r) => r.workflowId === workflowId && r.runbook === 'inventory-check' && r.status === 'COMPLETED'));
      const none = JSON.parse((await mooring(['list', '--cluster', 'no-such-cluster', '-o', 'json'], env)).stdout) as unknown[];
      assert.equal(none.length, 0);
    } finally {
      squatter.close();
    }
  });

  it('refuses a host whose key does not match its pin, without retrying', async () => {
    const inv = parse(readFileSync(lab.inventoryFile, 'utf8')) as { gateways: { hostKey: string }[]; etcd: { members: { hostKey: string }[] } };
    inv.gateways[0]!.hostKey = inv.etcd.members[0]!.hostKey; // gw-1 will present its own, different key
    const file = join(lab.dir, 'wrong-pin.yaml');
    writeFileSync(file, stringify(inv));
    const before = lab.commandsReceived('gw-1').length;
    const started = await mooring(['run', 'inventory-check', '-c', file, '-o', 'json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    await eventually('the gate', async () => JSON.parse((await mooring(['status', workflowId, '-o', 'json'], env)).stdout).progress?.pendingApproval);
    assert.equal((await mooring(['approve', workflowId, '--by', 'bob'], env)).code, 0);
    const followed = await mooring(['status', workflowId, '--follow'], env);
    assert.notEqual(followed.code, 0);
    assert.match(followed.stdout, /FAILED: \[HostsUnreachable\] 1 of 7 hosts could not be probed:\ngw-1: 127\.20\.0\.2 presented host key SHA256:\S+ but gateways\[0\]\.hostKey pins SHA256:/);
    assert.match(followed.stdout, /✔ +Probe gw-2 /, 'the other hosts were still probed');
    assert.equal(lab.commandsReceived('gw-1').length, before, 'no command ran on the host that failed verification');
  });

  it('rejects an invalid inventory before anything starts', async () => {
    const file = join(lab.dir, 'invalid.yaml');
    writeFileSync(file, readFileSync(lab.inventoryFile, 'utf8').replace(/ip: 127\.20\.0\.12\b/, 'ip: 127.20.0'));
    const r = await mooring(['run', 'inventory-check', '-c', file], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /etcd\.members\[1\]\.ip: "127\.20\.0" is not an IPv4 address/);
    assert.match(r.stderr, /Nothing was started/);
  });
});

function octetOf(name: string): number {
  return { 'gw-1': 2, 'gw-2': 3, 'etcd-1': 11, 'etcd-2': 12, 'etcd-3': 13, 'master-1': 21, 'worker-1': 31 }[name] ?? 0;
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}
