// The provisioning host phase (workflows/provision/hosts.ts) end to end on the bare netns lab:
// nodes with sshd and the SIMULATED stand-ins only, no keepalived/HAProxy/kubeadm run by the lab,
// the real Temporal dev server and worker. Seed 002's shape: two gateways (gw-1 the bastion),
// three stacked masters, one worker. The workflow installs and starts the real HAProxy and
// keepalived on the gateways, runs the real kubeadm init/join through the VIP, and the smoke test
// lists every node Ready through the VIP and moves the VIP. A second run changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { NetnsLab } from '../../lab/netns/netns-lab.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import type { HostPhaseResult } from '../../activities/host/context.js';
import type { TestTemporal } from '../helpers/temporal.js';
import { startHostPhaseLab, type HostPhaseLab } from '../helpers/host-phase-lab.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const LAYOUT = { tag: 'h10', lan: 10, loopback: '127.82.0' };
const RELEASE = pinnedKubernetes()[0]!;

describe(`provisionHosts on the bare netns lab (seed 002's shape, Kubernetes ${RELEASE})`, { timeout: 1_200_000 }, () => {
  let lab: NetnsLab;
  let temporal: TestTemporal;
  let stateDir: string;
  let phase: HostPhaseLab;

  before(async () => {
    phase = await startHostPhaseLab({ prefix: 'mooring-hosts-', layout: LAYOUT, kubernetesVersion: RELEASE });
    ({ lab, temporal, stateDir } = phase);
  });
  after(async () => {
    // Not a test: the history test/replay holds provisionHosts to (MOORING_RECORD_HISTORY).
    await phase?.stop(first ? { workflowId: firstId, file: 'provision-hosts.json' } : undefined);
    if (lab) assert.deepEqual(await lab.leftovers(), []);
  });

  const run = (id: string) => phase.run(id);

  let first: HostPhaseResult;
  const firstId = `provision-hosts-${randomUUID()}`;

  it('the lab starts nothing on the bare gateways: no VIP before the host phase', async () => {
    assert.equal(await lab.vipHolder(), undefined);
  });

  it('provisions the cluster: load balancers, prerequisites, kubeadm init and joins, smoke test', async () => {
    first = await run(firstId);
    assert.equal(first.apiEndpoint, `https://${lab.vip}:6443`);
    assert.deepEqual(first.nodes.map((n) => n.name).sort(), ['master-1', 'master-2', 'master-3', 'worker-1']);
    assert.ok(first.nodes.every((n) => n.ready && n.kubeletVersion === `v${RELEASE}`), JSON.stringify(first.nodes));
    assert.match(first.smoke.join('\n'), /VIP failover: keepalived stopped on gw-\d, the VIP moved to gw-\d/);
    for (const gw of ['gw-1', 'gw-2']) {
      assert.ok(first.changed.includes(`${gw}: /etc/haproxy/haproxy.cfg (checked by haproxy -c)`), first.changed.join('\n'));
      assert.ok(existsSync(join(lab.nodeDir(gw), 'root', 'etc', 'keepalived', 'keepalived.conf')));
    }
    assert.ok(first.changed.includes(`master-1: kubeadm init (control-plane endpoint ${lab.vip}:6443)`));
    assert.ok(first.changed.includes('master-2: kubeadm join --control-plane'));
    assert.ok(first.changed.includes('worker-1: kubeadm join'));
    // The admin kubeconfig is on this machine, 0600, and only its path is in the result.
    assert.equal(first.kubeconfigPath, join(stateDir, 'clusters', 'lab-h10', 'admin.conf'));
    assert.equal(statSync(first.kubeconfigPath).mode & 0o777, 0o600);
    assert.match(readFileSync(first.kubeconfigPath, 'utf8'), new RegExp(`server: https://${lab.vip.replace(/\./g, '\\.')}:6443`));
    // The SIMULATED apt-get was asked for exactly the release, pinned.
    const packages = readFileSync(join(lab.nodeDir('worker-1'), 'packages.log'), 'utf8');
    assert.match(packages, new RegExp(`install .*kubelet=${RELEASE.replace(/\./g, '\\.')}-\\* kubeadm=`));
  });

  it('keeps the join token and certificate key out of the history and off the command lines', async () => {
    const history = JSON.stringify(await temporal.client.workflow.getHandle(firstId).fetchHistory());
    assert.doesNotMatch(history, /[a-z0-9]{6}\.[a-z0-9]{16}/, 'no bootstrap token in history');
    assert.doesNotMatch(history, /BEGIN [A-Z ]*PRIVATE KEY|client-key-data/, 'no key in history');
    for (const node of ['master-2', 'worker-1']) {
      const commands = lab.commandsReceived(node).join('\n');
      assert.match(commands, /kubeadm join --config \/dev\/stdin/);
      assert.doesNotMatch(commands, /[a-z0-9]{6}\.[a-z0-9]{16}|--certificate-key|--token/);
    }
  });

  it('a second run on the finished cluster changes nothing and says so', async () => {
    const again = await run(`provision-hosts-${randomUUID()}`);
    assert.deepEqual(again.changed, []);
    assert.equal(again.nodes.filter((n) => n.ready).length, 4);
  });

  it('the API keeps answering through the VIP when the gateway holding it loses power', async () => {
    const holder = await lab.vipHolder();
    assert.ok(holder);
    await lab.powerOff(holder);
    const other = holder === 'gw-1' ? 'gw-2' : 'gw-1';
    const { waitFor } = await import('../../lab/processes.js');
    await waitFor(`the VIP on ${other}`, async () => (await lab.vipHolder()) === other, 30_000, 250);
    // From inside the lab (master-1), through the VIP now on the other gateway.
    await waitFor('the API through the moved VIP', async () => (await lab.execIn('master-1', ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', 'get', '--raw=/readyz']).catch(() => '')).trim() === 'ok', 30_000, 500);
  });
});
