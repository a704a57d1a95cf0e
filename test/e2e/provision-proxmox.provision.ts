// Provisioning end to end behind the SIMULATED Proxmox VE fake: seed 003's shape (3 masters with
// the VIP on them, HAProxy on 60443, 5 workers, stacked etcd) by ONE command, `mooring provision
// -c FILE --yes --by …`, through the CLI, the real Temporal dev server and a real `mooring worker`
// process. Each VM the fake starts is a real bare netns lab node (lab/cloud-nodes/proxmox.ts:
// real sshd with the host key of the VM's cicustom vendor snippet, root's key from its sshkeys,
// a forward from 127.86.0.<octet>); the first master is the SSH way in. Checked: the CLI's
// result, `kubectl get nodes` through the VIP from the lab's LAN, a second run with no clone and
// nothing changed, `mooring deprovision` leaving the fake's VMs as they were and every node gone.
// Outside `npm test` (npm run test:provision:proxmox). netns tag x11, lan 16, loopback 127.86.0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { parseInventory } from '../../config/load.js';
import { ensureKey } from '../../lab/sshd.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { deriveHostKey, publicKeyOnly } from '../../activities/cloud/host-keys.js';
import { resolveSecret } from '../../activities/secrets.js';
import { labProxmoxInventoryFromSeed } from '../../lab/cloud-nodes/lab-inventory.js';
import { startProxmoxLab, type ProxmoxLab } from '../../lab/cloud-nodes/proxmox.js';
import { PVE_NODES, PVE_TOKEN, SEED_ENV, TOKEN_ENV, seed003FakeOptions, setPveEnv } from '../helpers/proxmox.js';
import { mooring, type CliResult } from '../helpers/cli.js';
import { eventually, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startCloudSuite, stopCloudSuite, type CloudSuite } from '../helpers/cloud-lab-suite.js';
import { scratchDir } from '../helpers/scratch.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';

const LAYOUT = { tag: 'x11', lan: 16, loopback: '127.86.0' };
const RELEASE = pinnedKubernetes()[0]!;
const CLUSTER = 'molly';
const HOSTS = ['kube0', 'kube1', 'kube2', 'kube3', 'kube4', 'kube5', 'kube6', 'kube7'];

describe(`mooring provision of seed 003's shape behind the SIMULATED Proxmox VE fake, on real lab nodes (Kubernetes ${RELEASE})`, { timeout: 1_800_000 }, () => {
  let dir: string;
  let cloud: ProxmoxLab;
  let temporal: TestTemporal;
  let suite: CloudSuite | undefined;
  let inventoryFile: string;
  let stateDir: string;
  let vmsBefore: number[];
  const taskQueue = uniqueTaskQueue('provision-proxmox');
  const cli = (args: string[]) => mooring([...args, '-c', inventoryFile, '--address', temporal.address, '--task-queue', taskQueue], {}, 1_500_000);
  const show = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`;
  const vms = () => [...cloud.fake.state.vms.keys()].sort((a, b) => a - b);

  before(async () => {
    dir = scratchDir('mooring-provision-proxmox-');
    stateDir = join(dir, 'state');
    const snippets = join(dir, 'cephfs');
    mkdirSync(snippets, { recursive: true });
    cloud = await startProxmoxLab({ dir: join(dir, 'lab'), layout: LAYOUT, apiPort: 60443, fake: seed003FakeOptions(snippets, { host: `${LAYOUT.loopback}.1` }) });
    vmsBefore = vms();
    setPveEnv();
    const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-lab-operator');
    const inventory = labProxmoxInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', 'seed-003-proxmox-stacked-etcd.yaml'), {
      layout: LAYOUT, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: RELEASE, hostKeySeed: { env: SEED_ENV },
      proxmox: { apiUrl: cloud.fake.apiUrl, tokenId: PVE_TOKEN.tokenid, tokenSecret: { env: TOKEN_ENV }, nodes: PVE_NODES, snippets: { storage: 'cephfs', localDir: snippets } },
      // The first master is the way in: pinned with the key Mooring derives for it, from the seed as the Proxmox activities read it.
      bastionHostKey: publicKeyOnly(deriveHostKey(await resolveSecret({ env: SEED_ENV }, 'ssh.hostKeySeed'), CLUSTER, 'kube0').publicKey),
    });
    parseInventory(inventory, 'lab inventory of seed 003');
    inventoryFile = join(dir, `${CLUSTER}.yaml`);
    writeFileSync(inventoryFile, stringify(inventory));
    process.env.MOORING_STATE_DIR = stateDir;
    suite = await startCloudSuite(dir, taskQueue);
    temporal = suite.temporal;
  });
  after(() => stopCloudSuite(suite, cloud));

  it('one command clones and starts the VMs and, on the machines behind them, puts the VIP on the masters and Kubernetes on all; the smoke test passes', async () => {
    const r = await cli(['provision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const out = JSON.parse(r.stdout) as { status: string; result: ProvisionResult };
    assert.equal(out.status, 'COMPLETED');
    assert.equal(out.result.nothingChanged, false);
    assert.ok(out.result.changed.includes('kube0: kubeadm init (control-plane endpoint 10.77.16.100:60443)'), out.result.changed.join('\n'));
    assert.match(out.result.report, /VIP failover/);
    assert.deepEqual(cloud.lab.machines().map((m) => m.name).sort(), HOSTS);
  });

  it('kubectl through the VIP (60443 on the masters) lists every node Ready', async () => {
    const nodes = await cloud.lab.execIn('lan', [findTool('kubectl', 'MOORING_KUBECTL'), '--kubeconfig', join(stateDir, 'clusters', CLUSTER, 'admin.conf'), '--request-timeout=10s', 'get', 'nodes', '--no-headers']);
    const rows = nodes.trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((x) => x[0]).sort(), HOSTS, nodes);
    assert.ok(rows.every((x) => x[1] === 'Ready'), nodes);
  });

  it('a second run makes no clone and reports nothing changed', async () => {
    const mark = cloud.fake.requests.length;
    const r = await cli(['provision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(cloud.fake.requests.slice(mark).filter((q) => q.method === 'POST' && /\/clone$/.test(q.path)), []);
    assert.equal((JSON.parse(r.stdout) as { result: ProvisionResult }).result.nothingChanged, true);
  });

  it('mooring deprovision leaves the fake\'s VMs as they were and every lab node gone', async () => {
    const r = await cli(['deprovision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(vms(), vmsBefore);
    await eventually('every lab node gone', async () => HOSTS.every((h) => !existsSync(`/run/netns/${cloud.lab.ns(h)}`)), 30_000, 200);
    assert.deepEqual(cloud.lab.machines(), []);
  });
});
