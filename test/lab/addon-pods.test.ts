// The addons' pods on a real lab cluster (docs/kubelet-standin.md, "the addons' pods"): real kubeadm
// control plane (kube-scheduler and kube-controller-manager included) on the netns lab, the vendored
// flannel and local-path-storage manifests applied with real kubectl. flannel's DaemonSet becomes
// ready on every node with its conflist written into each node's own /etc/cni/net.d (SIMULATED: no
// flanneld runs); the REAL local-path-provisioner runs as a process of the node its pod is on, and
// the checkPvcBinding host activity (over SSH through the bastion, kubectl on master-1) sees a PVC
// bound on local-path on worker-1 whose directory exists in worker-1's view only while bound and is
// removed after the delete. Layout pv/29/127.88.0 (MOORING_ADDON_LAB_LAYOUT overrides it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { KubernetesLab } from '../../lab/kubernetes-lab.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { layoutFromEnv } from '../../lab/netns/topology.js';
import { nodeRoot } from '../../lab/node-view.js';
import { waitFor } from '../../lab/processes.js';
import { alive } from '../../lab/kubelet/container.js';
import { localPathBinary } from '../../lab/kubelet/runtime/provisioner.js';
import { createHostPhaseActivities } from '../../activities/host/index.js';
import { findTool } from '../../activities/local/tools.js';
import { onHost, type HostPhaseTarget } from '../../activities/host/session.js';
import { pvcSmoke, pvcSmokeObjects, type PvcBound } from '../../activities/kubectl/pvc-smoke.js';
import { addonManifestPath, FLANNEL_MANIFEST, LOCAL_PATH_MANIFEST } from '../helpers/addon-manifests.js';
import { scratchDir } from '../helpers/scratch.js';

const LAYOUT = layoutFromEnv('MOORING_ADDON_LAB_LAYOUT', { tag: 'pv', lan: 29, loopback: '127.88.0' });
const RELEASE = pinnedKubernetes()[0]!;
const NODES = ['master-1', 'master-2', 'master-3', 'worker-1'];
const flannelYaml = addonManifestPath(FLANNEL_MANIFEST);
const localPathYaml = addonManifestPath(LOCAL_PATH_MANIFEST);
const binary = localPathBinary('rancher/local-path-provisioner:v0.0.30');
const skip = !flannelYaml || !localPathYaml ? `the vendored manifests are missing (${FLANNEL_MANIFEST}, ${LOCAL_PATH_MANIFEST})`
  : !existsSync(binary) ? `${binary} is not built (scripts/build-local-path-provisioner.sh)` : false;

describe(`addons' pods on the Kubernetes ${RELEASE} lab: flannel ready everywhere, a PVC bound on local-path`, { skip, timeout: 1_200_000 }, () => {
  let lab: KubernetesLab;
  let target: HostPhaseTarget;
  const json = async <T>(args: string[]) => JSON.parse((await lab.kubectl([...args, '-o', 'json'])).stdout) as T;
  const view = (node: string, path: string) => join(nodeRoot(lab.net.nodeDir(node)), path);

  before(async () => {
    lab = new KubernetesLab({ dir: scratchDir('mooring-addons-'), layout: LAYOUT, kubernetes: RELEASE });
    await lab.up();
    target = { inventory: lab.net.parsedInventory(), hosts: lab.net.provisionedHosts() };
  });
  after(async () => {
    await lab?.down();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`mnet-${LAYOUT.tag}-`));
    assert.deepEqual(left, [], 'every namespace the lab made is deleted');
  });

  it('flannel\'s DaemonSet is ready on every node, each with the ConfigMap\'s conflist in its own /etc/cni/net.d', async () => {
    await lab.kubectl(['apply', '-f', flannelYaml!]);
    await waitFor('kube-flannel-ds ready on the four nodes', async () => {
      const ds = await json<{ status: { desiredNumberScheduled?: number; numberReady?: number } }>(['-n', 'kube-flannel', 'get', 'ds', 'kube-flannel-ds']);
      return ds.status.desiredNumberScheduled === NODES.length && ds.status.numberReady === NODES.length;
    }, 180_000, 1000);
    const pods = await json<{ items: { spec: { nodeName: string }; status: { phase: string } }[] }>(['-n', 'kube-flannel', 'get', 'pods', '-l', 'app=flannel']);
    assert.deepEqual(pods.items.map((p) => p.spec.nodeName).sort(), NODES);
    assert.ok(pods.items.every((p) => p.status.phase === 'Running'));
    const cm = await json<{ data: Record<string, string> }>(['-n', 'kube-flannel', 'get', 'configmap', 'kube-flannel-cfg']);
    for (const n of NODES) assert.equal(readFileSync(view(n, '/etc/cni/net.d/10-flannel.conflist'), 'utf8'), cm.data['cni-conf.json'], `${n}'s own conflist`);
    for (const gw of ['gw-1', 'gw-2']) assert.equal(existsSync(view(gw, '/etc/cni/net.d/10-flannel.conflist')), false, `${gw} runs no kubelet: no conflist`);
  });

  it('runs the real local-path-provisioner as a process of its node, with its own ServiceAccount token', async () => {
    await lab.kubectl(['apply', '-f', localPathYaml!]);
    await waitFor('deployment local-path-provisioner available', async () => {
      const d = await json<{ status: { availableReplicas?: number } }>(['-n', 'local-path-storage', 'get', 'deployment', 'local-path-provisioner']);
      return (d.status.availableReplicas ?? 0) >= 1;
    }, 180_000, 1000);
    const pod = (await json<{ items: { metadata: { name: string; namespace: string; uid: string }; spec: { nodeName: string } }[] }>(['-n', 'local-path-storage', 'get', 'pods', '-l', 'app=local-path-provisioner'])).items[0]!;
    const dir = view(pod.spec.nodeName, `/var/lib/kubelet/addon-pods/${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
    const rec = JSON.parse(readFileSync(join(dir, 'process.json'), 'utf8')) as { pid: number; argv: string[] };
    assert.ok(alive(rec.pid), 'the provisioner process lives');
    assert.equal(rec.argv[0], binary);
    assert.deepEqual(rec.argv.slice(1, 3), ['--debug', 'start']);
    // Its log shows it talking to the apiserver with the token (it lists nodes as its ServiceAccount may).
    await waitFor('the provisioner to start its controller', async () => /Provisioner started|Starting provisioner controller/.test(readFileSync(join(dir, 'local-path-provisioner.log'), 'utf8')), 60_000, 500);
  });

  it('checkPvcBinding: a PVC bound on local-path on worker-1, its directory only in worker-1\'s view, removed after the delete', async () => {
    let seen: PvcBound | undefined;
    const ac = new AbortController();
    const r = await pvcSmoke({
      onMaster: (fn) => onHost({}, target, 'master-1', ac.signal, fn),
      onNode: (node, fn) => onHost({}, target, node, ac.signal, fn),
      signal: ac.signal, timeoutMs: 180_000, progress: () => {},
      onBound: async (b) => {
        seen = b;
        assert.equal(b.node, 'worker-1', 'the pod tolerates nothing special: it lands on the worker');
        assert.match(b.path, /^\/opt\/local-path-provisioner\/pvc-[0-9a-f-]+_default_mooring-smoke-pvc$/);
        assert.ok(existsSync(view('worker-1', b.path)), 'the helper pod made the directory in worker-1\'s view');
        for (const n of ['master-1', 'master-2', 'master-3']) assert.equal(existsSync(view(n, b.path)), false, `not on ${n}`);
      },
    });
    assert.ok(seen, 'the PVC was bound');
    assert.equal(existsSync(view('worker-1', seen.path)), false, 'the delete helper removed it');
    assert.match(r.line, /^PVC bound on local-path: mooring-smoke-pvc → pvc-[0-9a-f-]+ on worker-1 \(1Mi\), directory \/opt\/local-path-provisioner\/\S+ made and removed on the node, cleaned up$/);
    const pvs = await json<{ items: { spec: { claimRef?: { name: string } } }[] }>(['get', 'pv']);
    assert.equal(pvs.items.filter((p) => p.spec.claimRef?.name === 'mooring-smoke-pvc').length, 0);
  });

  it('the activity, after a crashed attempt left its PVC and pod: deletes them first, binds again, cleans up', async () => {
    execFileSync(findTool('kubectl', 'MOORING_KUBECTL'), ['--kubeconfig', lab.kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(pvcSmokeObjects()) });
    await waitFor('the earlier attempt\'s PVC Bound', async () => (await json<{ status: { phase?: string } }>(['-n', 'default', 'get', 'pvc', 'mooring-smoke-pvc'])).status.phase === 'Bound', 120_000, 1000);
    const earlier = (await json<{ spec: { volumeName: string } }>(['-n', 'default', 'get', 'pvc', 'mooring-smoke-pvc'])).spec.volumeName;
    const acts = createHostPhaseActivities({ stateDir: scratchDir('mooring-addons-state-') });
    const r = await new MockActivityEnvironment().run(acts.checkPvcBinding, { ...target, host: 'master-1', timeoutSeconds: 180 }) as Awaited<ReturnType<typeof acts.checkPvcBinding>>;
    assert.equal(r.node, 'worker-1');
    assert.notEqual(r.pv, earlier, 'a new volume, the leftover one deleted');
    assert.match(r.line, /cleaned up$/);
    const left = await json<{ items: unknown[] }>(['-n', 'default', 'get', 'pvc,pods', '-l', 'app.kubernetes.io/name=mooring-smoke']);
    assert.equal(left.items.length, 0);
  });

  it('a pod named as a helper but doing something else is refused: Failed, the field named, nothing run', async () => {
    const bogus = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'helper-pod-create-bogus', namespace: 'default' },
      spec: {
        nodeName: 'worker-1', restartPolicy: 'Never',
        containers: [{ name: 'helper-pod', image: 'busybox', command: ['/bin/sh', '-c', 'touch /opt/local-path-provisioner/bogus'] }],
      },
    };
    execFileSync(findTool('kubectl', 'MOORING_KUBECTL'), ['--kubeconfig', lab.kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(bogus) });
    let status: { phase?: string; message?: string } = {};
    await waitFor('the bogus helper pod Failed', async () => {
      status = (await json<{ status: { phase?: string; message?: string } }>(['-n', 'default', 'get', 'pod', 'helper-pod-create-bogus'])).status;
      return status.phase === 'Failed';
    }, 60_000, 1000);
    assert.match(status.message ?? '', /command: is .*expected \["\/bin\/sh", "<script path>"\]/);
    assert.equal(existsSync(view('worker-1', '/opt/local-path-provisioner/bogus')), false, 'its command never ran');
    await lab.kubectl(['-n', 'default', 'delete', 'pod', 'helper-pod-create-bogus', '--wait=true', '--timeout=60s']);
  });

  it('a deleted provisioner pod has its process stopped by pid; the Deployment\'s new pod runs a new one', async () => {
    type PodList = { items: { metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string }; spec: { nodeName: string }; status: { phase?: string } }[] };
    const pods = async () => (await json<PodList>(['-n', 'local-path-storage', 'get', 'pods', '-l', 'app=local-path-provisioner'])).items;
    const recordOf = (p: PodList['items'][number]) => JSON.parse(readFileSync(join(view(p.spec.nodeName, `/var/lib/kubelet/addon-pods/${p.metadata.namespace}_${p.metadata.name}_${p.metadata.uid}`), 'process.json'), 'utf8')) as { pid?: number };
    const old = (await pods())[0]!;
    const oldPid = recordOf(old).pid!;
    assert.ok(alive(oldPid));
    await lab.kubectl(['-n', 'local-path-storage', 'delete', 'pod', old.metadata.name, '--wait=true', '--timeout=60s']);
    assert.equal(alive(oldPid), false, 'the old process is gone once the pod is');
    let next: PodList['items'][number] | undefined;
    await waitFor('a new provisioner pod Running with a live process', async () => {
      next = (await pods()).find((p) => p.metadata.uid !== old.metadata.uid && !p.metadata.deletionTimestamp && p.status.phase === 'Running');
      const pid = next && existsSync(join(view(next.spec.nodeName, `/var/lib/kubelet/addon-pods/${next.metadata.namespace}_${next.metadata.name}_${next.metadata.uid}`), 'process.json')) ? recordOf(next).pid : undefined;
      return pid !== undefined && alive(pid) && pid !== oldPid;
    }, 120_000, 1000);
  });

  it('the kubelet stand-in stopping (SIGTERM) stops the provisioner\'s process, by pid', async () => {
    const pod = (await json<{ items: { metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string }; spec: { nodeName: string } }[] }>(['-n', 'local-path-storage', 'get', 'pods', '-l', 'app=local-path-provisioner'])).items.find((p) => !p.metadata.deletionTimestamp)!;
    const dir = view(pod.spec.nodeName, `/var/lib/kubelet/addon-pods/${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
    const pid = (JSON.parse(readFileSync(join(dir, 'process.json'), 'utf8')) as { pid: number }).pid;
    assert.ok(alive(pid));
    const kubeletPid = Number(readFileSync(join(lab.net.nodeDir(pod.spec.nodeName), 'kubelet.pid'), 'utf8').trim());
    assert.ok(alive(kubeletPid), `${pod.spec.nodeName}'s kubelet stand-in runs`);
    process.kill(kubeletPid, 'SIGTERM');
    await waitFor('the provisioner process gone with its kubelet', async () => !alive(pid), 30_000, 200);
    await waitFor('the kubelet stand-in gone', async () => !alive(kubeletPid), 30_000, 200);
  });
});
