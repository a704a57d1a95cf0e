// The addons of the host phase without a cluster: flannel's manifest rendered for the pod network
// (only that value changes), what a manifest holds, the files found where the compiled activities
// look for them (as the worker and the image do), the refusal of a CNI that does not ship, the
// decision of `kubectl diff`'s outcome and the classification of kubectl's failures, and the
// rollout's reading of live DaemonSets, Deployments and pods. The apply against a real
// kube-apiserver is in the lab (test/e2e/provision-*.provision.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseAllDocuments } from 'yaml';
import { parseInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { cniRefusal, cniTitle, FLANNEL, LOCAL_PATH } from '../../activities/addons/catalog.js';
import { manifestFacts, ManifestError, renderFlannel } from '../../activities/addons/render.js';
import { ADDONS_DIR, addonManifest } from '../../activities/addons/manifests.js';
import { applyManifest, diffVerdict, KUBECTL_APPLY, KUBECTL_DIFF, kubectlFailure } from '../../activities/addons/apply.js';
import { podsNotReady, workloadState } from '../../activities/addons/rollout.js';
import type { Workload } from '../../activities/addons/context.js';
import type { ExecResult, SshSession } from '../../activities/ssh/session.js';
import { PROJECT_ROOT } from '../../client/tools.js';

const flannelText = () => readFile(join(PROJECT_ROOT, 'addons', FLANNEL.file), 'utf8');
const localPathText = () => readFile(join(PROJECT_ROOT, 'addons', LOCAL_PATH.file), 'utf8');

function inventory(kubernetes: Record<string, unknown> = {}): Inventory {
  return parseInventory({
    apiVersion: 'mooring/v1', cluster: { name: 'addons' }, provider: { type: 'static' },
    ssh: { user: 'root', privateKeyPath: '/nonexistent/key' },
    loadBalancer: { vip: '10.0.0.100', placement: 'masters', apiPort: 60443 },
    etcd: { version: '3.4.23', topology: 'stacked' },
    masters: [{ name: 'm1', ip: '10.0.0.11' }],
    kubernetes: { version: '1.36.3', controlPlaneEndpoint: '10.0.0.100:60443', podSubnet: '10.200.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'flannel', ...kubernetes },
  }, 'test inventory');
}

const netConf = (text: string) => {
  const cfg = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> })
    .find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kube-flannel-cfg');
  return JSON.parse(cfg!.data!['net-conf.json']!) as Record<string, unknown>;
};

describe('flannel rendered for the pod network', () => {
  it('sets net-conf.json Network to podSubnet and changes no other character', async () => {
    const shipped = await flannelText();
    assert.equal(netConf(shipped).Network, '10.244.0.0/16', 'the vendored manifest is flannel\'s default');
    const out = renderFlannel(shipped, '10.200.0.0/16');
    assert.deepEqual(netConf(out), { ...netConf(shipped), Network: '10.200.0.0/16' });
    // Byte for byte the same around the one value.
    const at = shipped.indexOf('"Network": "10.244.0.0/16"');
    assert.ok(at > 0);
    assert.equal(out.slice(0, at), shipped.slice(0, at));
    assert.equal(out.slice(at), shipped.slice(at).replace('10.244.0.0/16', '10.200.0.0/16'));
    assert.equal(renderFlannel(shipped, '10.244.0.0/16'), shipped, 'flannel\'s own default renders as shipped');
    assert.equal(renderFlannel(out, '10.200.0.0/16'), out, 'rendering again changes nothing');
  });

  it('refuses a manifest it cannot render safely', async () => {
    const shipped = await flannelText();
    assert.throws(() => renderFlannel(shipped.replace('name: kube-flannel-cfg', 'name: other'), '10.200.0.0/16'), /0 ConfigMaps kube-flannel-cfg/);
    assert.throws(() => renderFlannel(shipped.replace('"EnableNFTables": false', '"Network": "10.1.0.0/16"'), '10.200.0.0/16'), /"Network" exactly once/);
    assert.throws(() => renderFlannel(`${shipped}\n---\n: : bad`, '10.200.0.0/16'), ManifestError);
  });
});

describe('what a manifest holds', () => {
  it('flannel: its namespace and its DaemonSet with the selector of its pods', async () => {
    const f = manifestFacts(await flannelText(), 'flannel');
    assert.deepEqual(f.namespaces, ['kube-flannel']);
    assert.deepEqual(f.workloads, [{ kind: 'DaemonSet', namespace: 'kube-flannel', name: 'kube-flannel-ds', selector: { app: 'flannel' } }]);
    assert.ok(f.objects.includes('ConfigMap/kube-flannel/kube-flannel-cfg'));
    assert.deepEqual(f.crdKinds, []);
  });

  it('local-path: the provisioner Deployment, its namespace, the StorageClass; a CRD\'s kind is found', async () => {
    const f = manifestFacts(await localPathText(), 'local-path');
    assert.deepEqual(f.workloads, [{ kind: 'Deployment', namespace: 'local-path-storage', name: 'local-path-provisioner', selector: { app: 'local-path-provisioner' } }]);
    assert.deepEqual(f.namespaces, ['local-path-storage']);
    assert.ok(f.objects.includes('StorageClass//local-path'));
    const crd = manifestFacts('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: ippools.crd.projectcalico.org }\nspec: { names: { kind: IPPool } }\n', 'crd');
    assert.deepEqual(crd.crdKinds, ['IPPool']);
  });

  it('refuses what is not a list of Kubernetes objects', () => {
    assert.throws(() => manifestFacts('just: text\n', 'x'), /document 1 is not a Kubernetes object/);
    assert.throws(() => manifestFacts('', 'x'), /no Kubernetes object/);
    assert.throws(() => manifestFacts('kind: [\n', 'x'), /not valid YAML/);
  });
});

describe('the manifests a run applies', () => {
  it('finds the vendored files beside the compiled module, with their recorded sha256', async () => {
    assert.equal(ADDONS_DIR, `${join(PROJECT_ROOT, 'addons')}/`);
    for (const a of [FLANNEL, LOCAL_PATH]) {
      assert.equal(createHash('sha256').update(await readFile(join(ADDONS_DIR, a.file))).digest('hex'), a.sha256, a.file);
    }
    const cni = await addonManifest(inventory(), 'cni');
    assert.equal(cni.title, 'CNI flannel v0.28.10');
    assert.equal(netConf(cni.text).Network, '10.200.0.0/16');
    const lp = await addonManifest(inventory(), 'local-path');
    assert.equal(lp.text, await localPathText(), 'local-path applied as shipped');
    assert.match(lp.text, /"paths":\["\/opt\/local-path-provisioner"\]/);
  });

  it('applies the operator\'s cniManifest as it is, and names the field when it cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mooring-addons-'));
    try {
      const file = join(dir, 'calico.yaml');
      const text = '# operator\'s file\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: calico-system\n';
      await writeFile(file, text);
      const m = await addonManifest(inventory({ cni: 'calico', cniManifest: file }), 'cni');
      assert.equal(m.text, text);
      assert.equal(m.title, `CNI calico (${file})`);
      await assert.rejects(addonManifest(inventory({ cni: 'calico', cniManifest: join(dir, 'absent.yaml') }), 'cni'),
        (e: ApplicationFailure) => e.type === 'InvalidInput' && e.nonRetryable && /^kubernetes\.cniManifest: cannot read .*absent\.yaml.*ENOENT/.test(e.message));
      await writeFile(file, 'not: an object\n');
      await assert.rejects(addonManifest(inventory({ cni: 'calico', cniManifest: file }), 'cni'),
        (e: ApplicationFailure) => e.type === 'InvalidInput' && /^CNI calico .*document 1 is not a Kubernetes object/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a CNI whose manifest does not ship is refused, naming the field and both fixes', () => {
    const r = cniRefusal({ cni: 'calico' });
    assert.match(r ?? '', /^kubernetes\.cni: calico's manifest does not ship with Mooring \(only flannel's, v0\.28\.10\); download the calico\.yaml of your release and set kubernetes\.cniManifest .*, or set kubernetes\.cni: flannel$/);
    assert.equal(cniRefusal({ cni: 'flannel' }), undefined);
    assert.equal(cniRefusal({ cni: 'cilium', cniManifest: '/srv/cilium.yaml' }), undefined);
    assert.equal(cniTitle({ cni: 'flannel' }), 'CNI flannel v0.28.10');
  });
});

const exec = (code: number, stdout = '', stderr = ''): ExecResult => ({ code, stdout, stderr });
const failure = (fn: () => unknown): ApplicationFailure => {
  try { fn(); } catch (err) { assert.ok(err instanceof ApplicationFailure, String(err)); return err; }
  return assert.fail('no failure');
};

describe('kubectl diff decides, kubectl apply acts', () => {
  const facts = { objects: ['Namespace//kube-flannel', 'DaemonSet/kube-flannel/kube-flannel-ds'], namespaces: ['kube-flannel'], crdKinds: ['IPPool'], workloads: [] };
  const diffOut = [
    'diff -u -N /tmp/LIVE-1/apps.v1.DaemonSet.kube-flannel.kube-flannel-ds /tmp/MERGED-2/apps.v1.DaemonSet.kube-flannel.kube-flannel-ds',
    '--- /tmp/LIVE-1/apps.v1.DaemonSet.kube-flannel.kube-flannel-ds\t2026-12-06 20:00:00',
    '+++ /tmp/MERGED-2/apps.v1.DaemonSet.kube-flannel.kube-flannel-ds\t2026-12-06 20:00:00',
    '@@ -1 +1 @@', '-  generation: 1', '+  generation: 2', '',
  ].join('\n');

  it('exit 0: unchanged; exit 1: differs, naming the objects', () => {
    assert.deepEqual(diffVerdict('CNI', facts, exec(0)), { kind: 'unchanged' });
    assert.deepEqual(diffVerdict('CNI', facts, exec(1, diffOut)), { kind: 'differs', objects: ['apps.v1.DaemonSet.kube-flannel.kube-flannel-ds'] });
  });

  it('a fresh cluster: the namespace or CRD kind the manifest itself creates is missing, which is a difference', () => {
    assert.equal(diffVerdict('CNI', facts, exec(2, '', 'Error from server (NotFound): namespaces "kube-flannel" not found\n')).kind, 'differs');
    assert.equal(diffVerdict('CNI', facts, exec(2, '', 'error: resource mapping not found for name: "default" namespace: "" from "STDIN": no matches for kind "IPPool" in version "crd.projectcalico.org/v1"\n')).kind, 'differs');
    // Another namespace missing is the manifest's problem, not a first run.
    const f = failure(() => diffVerdict('CNI', facts, exec(2, '', 'Error from server (NotFound): namespaces "kube-other" not found\n')));
    assert.equal(f.type, 'KubectlFailed');
  });

  it('classifies failures: kubectl missing and the API unreachable are retried, a refused manifest is bad input named by addon', () => {
    const missing = kubectlFailure('CNI flannel v0.28.10', 'diff', exec(127, '', 'bash: line 1: kubectl: command not found\n'));
    assert.equal(missing.type, 'KubectlMissing');
    assert.equal(missing.nonRetryable, false);
    const down = failure(() => diffVerdict('CNI flannel v0.28.10', facts, exec(1 + 1, '', 'The connection to the server 10.0.0.100:60443 was refused - did you specify the right host or port?\n')));
    assert.equal(down.type, 'ApiUnreachable');
    assert.equal(down.nonRetryable, false);
    const bad = kubectlFailure('CNI calico (/srv/calico.yaml)', 'apply', exec(1, '', 'Error from server (BadRequest): error when creating "STDIN": DaemonSet in version "v1" cannot be handled as a DaemonSet: strict decoding error: unknown field "spec.foo"\n'));
    assert.equal(bad.type, 'InvalidInput');
    assert.equal(bad.nonRetryable, true);
    assert.match(bad.message, /^CNI calico \(\/srv\/calico\.yaml\): the API refused the manifest \(kubectl apply, exit 1\)/);
  });

  // A SIMULATED SSH session: it answers the two kubectl commands as told and records them with their stdin.
  function session(diffCode: number, applyCode = 0) {
    const calls: { command: string; stdin: string }[] = [];
    const s = {
      exec: (command: string, o: { stdin?: string | Buffer }) => {
        calls.push({ command, stdin: String(o.stdin) });
        if (command === KUBECTL_DIFF) return Promise.resolve(exec(diffCode, diffCode === 1 ? diffOut : ''));
        if (command === KUBECTL_APPLY) return Promise.resolve(exec(applyCode, '', applyCode ? 'error validating data: unknown\n' : ''));
        return Promise.reject(new Error(`SIMULATED session: unexpected command ${command}`));
      },
    };
    return { s: s as unknown as SshSession, calls };
  }

  it('applies only when the diff differs, the manifest on stdin both times; says what changed', async () => {
    const signal = new AbortController().signal;
    const same = session(0);
    assert.deepEqual(await applyManifest(same.s, 'CNI flannel v0.28.10', 'MANIFEST', facts, signal), []);
    assert.deepEqual(same.calls.map((c) => c.command), [KUBECTL_DIFF]);
    const differs = session(1);
    const changed = await applyManifest(differs.s, 'CNI flannel v0.28.10', 'MANIFEST', facts, signal);
    assert.deepEqual(changed, ['CNI flannel v0.28.10 applied (2 objects; differed: apps.v1.DaemonSet.kube-flannel.kube-flannel-ds)']);
    assert.deepEqual(differs.calls, [{ command: KUBECTL_DIFF, stdin: 'MANIFEST' }, { command: KUBECTL_APPLY, stdin: 'MANIFEST' }]);
    assert.match(KUBECTL_DIFF, /^kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf .*diff --server-side .* -f -$/);
    await assert.rejects(applyManifest(session(1, 1).s, 'CNI flannel v0.28.10', 'MANIFEST', facts, signal), (e: ApplicationFailure) => e.type === 'InvalidInput');
    await assert.rejects(applyManifest(session(3).s, 'CNI flannel v0.28.10', 'MANIFEST', facts, signal), (e: ApplicationFailure) => e.type === 'KubectlFailed');
  });
});

describe('rollout', () => {
  const ds: Workload = { kind: 'DaemonSet', namespace: 'kube-flannel', name: 'kube-flannel-ds', selector: { app: 'flannel' } };
  const dep: Workload = { kind: 'Deployment', namespace: 'local-path-storage', name: 'local-path-provisioner', selector: { app: 'local-path-provisioner' } };
  const dsLive = (desired: number, ready: number, o: { generation?: number; observed?: number; updated?: number } = {}) => ({
    kind: 'DaemonSet', metadata: { name: ds.name, namespace: ds.namespace, generation: o.generation ?? 1 },
    status: { observedGeneration: o.observed ?? 1, desiredNumberScheduled: desired, numberReady: ready, updatedNumberScheduled: o.updated ?? desired },
  });

  it('a DaemonSet is ready when scheduled on every node, ready and updated there, for its current generation', () => {
    assert.deepEqual(workloadState(ds, dsLive(4, 4), 4), { workload: ds, ready: true, line: 'DaemonSet kube-flannel-ds ready on 4/4 nodes' });
    assert.equal(workloadState(ds, dsLive(4, 3), 4).ready, false);
    assert.deepEqual(workloadState(ds, dsLive(3, 3), 4), { workload: ds, ready: false, line: 'DaemonSet kube-flannel-ds ready on 3/4 nodes (scheduled on 3 of the 4 nodes)' });
    assert.equal(workloadState(ds, dsLive(4, 4, { generation: 2, observed: 1 }), 4).ready, false, 'status of the generation before the apply');
    assert.equal(workloadState(ds, dsLive(4, 4, { updated: 2 }), 4).ready, false);
    assert.deepEqual(workloadState(ds, undefined, 4), { workload: ds, ready: false, line: 'DaemonSet kube-flannel-ds: not found in namespace kube-flannel' });
  });

  it('a Deployment is ready when Available with its replicas', () => {
    const live = (available: number, status: string) => ({
      kind: 'Deployment', metadata: { name: dep.name, generation: 1 }, spec: { replicas: 1 },
      status: { observedGeneration: 1, availableReplicas: available, updatedReplicas: 1, conditions: [{ type: 'Available', status, reason: status === 'True' ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' }] },
    });
    assert.deepEqual(workloadState(dep, live(1, 'True'), 4), { workload: dep, ready: true, line: 'Deployment local-path-provisioner available (1/1)' });
    assert.deepEqual(workloadState(dep, live(0, 'False'), 4), { workload: dep, ready: false, line: 'Deployment local-path-provisioner not available (0/1, MinimumReplicasUnavailable)' });
  });

  it('names the pods that are not ready with their node, phase and reason', () => {
    const pods = podsNotReady({ items: [
      { metadata: { name: 'kube-flannel-ds-a' }, spec: { nodeName: 'm1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
      { metadata: { name: 'kube-flannel-ds-b' }, spec: { nodeName: 'w1' }, status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'kube-flannel', ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } }] } },
      { metadata: { name: 'local-path-provisioner-x' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/4 nodes are available' }] } },
    ] });
    assert.deepEqual(pods, ['kube-flannel-ds-b on w1: Pending (ImagePullBackOff)', 'local-path-provisioner-x: Pending (Unschedulable: 0/4 nodes are available)']);
  });
});
