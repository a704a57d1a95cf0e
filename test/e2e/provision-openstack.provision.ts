// Provisioning end to end behind the SIMULATED OpenStack fake: seed 001's shape (2 gateways as
// bastions, 3 external etcd, 3 masters, 1 worker) by ONE command, `mooring provision -c FILE
// --yes --by …`, through the CLI, the real Temporal dev server and a real `mooring worker`
// process. Each server the fake makes ACTIVE is a real bare netns lab node (lab/cloud-nodes:
// real sshd with the host key of the server's cloud-init user data, root's key from its key pair,
// its floating IP a forward from 127.85.0.x), so the cloud phase and the real host phase run one
// after the other. Checked: the CLI's result, `kubectl get nodes` through the VIP from the lab's
// LAN, a second run with no write in the fake's request log and nothing changed, and
// `mooring deprovision` leaving the fake project as it was with every lab node gone.
// Outside `npm test` (npm run test:provision:openstack; about 10 minutes). netns tag o10, lan 15,
// loopback 127.85.0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { parseInventory } from '../../config/load.js';
import { ensureKey } from '../../lab/sshd.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { labInventoryFromSeed } from '../../lab/cloud-nodes/lab-inventory.js';
import { startOpenStackLab, type OpenStackLab } from '../../lab/cloud-nodes/openstack.js';
import { projectState, writesSince } from '../helpers/openstack-seeds.js';
import { mooring, type CliResult } from '../helpers/cli.js';
import { uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startCloudSuite, stopCloudSuite, type CloudSuite } from '../helpers/cloud-lab-suite.js';
import { scratchDir } from '../helpers/scratch.js';
import type { ProvisionResult } from '../../workflows/provision/provision.js';

const LAYOUT = { tag: 'o10', lan: 15, loopback: '127.85.0' };
const RELEASE = pinnedKubernetes()[0]!;
const CLUSTER = 'paas-challenge';
const HOSTS = ['gateway-1', 'gateway-2', 'etcd-1', 'etcd-2', 'etcd-3', 'master-1', 'master-2', 'master-3', 'worker-1'];

describe(`mooring provision of seed 001's shape behind the SIMULATED OpenStack fake, on real lab nodes (Kubernetes ${RELEASE})`, { timeout: 1_800_000 }, () => {
  let dir: string;
  let cloud: OpenStackLab;
  let temporal: TestTemporal;
  let suite: CloudSuite | undefined;
  let inventoryFile: string;
  let stateDir: string;
  let emptyProject: Record<string, string[]>;
  const taskQueue = uniqueTaskQueue('provision-openstack');
  const cli = (args: string[]) => mooring([...args, '-c', inventoryFile, '--address', temporal.address, '--task-queue', taskQueue], {}, 1_500_000);
  const show = (r: CliResult) => `exit ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`;

  before(async () => {
    dir = scratchDir('mooring-provision-openstack-');
    stateDir = join(dir, 'state');
    cloud = await startOpenStackLab({
      dir: join(dir, 'lab'), layout: LAYOUT,
      fake: {
        host: `${LAYOUT.loopback}.1`, port: 0,
        images: [{ id: '6f3c8d2e-0b1a-4c5d-9e8f-7a6b5c4d3e2f', name: 'ubuntu-20.04' }],
        quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } },
      },
    });
    emptyProject = projectState(cloud.fake);
    const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-lab-operator');
    const inventory = labInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'), {
      layout: LAYOUT, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: RELEASE, hostKeySeed: { env: 'MOORING_HOST_KEY_SEED' },
    });
    parseInventory(inventory, 'lab inventory of seed 001'); // what the CLI will read must be valid
    inventoryFile = join(dir, `${CLUSTER}.yaml`);
    writeFileSync(inventoryFile, stringify(inventory));

    // The worker's environment, as a production worker's: OpenStack credentials (OS_*), the host-key seed, its state directory.
    const s = cloud.fake.state;
    Object.assign(process.env, {
      OS_AUTH_URL: cloud.fake.authUrl, OS_USERNAME: s.user.name, OS_PASSWORD: s.user.password, OS_PROJECT_NAME: s.project.name,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: s.region,
      MOORING_HOST_KEY_SEED: randomBytes(32).toString('base64'), MOORING_STATE_DIR: stateDir,
    });
    suite = await startCloudSuite(dir, taskQueue);
    temporal = suite.temporal;
  });
  after(() => stopCloudSuite(suite, cloud));

  let first: CliResult;

  it('one command provisions the cloud resources and, on the machines behind them, gateways, external etcd and Kubernetes; the smoke test passes', async () => {
    first = await cli(['provision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stderr, /approved approve as e2e \(approved in advance with --yes on the command line\)/, show(first));
    const out = JSON.parse(first.stdout) as { status: string; result: ProvisionResult };
    assert.equal(out.status, 'COMPLETED', first.stdout.slice(0, 2000));
    assert.equal(out.result.nothingChanged, false);
    assert.ok(out.result.created.includes(`server ${CLUSTER}-master-1`), out.result.created.join('\n'));
    assert.ok(out.result.changed.includes('master-1: kubeadm init (control-plane endpoint 10.77.15.100:6443)'), out.result.changed.join('\n'));
    assert.ok(out.result.changed.includes('etcd-2: /etc/etcd/etcd.conf.yaml written (new cluster of 3)'), out.result.changed.join('\n'));
    assert.match(out.result.report, /Smoke test/);
    assert.equal(out.result.kubeconfigPath, join(stateDir, 'clusters', CLUSTER, 'admin.conf'));
    // Every server booted a lab node at its inventory address.
    assert.deepEqual(cloud.lab.machines().map((m) => m.name).sort(), [...HOSTS].sort());
    for (const m of cloud.lab.machines()) assert.match(m.address, /^10\.77\.15\.\d+$/);
    assert.deepEqual(cloud.lab.machines().filter((m) => m.publicAddress).map((m) => `${m.name} ${m.publicAddress}`).sort(), ['gateway-1 127.85.0.2', 'gateway-2 127.85.0.3']);
    assert.equal(statSync(join(stateDir, 'clusters', CLUSTER, 'admin.conf')).mode & 0o777, 0o600);
  });

  it('kubectl through the VIP lists every Kubernetes node Ready', async () => {
    const kubeconfig = join(stateDir, 'clusters', CLUSTER, 'admin.conf');
    assert.match(readFileSync(kubeconfig, 'utf8'), /server: https:\/\/10\.77\.15\.100:6443/);
    const nodes = await cloud.lab.execIn('lan', [findTool('kubectl', 'MOORING_KUBECTL'), '--kubeconfig', kubeconfig, '--request-timeout=10s', 'get', 'nodes', '--no-headers']);
    const rows = nodes.trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[0]).sort(), ['master-1', 'master-2', 'master-3', 'worker-1'], nodes);
    assert.ok(rows.every((r) => r[1] === 'Ready'), nodes);
  });

  it('a second run makes no create call (the fake\'s request log) and reports nothing changed', async () => {
    const mark = cloud.fake.requests.length;
    const again = await cli(['provision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(writesSince(cloud.fake, mark).map((r) => `${r.method} ${r.path}`), []);
    const out = JSON.parse(again.stdout) as { status: string; result: ProvisionResult };
    assert.equal(out.result.nothingChanged, true, out.result.report);
    assert.deepEqual([out.result.created, out.result.changed], [[], []]);
    assert.match(out.result.report, /Nothing changed/);
  });

  it('mooring deprovision leaves the fake project as it was and every lab node gone', async () => {
    const r = await cli(['deprovision', '--yes', '--by', 'e2e', '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    // The key pair the lab inventory imported is Mooring's (<cluster>-…), so it goes too.
    assert.deepEqual(projectState(cloud.fake), emptyProject);
    assert.deepEqual(cloud.lab.machines(), []);
    assert.deepEqual(HOSTS.filter((h) => existsSync(`/run/netns/${cloud.lab.ns(h)}`)), []);
  });
});
