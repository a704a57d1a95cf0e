// Helm on a provisioned cluster (activities/addons/helm.ts), on the bare netns lab: the host phase
// (the real provisionHosts on the real Temporal dev server and worker) makes seed 002's shape
// (gw-1, gw-2 as bastions, three stacked masters, one worker), then installHelm runs on every
// master over real SSH and checkHelm asks the real helm (scripts/build-helm.sh's build; only the
// package install is SIMULATED, lab/packages/apt.ts) for its version on each master and for the
// cluster's releases through admin.conf, i.e. through the VIP to the real kube-apiserver. The host
// phase installs Helm itself (patch provision-hosts-addons); the tests after it call the
// activities again in a mock activity context (heartbeats go nowhere).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/activity';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { NetnsLab } from '../../lab/netns/netns-lab.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { helmCacheDir, isExecutable } from '../../client/tools.js';
import { createHelmActivities } from '../../activities/addons/helm.js';
import type { HelmStep } from '../../activities/addons/helm-context.js';
import { HELM_DEFAULT_VERSION } from '../../config/schema.js';
import { startHostPhaseLab, type HostPhaseLab } from '../helpers/host-phase-lab.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const LAYOUT = { tag: 'hm', lan: 30, loopback: '127.89.0' };
const RELEASE = pinnedKubernetes()[0]!;
const HELM = join(helmCacheDir(), `v${HELM_DEFAULT_VERSION}`, 'helm');
const MASTERS = ['master-1', 'master-2', 'master-3'];

describe(`Helm ${HELM_DEFAULT_VERSION} on the masters of a provisioned lab cluster (Kubernetes ${RELEASE})`, { timeout: 1_200_000 }, () => {
  let phase: HostPhaseLab;
  let lab: NetnsLab;
  let smoke: string[] = [];
  const acts = createHelmActivities();
  const step = (host: string, inventory = lab.parsedInventory()): HelmStep => ({ inventory, hosts: lab.provisionedHosts(), host });
  // The refusals below are expected: the mock's own logger would print each as a warning.
  const activity = <I, O>(fn: (i: I) => Promise<O>, input: I): Promise<O> => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(fn, input) as Promise<O>;

  before(async () => {
    assert.ok(isExecutable(HELM), `${HELM} is not built: run scripts/build-helm.sh (npm run setup does)`);
    phase = await startHostPhaseLab({ prefix: 'mooring-helm-', layout: LAYOUT, kubernetesVersion: RELEASE });
    lab = phase.lab;
    const made = await phase.run(`provision-helm-${randomUUID()}`);
    assert.ok(made.nodes.every((n) => n.ready), JSON.stringify(made.nodes));
    smoke = made.smoke;
  });
  after(async () => {
    await phase?.stop();
    if (lab) assert.deepEqual(await lab.leftovers(), []);
  });

  it('the host phase put the repository and the pinned, held package on every master, and its smoke test checked it', async () => {
    assert.ok(smoke.includes(`Helm v${HELM_DEFAULT_VERSION} on master-1, master-2, master-3; helm list through the VIP ${lab.vip}:6443: 0 releases`), smoke.join('\n'));
    for (const m of MASTERS) {
      const log = readFileSync(join(lab.nodeDir(m), 'packages.log'), 'utf8');
      assert.match(log, new RegExp(`SIMULATED install helm=${HELM_DEFAULT_VERSION.replace(/\./g, '\\.')}-\\*`));
      assert.match(readFileSync(join(lab.nodeDir(m), 'apt-holds'), 'utf8'), /^helm$/m);
      // What runs is the real build, not a stand-in.
      assert.equal(readlinkSync(join(lab.nodeDir(m), 'root', 'usr', 'local', 'sbin', 'helm')), HELM);
    }
    assert.doesNotMatch(readFileSync(join(lab.nodeDir('worker-1'), 'packages.log'), 'utf8'), /helm/, 'nothing on the worker');
  });

  it('checkHelm names a master without helm', async () => {
    const link = join(lab.nodeDir('master-2'), 'root', 'usr', 'local', 'sbin', 'helm');
    rmSync(link);
    try {
      await assert.rejects(activity(acts.checkHelm, step('master-1')), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure && err.type === 'SmokeFailed', String(err));
        assert.match(err.message, /helm version --short is not v\d+\.\d+\.\d+ on master-2: no helm/);
        return true;
      });
    } finally {
      symlinkSync(HELM, link); // what the SIMULATED package had put there
    }
  });

  it('a second installHelm changes nothing and says so', async () => {
    for (const m of MASTERS) assert.deepEqual(await activity(acts.installHelm, step(m)), { host: m, changed: [] });
  });

  it('refuses a worker, and a release the repository does not have', async () => {
    await assert.rejects(activity(acts.installHelm, step('worker-1')), /worker-1 is not one of masters/);
    const inv = lab.parsedInventory();
    inv.kubernetes.helm.version = '4.3.1';
    await assert.rejects(activity(acts.installHelm, step('master-1', inv)), /E: Version '4\.3\.1-\*' for 'helm' was not found/);
    // checkHelm holds the masters to the inventory's release.
    await assert.rejects(activity(acts.checkHelm, step('master-1', inv)), /helm version --short is not v4\.3\.1 on master-1: v4\.3\.2/);
  });

  it('checkHelm: the real helm on every master, helm list answered by the cluster through the VIP', async () => {
    const empty = await activity(acts.checkHelm, step('master-1'));
    assert.equal(empty.releases, 0);
    assert.equal(empty.line, `Helm v${HELM_DEFAULT_VERSION} on master-1, master-2, master-3; helm list through the VIP ${lab.vip}:6443: 0 releases`);
    // A release made in the cluster (a chart helm itself scaffolds, no download) must be counted:
    // the answer comes from the API, not from the host.
    const home = scratchDir('mooring-helm-home-');
    const helm = (...args: string[]) => lab.execIn('master-1', ['env', `HOME=${home}`, '/usr/local/sbin/helm', ...args], 120_000);
    await helm('create', join(home, 'probe'));
    await helm('install', 'probe', join(home, 'probe'), '--namespace', 'helm-probe', '--create-namespace', '--kubeconfig', '/etc/kubernetes/admin.conf');
    const one = await activity(acts.checkHelm, step('master-1'));
    assert.equal(one.releases, 1);
    assert.match(one.line, /helm list through the VIP [\d.]+:6443: 1 release$/);
  });
});
