// Provisioning end to end behind the SIMULATED OpenStack fake: seed 001's shape (2 gateways as
// bastions, 3 external etcd, 3 masters, 1 worker), then seed 002's (2 gateways as bastions, 3
// stacked-etcd masters, 2 workers), each by ONE command, `mooring provision -c FILE
// --yes --by …`, through the CLI, the real Temporal dev server and a real `mooring worker`
// process. Each server the fake makes ACTIVE is a real bare netns lab node (lab/cloud-nodes:
// real sshd with the host key of the server's cloud-init user data, root's key from its key pair,
// its floating IP a forward from 127.85.0.x), so the cloud phase and the real host phase run one
// after the other. Checked: the CLI's result, `kubectl get nodes` through the VIP from the lab's
// LAN, a second run with no write in the fake's request log and nothing changed, and
// `mooring deprovision` leaving the fake project as it was with every lab node gone.
// Outside `npm test` (npm run test:provision:openstack; about 10 minutes).
// MOORING_TEST_SEEDS=001 (or 002) runs one seed only. netns tag o10, lan 15,
// loopback 127.85.0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_FLAVORS } from '../../lab/fakes/openstack/state.js';
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

interface SeedCase {
  seed: '001' | '002';
  file: string;
  cluster: string;
  hosts: string[];
  gateways: string[];
  /** The Kubernetes nodes kubectl must list. */
  nodes: string[];
  firstMaster: string;
  /** What the host phase builds, for the test's title. */
  builds: string;
  /** Lines the first run's `changed` must hold beside kubeadm init (external etcd formed, for seed 001). */
  changed: string[];
  /** What the fake must offer for the seed's image and flavors. */
  fake: { images: { id: string; name: string }[]; flavors?: typeof DEFAULT_FLAVORS };
}

const SEEDS: SeedCase[] = [
  {
    seed: '001', file: 'seed-001-openstack-external-etcd.yaml', cluster: 'paas-challenge',
    hosts: ['gateway-1', 'gateway-2', 'etcd-1', 'etcd-2', 'etcd-3', 'master-1', 'master-2', 'master-3', 'worker-1'],
    gateways: ['gateway-1', 'gateway-2'], nodes: ['master-1', 'master-2', 'master-3', 'worker-1'], firstMaster: 'master-1', builds: 'gateways, external etcd and Kubernetes',
    changed: ['etcd-2: /etc/etcd/etcd.conf.yaml written (new cluster of 3)'],
    fake: { images: [{ id: '6f3c8d2e-0b1a-4c5d-9e8f-7a6b5c4d3e2f', name: 'ubuntu-20.04' }] },
  },
  {
    seed: '002', file: 'seed-002-openstack-stacked-etcd.yaml', cluster: 'managed-k8s',
    hosts: ['gw-1', 'gw-2', 'master1', 'master2', 'master3', 'worker1', 'worker2'],
    gateways: ['gw-1', 'gw-2'], nodes: ['master1', 'master2', 'master3', 'worker1', 'worker2'], firstMaster: 'master1', builds: 'gateways and Kubernetes on stacked etcd',
    changed: [],
    fake: {
      images: [{ id: '0c5e7a3b-9d1f-4e2a-8b6c-5f4d3e2a1b0c', name: 'ubuntu-22.04' }],
      flavors: [...DEFAULT_FLAVORS, { id: '11', name: 's1.small', vcpus: 1, ram: 2048, disk: 20 }, { id: '12', name: 's1.large', vcpus: 4, ram: 8192, disk: 40 }, { id: '13', name: 's1.xlarge', vcpus: 8, ram: 16384, disk: 80 }],
    },
  },
];
const only = process.env.MOORING_TEST_SEEDS?.split(',').map((x) => x.trim()).filter(Boolean);

for (const sc of SEEDS.filter((c) => !only?.length || only.includes(c.seed))) {
  const { cluster: CLUSTER, hosts: HOSTS } = sc;
  describe(`mooring provision of seed ${sc.seed}'s shape behind the SIMULATED OpenStack fake, on real lab nodes (Kubernetes ${RELEASE})`, { timeout: 1_800_000 }, () => {
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
      dir = scratchDir(`mooring-provision-openstack-${sc.seed}-`);
      stateDir = join(dir, 'state');
      cloud = await startOpenStackLab({
        dir: join(dir, 'lab'), layout: LAYOUT,
        fake: {
          host: `${LAYOUT.loopback}.1`, port: 0,
          ...sc.fake,
          quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } },
        },
      });
      emptyProject = projectState(cloud.fake);
      const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-lab-operator');
      const inventory = labInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', sc.file), {
        layout: LAYOUT, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: RELEASE, hostKeySeed: { env: 'MOORING_HOST_KEY_SEED' },
      });
      parseInventory(inventory, `lab inventory of seed ${sc.seed}`); // what the CLI will read must be valid
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

    it(`one command provisions the cloud resources and, on the machines behind them, ${sc.builds}; the smoke test passes`, async () => {
      first = await cli(['provision', '--yes', '--by', 'e2e', '-o', 'json']);
      assert.equal(first.code, 0, show(first));
      assert.match(first.stderr, /approved approve as e2e \(approved in advance with --yes on the command line\)/, show(first));
      const out = JSON.parse(first.stdout) as { status: string; result: ProvisionResult };
      assert.equal(out.status, 'COMPLETED', first.stdout.slice(0, 2000));
      assert.equal(out.result.nothingChanged, false);
      assert.ok(out.result.created.includes(`server ${CLUSTER}-${sc.firstMaster}`), out.result.created.join('\n'));
      for (const line of [`${sc.firstMaster}: kubeadm init (control-plane endpoint 10.77.15.100:6443)`, ...sc.changed]) assert.ok(out.result.changed.includes(line), `${line}\n${out.result.changed.join('\n')}`);
      assert.match(out.result.report, /Smoke test/);
      // The addons (seed examples: cni: flannel), applied by the real kubectl to the real apiserver.
      assert.ok(out.result.changed.some((c) => c.startsWith(`${sc.firstMaster}: CNI flannel v0.28.10 applied (`)), out.result.changed.join('\n'));
      assert.ok(out.result.changed.some((c) => c.startsWith(`${sc.firstMaster}: local-path storage v0.0.30 applied (`)), out.result.changed.join('\n'));
      assert.match(out.result.report, /CNI flannel v0\.28\.10: /);
      assert.equal(out.result.kubeconfigPath, join(stateDir, 'clusters', CLUSTER, 'admin.conf'));
      // Every server booted a lab node at its inventory address.
      assert.deepEqual(cloud.lab.machines().map((m) => m.name).sort(), [...HOSTS].sort());
      for (const m of cloud.lab.machines()) assert.match(m.address, /^10\.77\.15\.\d+$/);
      assert.deepEqual(cloud.lab.machines().filter((m) => m.publicAddress).map((m) => m.name).sort(), [...sc.gateways].sort());
      for (const m of cloud.lab.machines().filter((x) => x.publicAddress)) assert.match(m.publicAddress!, /^127\.85\.0\.\d+$/);
      assert.equal(statSync(join(stateDir, 'clusters', CLUSTER, 'admin.conf')).mode & 0o777, 0o600);
    });

    it('kubectl through the VIP lists every Kubernetes node Ready', async () => {
      const kubeconfig = join(stateDir, 'clusters', CLUSTER, 'admin.conf');
      assert.match(readFileSync(kubeconfig, 'utf8'), /server: https:\/\/10\.77\.15\.100:6443/);
      const nodes = await cloud.lab.execIn('lan', [findTool('kubectl', 'MOORING_KUBECTL'), '--kubeconfig', kubeconfig, '--request-timeout=10s', 'get', 'nodes', '--no-headers']);
      const rows = nodes.trim().split('\n').map((l) => l.split(/\s+/));
      assert.deepEqual(rows.map((r) => r[0]).sort(), [...sc.nodes].sort(), nodes);
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
}
