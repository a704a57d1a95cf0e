// The Kubernetes hop's preflight judgements on the shapes the apiserver, etcdctl and kubeadm
// return, and the worker batches. Each case is built so that the opposite answer would fail it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCapacity, checkCertificates, checkControlPlane, checkEtcdMembers, checkNodes, impossiblePdbs, quantity,
  type NodeObject, type PdbObject, type PodObject,
} from '../../activities/kubernetes-upgrade/preflight-checks.js';
import { workerBatches } from '../../workflows/upgrade/batches.js';

const node = (name: string, o: { ready?: boolean; kubelet?: string; unschedulable?: boolean; by?: string; cpu?: string; taint?: boolean } = {}): NodeObject => ({
  metadata: { name, ...(o.by ? { annotations: { 'mooring.io/cordoned-by': o.by } } : {}) },
  spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taint ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}) },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }], nodeInfo: { kubeletVersion: o.kubelet ?? 'v1.35.4' }, allocatable: { cpu: o.cpu ?? '2', memory: '4Gi' } },
});
const pod = (name: string, nodeName: string, o: { labels?: Record<string, string>; cpu?: string; image?: string; ns?: string; ds?: boolean; phase?: string } = {}): PodObject => ({
  metadata: { name, namespace: o.ns ?? 'default', labels: o.labels ?? { app: 'web' }, ...(o.ds ? { ownerReferences: [{ kind: 'DaemonSet', name: 'x' }] } : {}) },
  spec: { nodeName, containers: [{ name: 'c', image: o.image ?? 'pause', ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}) }] },
  status: { phase: o.phase ?? 'Running' },
});
const pdb = (spec: PdbObject['spec'], expectedPods?: number): PdbObject => ({ metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(expectedPods !== undefined ? { status: { expectedPods } } : {}) });

describe('Kubernetes hop preflight', () => {
  it('nodes: missing, not Ready, and a kubelet older than the hop start are problems; cordons are notes', () => {
    const r = checkNodes([node('m1'), node('w1', { ready: false }), node('w2', { kubelet: 'v1.34.2' }), node('w3', { unschedulable: true }), node('w4', { unschedulable: true, by: 'ops/lab' })], ['m1', 'w1', 'w2', 'w3', 'w4', 'w5'], '1.35.4');
    assert.equal(r.problems.length, 3, r.problems.join('\n'));
    assert.match(r.problems.join('\n'), /w5 is not registered/);
    assert.match(r.problems.join('\n'), /w1 is not Ready/);
    assert.match(r.problems.join('\n'), /w2 runs kubelet v1\.34\.2, older than 1\.35\.4: this hop would leave it two minors behind/);
    assert.deepEqual(r.notes, ['w3 was cordoned before the upgrade; it is left cordoned', 'w4 is cordoned by an earlier upgrade run (ops/lab); this run takes it over']);
    assert.deepEqual(checkNodes([node('m1')], ['m1'], '1.35.4'), { problems: [], notes: [] });
  });

  it('control plane: one version (or part-way from → to, noted), Running; a third version is refused', () => {
    const cp = (m: string, v: string, phase = 'Running') => ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => ({ ...pod(`${c}-${m}`, m, { ns: 'kube-system', labels: { component: c }, image: `registry.k8s.io/${c}:v${v}`, phase }) }));
    assert.deepEqual(checkControlPlane([...cp('m1', '1.35.4'), ...cp('m2', '1.35.4')], ['m1', 'm2'], '1.35.4', '1.36.3'), { problems: [], notes: [] });
    const mid = checkControlPlane([...cp('m1', '1.36.3'), ...cp('m2', '1.35.4')], ['m1', 'm2'], '1.35.4', '1.36.3');
    assert.deepEqual(mid.problems, []);
    assert.match(mid.notes[0]!, /part-way/);
    const bad = checkControlPlane([...cp('m1', '1.34.1'), ...cp('m2', '1.35.4', 'Pending')], ['m1', 'm2', 'm3'], '1.35.4', '1.36.3');
    assert.equal(bad.problems.filter((p) => /1\.34\.1, neither/.test(p)).length, 3);
    assert.equal(bad.problems.filter((p) => /is Pending, not Running/.test(p)).length, 3);
    assert.equal(bad.problems.filter((p) => /on m3 has no mirror pod/.test(p)).length, 3);
  });

  it('etcd: learners, unstarted members and unhealthy endpoints are named', () => {
    const ok = { members: [{ name: 'm1', clientURLs: ['https://10.0.0.1:2379'] }] };
    assert.deepEqual(checkEtcdMembers(ok, [{ endpoint: 'https://10.0.0.1:2379', health: true }]), []);
    const r = checkEtcdMembers({ members: [...ok.members, { name: 'm2', isLearner: true, clientURLs: ['x'] }, { name: '', clientURLs: [] }] }, [{ endpoint: 'https://10.0.0.2:2379', health: false, error: 'deadline exceeded' }]);
    assert.deepEqual(r, ['etcd member m2 is a learner, not voting: promote it (etcdctl member promote) first', 'etcd member (unstarted) has not started: finish adding it first', 'etcd endpoint https://10.0.0.2:2379 is not healthy (deadline exceeded)']);
  });

  it('certificates: one expiring within the limit is refused, a missing one is not judged', () => {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const doc = { certificates: [{ name: 'apiserver', expirationDate: '2026-12-10T00:00:00Z' }, { name: 'admin.conf', expirationDate: '2027-12-06T00:00:00Z' }, { name: 'front-proxy-client', expirationDate: '2026-01-01T00:00:00Z', missing: true }] };
    const r = checkCertificates('m1', doc, now, 7);
    assert.equal(r.length, 1);
    assert.match(r[0]!, /m1: certificate apiserver expires in 4\.0 days .* renew it/);
    assert.deepEqual(checkCertificates('m1', doc, now, 3), []);
  });

  it('budgets: maxUnavailable 0 or minAvailable of every pod forbid a drain; minAvailable 1 of 2 does not', () => {
    const pods = [pod('web-a', 'w1'), pod('web-b', 'w1'), pod('other', 'w1', { labels: { app: 'db' } })];
    const drained = new Set(['w1']);
    assert.deepEqual(impossiblePdbs([pdb({ minAvailable: 1 }, 2)], pods, drained), []);
    assert.match(impossiblePdbs([pdb({ maxUnavailable: 0 }, 2)], pods, drained)[0]!, /PodDisruptionBudget default\/web \(maxUnavailable 0\) never allows evicting web-a, web-b on w1/);
    assert.match(impossiblePdbs([pdb({ minAvailable: 2 }, 2)], pods, drained)[0]!, /minAvailable 2 with 2 pod/);
    assert.match(impossiblePdbs([pdb({ minAvailable: '100%' })], pods, drained)[0]!, /minAvailable 100%/);
    assert.deepEqual(impossiblePdbs([pdb({ maxUnavailable: 0 }, 2)], pods, new Set(['w2'])), [], 'no selected pod on a drained node');
  });

  it('capacity: requests of a batch must fit on the other schedulable, untainted nodes', () => {
    const nodes = [node('m1', { taint: true, cpu: '8' }), node('w1', { cpu: '2' }), node('w2', { cpu: '2' })];
    const pods = [pod('a', 'w1', { cpu: '1500m' }), pod('b', 'w2', { cpu: '1' }), pod('ds', 'w1', { cpu: '4', ds: true })];
    // w2 has 1000m left (the master is tainted, the DaemonSet pod does not move): 1500m does not fit.
    const r = checkCapacity(nodes, pods, [['w1']]);
    assert.equal(r.length, 1);
    assert.match(r[0]!, /draining w1 moves pods requesting 1500m CPU, and the other schedulable nodes have 1000m left/);
    assert.deepEqual(checkCapacity(nodes, [pod('a', 'w1', { cpu: '500m' }), ...pods.slice(1)], [['w1']]), []);
    assert.deepEqual(checkCapacity(nodes, [pod('a', 'w1')], [['w1', 'w2']]), [], 'pods without requests fit anywhere');
    // A pod that tolerates the control-plane taint may go to the master (8 CPUs).
    const coredns = { ...pod('coredns', 'w1', { cpu: '1500m' }), spec: { ...pod('coredns', 'w1', { cpu: '1500m' }).spec, tolerations: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } };
    assert.deepEqual(checkCapacity(nodes, [coredns, ...pods.slice(1)], [['w1']]), []);
    assert.equal(quantity('512Mi', 'memory'), 512 * 2 ** 20);
    assert.equal(quantity('2', 'cpu'), 2000);
  });

  it('worker batches: a count, or a percentage rounded down and at least one', () => {
    const w = ['w1', 'w2', 'w3', 'w4', 'w5'];
    assert.deepEqual(workerBatches(w, 2), [['w1', 'w2'], ['w3', 'w4'], ['w5']]);
    assert.deepEqual(workerBatches(w, '40%'), [['w1', 'w2'], ['w3', 'w4'], ['w5']]);
    assert.deepEqual(workerBatches(w, '10%'), w.map((x) => [x]));
    assert.deepEqual(workerBatches([], 1), []);
  });
});
