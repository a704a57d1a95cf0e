import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planUpgrade, renderPlan, type NodeVersions, type ObservedCluster, type PlanInput } from '../../workflows/upgrade/plan.js';
import { skewProblems } from '../../workflows/upgrade/skew.js';
import { compareVersions, etcdForKubernetes, parseVersion } from '../../workflows/upgrade/versions.js';

const master = (name: string, v: string, extra: Partial<NodeVersions> = {}): NodeVersions => ({
  name, role: 'master', reachable: true, kubelet: v, kubeadm: v, kubectl: v, apiserver: v, controllerManager: v, scheduler: v, ...extra,
});
const worker = (name: string, v: string, extra: Partial<NodeVersions> = {}): NodeVersions => ({ name, role: 'worker', reachable: true, kubelet: v, ...extra });
const etcd = (versions: string[], topology: 'external' | 'stacked' = 'external') => ({ topology, members: versions.map((v, i) => ({ name: `etcd-${i + 1}`, version: v })) });
const cluster = (k8s: string, etcdVersions: string[], topology: 'external' | 'stacked' = 'external'): ObservedCluster => ({
  nodes: [master('m1', k8s), master('m2', k8s), master('m3', k8s), worker('w1', k8s), worker('w2', k8s)], etcd: etcd(etcdVersions, topology),
});
const K8S = ['1.24.17', '1.25.16', '1.26.15', '1.27.16', '1.28.15', '1.29.15', '1.33.1', '1.33.7', '1.34.3', '1.35.4', '1.36.3', '1.37.2'];
const ETCD = ['3.4.30', '3.5.21', '3.5.35', '3.6.16'];
const input = (observed: ObservedCluster, target: string, over: Partial<PlanInput> = {}): PlanInput => ({ observed, target, kubernetesReleases: K8S, etcdReleases: ETCD, ...over });
const hopsOf = (i: PlanInput) => {
  const v = planUpgrade(i);
  assert.ok(v.ok, v.ok ? '' : v.reason);
  return v.plan.hops.map((h) => `${h.kind} ${h.from}→${h.to}`);
};
const refusal = (i: PlanInput) => {
  const v = planUpgrade(i);
  assert.ok(!v.ok, `expected a refusal, got ${v.ok ? JSON.stringify(v.plan.hops) : ''}`);
  return v.reason;
};

describe('upgrade plan: versions', () => {
  it('parses kubeadm tags and v-prefixed versions, rejects others', () => {
    assert.deepEqual(parseVersion('v1.35.4'), { major: 1, minor: 35, patch: 4 });
    assert.deepEqual(parseVersion('3.5.24-0'), { major: 3, minor: 5, patch: 24 });
    assert.equal(parseVersion('1.35'), undefined);
    assert.equal(parseVersion('latest'), undefined);
    assert.ok(compareVersions(parseVersion('1.9.0')!, parseVersion('1.10.0')!) < 0, 'numeric, not string order');
  });

  it('etcd per Kubernetes minor follows kubeadm: 3.4 until 1.21, 3.5 from 1.22, 3.6 from 1.34', () => {
    assert.equal(etcdForKubernetes(21)?.etcdMinor, '3.4');
    assert.equal(etcdForKubernetes(22)?.etcdMinor, '3.5');
    assert.equal(etcdForKubernetes(33)?.etcdMinor, '3.5');
    assert.equal(etcdForKubernetes(34)?.etcdMinor, '3.6');
    assert.deepEqual(etcdForKubernetes(35)?.minExternal, { major: 3, minor: 5, patch: 24 });
    assert.equal(etcdForKubernetes(35)?.assumed, false);
    assert.equal(etcdForKubernetes(37)?.assumed, true);
    assert.equal(etcdForKubernetes(16), undefined);
  });
});

describe('upgrade plan: hops', () => {
  it('one Kubernetes minor at a time, newest patch of each intermediate minor, the exact target last', () => {
    assert.deepEqual(hopsOf(input(cluster('1.35.4', ['3.6.16']), '1.37.2')), ['kubernetes 1.35.4→1.36.3', 'kubernetes 1.36.3→1.37.2']);
  });

  it('seed 001: 1.24 on etcd 3.4 to 1.26: etcd 3.4 → 3.5 first (1.24 already runs 3.5 in kubeadm), then each minor', () => {
    assert.deepEqual(hopsOf(input(cluster('1.24.17', ['3.4.7', '3.4.7', '3.4.7']), '1.26.15')), [
      'etcd 3.4.7→3.5.35', 'kubernetes 1.24.17→1.25.16', 'kubernetes 1.25.16→1.26.15',
    ]);
  });

  it('each etcd hop comes right before the Kubernetes hop that needs it: 3.6 only before 1.34', () => {
    const hops = hopsOf(input(cluster('1.33.1', ['3.5.21', '3.5.21', '3.5.21']), '1.35.4'));
    // 3.5.21 is below etcd's 3.5.26 floor for 3.6: a patch hop to the newest 3.5 first.
    assert.deepEqual(hops, ['etcd 3.5.21→3.5.35', 'etcd 3.5.35→3.6.16', 'kubernetes 1.33.1→1.34.3', 'kubernetes 1.34.3→1.35.4']);
  });

  it('etcd 3.4 under Kubernetes 1.33 going to 1.35: 3.4 → 3.5 → 3.6, both before the 1.34 hop', () => {
    const hops = hopsOf(input(cluster('1.33.7', ['3.4.30', '3.4.30', '3.4.30']), '1.35.4'));
    assert.deepEqual(hops, ['etcd 3.4.30→3.5.35', 'etcd 3.5.35→3.6.16', 'kubernetes 1.33.7→1.34.3', 'kubernetes 1.34.3→1.35.4']);
  });

  it('the issue\'s run: 1.35 on etcd 3.4 (below what kubeadm 1.35 accepts) to 1.37: both etcd hops first, and the plan says the cluster is outside the supported versions', () => {
    const v = planUpgrade(input(cluster('1.35.4', ['3.4.30', '3.4.30', '3.4.30']), '1.37.2'));
    assert.ok(v.ok, v.ok ? '' : v.reason);
    assert.deepEqual(v.plan.hops.map((h) => `${h.kind} ${h.from}→${h.to}`), ['etcd 3.4.30→3.5.35', 'etcd 3.5.35→3.6.16', 'kubernetes 1.35.4→1.36.3', 'kubernetes 1.36.3→1.37.2']);
    assert.match(v.plan.notes.join('\n'), /runs 1\.35 on external etcd 3\.4\.30, below the 3\.5\.24 kubeadm 1\.35 accepts/);
    assert.match(renderPlan(v.plan, 'c'), /1\.22-1\.33 run etcd 3\.5 and accept external etcd 3\.4\.13\+; 1\.34\+ run etcd 3\.6 and accept external etcd 3\.5\.24\+/);
    // On 3.6 already: no such note.
    const ok = planUpgrade(input(cluster('1.35.4', ['3.6.16']), '1.37.2'));
    assert.ok(ok.ok && !ok.plan.notes.some((n) => /outside kubeadm/.test(n)));
  });

  it('no control plane found: only the etcd the target needs (the lab before Kubernetes is up)', () => {
    const v = planUpgrade(input({ nodes: [], etcd: etcd(['3.4.30', '3.4.30', '3.4.30']) }, '1.37.2'));
    assert.ok(v.ok);
    assert.deepEqual(v.plan.hops.map((h) => `${h.kind} ${h.from}→${h.to}`), ['etcd 3.4.30→3.5.35', 'etcd 3.5.35→3.6.16']);
    assert.match(v.plan.notes.join('\n'), /No node runs a Kubernetes control plane/);
    assert.match(v.plan.notes.join('\n'), /newer than the kubeadm constants checked/);
  });

  it('stacked etcd: no etcd hops (kubeadm upgrades it with the control plane)', () => {
    const v = planUpgrade(input(cluster('1.33.7', ['3.5.21', '3.5.21', '3.5.21'], 'stacked'), '1.35.4'));
    assert.ok(v.ok);
    assert.deepEqual(v.plan.hops.map((h) => h.kind), ['kubernetes', 'kubernetes']);
    assert.match(v.plan.notes.join('\n'), /stacked/);
  });

  it('patch upgrade within the minor is one hop; the cluster at the target is nothing to do', () => {
    assert.deepEqual(hopsOf(input(cluster('1.33.1', ['3.5.35']), '1.33.7')), ['kubernetes 1.33.1→1.33.7']);
    const v = planUpgrade(input(cluster('1.37.2', ['3.6.16']), '1.37.2'));
    assert.ok(v.ok && v.plan.hops.length === 0);
    assert.match(renderPlan(v.plan, 'c'), /Nothing to do/);
  });

  it('an etcd member already one minor ahead (a half-done etcd hop) is finished from the lowest member', () => {
    assert.deepEqual(hopsOf(input(cluster('1.33.7', ['3.5.35', '3.6.16', '3.5.35']), '1.34.3')), ['etcd 3.5.35→3.6.16', 'kubernetes 1.33.7→1.34.3']);
  });

  it('the rendered plan lists the hops in order and the skew rules', () => {
    const v = planUpgrade(input(cluster('1.33.7', ['3.4.30']), '1.34.3'));
    assert.ok(v.ok);
    const text = renderPlan(v.plan, 'prod');
    assert.match(text, /1\. etcd 3\.4\.30 → 3\.5\.35.*\n2\. etcd 3\.5\.35 → 3\.6\.16.*\n3\. Kubernetes 1\.33\.7 → 1\.34\.3/);
    assert.match(text, /kubelet: never newer than kube-apiserver; at most three minors older/);
  });
});

describe('upgrade plan: refusals', () => {
  it('a target that is not a release the source offers', () => {
    assert.match(refusal(input(cluster('1.35.4', ['3.6.16']), '1.36.9')), /1\.36\.9 is not a Kubernetes release the binary source offers \(.*1\.36\.3/);
    assert.match(refusal(input(cluster('1.35.4', ['3.6.16']), 'latest')), /not a Kubernetes version/);
    assert.match(refusal(input(cluster('1.35.4', ['3.6.16']), '1.37.2', { kubernetesReleases: [] })), /offers \(none\)/);
  });

  it('an intermediate minor with no release in the source (kubeadm cannot skip it)', () => {
    assert.match(refusal(input(cluster('1.29.15', ['3.5.35']), '1.33.7')), /hop through 1\.30 needs a 1\.30 release/);
  });

  it('a downgrade, also when only some nodes are newer', () => {
    assert.match(refusal(input(cluster('1.36.3', ['3.6.16']), '1.35.4')), /downgrade/);
    const c = cluster('1.35.4', ['3.6.16']);
    c.nodes[0] = master('m1', '1.36.3', { kubelet: '1.35.4', kubeadm: '1.36.3', kubectl: '1.36.3' });
    assert.match(refusal(input(c, '1.35.4')), /older than 1\.36\.3/);
  });

  it('a cluster skewed beyond policy: kubelet newer than the apiserver, apiservers two minors apart', () => {
    const a = cluster('1.35.4', ['3.6.16']);
    a.nodes[3] = worker('w1', '1.36.3');
    assert.match(refusal(input(a, '1.37.2')), /skewed.*w1 kubelet 1\.36\.3 is newer than kube-apiserver 1\.35\.4/);
    const b = cluster('1.35.4', ['3.6.16']);
    b.nodes[1] = master('m2', '1.33.7');
    assert.match(refusal(input(b, '1.37.2')), /kube-apiserver instances are 2 minors apart/);
    const c = cluster('1.35.4', ['3.6.16']);
    c.nodes[0] = master('m1', '1.35.4', { scheduler: '1.36.3' });
    assert.match(refusal(input(c, '1.37.2')), /m1 scheduler 1\.36\.3 is newer than every kube-apiserver/);
  });

  it('kubectl out of skew is a note (a client; each hop installs its kubectl), not a refusal', () => {
    const c = cluster('1.35.4', ['3.6.16']);
    c.nodes[0] = master('m1', '1.35.4', { kubectl: '1.32.4' });
    const v = planUpgrade(input(c, '1.36.3'));
    assert.ok(v.ok);
    assert.match(v.plan.notes.join('\n'), /m1: kubectl 1\.32\.4 is more than one minor from kube-apiserver/);
  });

  it('a half-done hop (one master upgraded, the others not) is within policy, so a resumed run can plan', () => {
    const c = cluster('1.35.4', ['3.6.16']);
    c.nodes[0] = master('m1', '1.36.3', { kubelet: '1.35.4' });
    assert.deepEqual(skewProblems(c.nodes), []);
    assert.deepEqual(hopsOf(input(c, '1.37.2')), ['kubernetes 1.35.4→1.36.3', 'kubernetes 1.36.3→1.37.2']);
  });

  it('kubelet lag: allowed up to three minors, refused when the first hop would make it four', () => {
    const c = cluster('1.35.4', ['3.6.16']);
    c.nodes[4] = worker('w2', '1.32.0');
    assert.deepEqual(skewProblems(c.nodes), [], 'three minors behind is within policy');
    assert.match(refusal(input(c, '1.36.3')), /kubelet at 1\.32\.0 would be 4 minors behind.*upgrade the old kubelets to 1\.35 first/);
    c.nodes[4] = worker('w2', '1.31.0');
    assert.match(refusal(input(c, '1.36.3')), /w2 kubelet 1\.31\.0 is 4 minors older/);
    // Before 1.28 the policy allowed two.
    const old = cluster('1.26.15', ['3.5.35']);
    old.nodes[3] = worker('w1', '1.23.0');
    assert.match(refusal(input(old, '1.27.16')), /at most 2/);
  });

  it('etcd members two minors apart, or one that cannot be read', () => {
    assert.match(refusal(input(cluster('1.33.7', ['3.4.30', '3.6.16', '3.5.35']), '1.34.3')), /more than one minor apart/);
    const c = cluster('1.33.7', ['3.5.35']);
    c.etcd.members.push({ name: 'etcd-9' });
    assert.match(refusal(input(c, '1.34.3')), /etcd version of etcd-9/);
  });

  it('a node that does not answer', () => {
    const c = cluster('1.33.7', ['3.5.35']);
    c.nodes[2] = { ...c.nodes[2]!, reachable: false };
    assert.match(refusal(input(c, '1.34.3')), /cannot read the versions on m3/);
  });

  it('no etcd release of a needed minor, or none above kubeadm\'s external minimum', () => {
    assert.match(refusal(input(cluster('1.33.7', ['3.4.30']), '1.34.3', { etcdReleases: ['3.4.30', '3.5.35'] })), /needs etcd 3\.6.*offers no 3\.6 release/);
    // 1.35's kubeadm accepts external etcd 3.5.24+ only; the hop to 3.5 then has to land there (here it goes on to 3.6 anyway).
    assert.match(refusal(input({ nodes: [], etcd: etcd(['3.4.30']) }, '1.35.4', { etcdReleases: ['3.5.21', '3.6.16'] })), /3\.5\.26 or later|at or above 3\.5\.26/);
  });
});

describe('upgrade: reading versions on a node', () => {
  it('takes the version out of what each tool prints; a tool that printed nothing is absent', async () => {
    const { parseVersionsOutput, VERSIONS_COMMAND } = await import('../../activities/kubernetes-versions/observe.js');
    const out = [
      'kubelet=Kubernetes v1.35.4',
      'kubeadm=v1.35.4',
      'kubectl="gitVersion": "v1.34.2"',
      'kube-apiserver=image: registry.k8s.io/kube-apiserver:v1.35.4',
      'kube-controller-manager=image: registry.k8s.io/kube-controller-manager:v1.35.4',
      'kube-scheduler=image: registry.k8s.io/kube-scheduler:v1.34.9',
    ].join('\n');
    assert.deepEqual(parseVersionsOutput(out), { kubelet: '1.35.4', kubeadm: '1.35.4', kubectl: '1.34.2', apiserver: '1.35.4', controllerManager: '1.35.4', scheduler: '1.34.9' });
    assert.deepEqual(parseVersionsOutput('kubelet=\nkubeadm=\nkubectl=\n'), {}, 'a worker without Kubernetes');
    // The manifests are read where kubeadm writes them; each component's own image line only.
    assert.match(VERSIONS_COMMAND, /\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/);
    assert.match(VERSIONS_COMMAND, /kube-scheduler:\[\^ \]\*/);
  });
});
