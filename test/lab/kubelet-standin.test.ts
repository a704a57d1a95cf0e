// The SIMULATED kubelet (lab/kubelet) stands in for the real one well enough for REAL kubeadm:
// a full `kubeadm init` (every phase, no phase skipped) on a node whose only kubelet is the
// stand-in exits 0; real kubectl then lists the node Ready at the kubelet's version and the four
// control-plane mirror pods Running and Ready, each carrying the container ID of a process that
// really runs; rewriting a manifest restarts that process with the new flag and changes the
// mirror pod's kubernetes.io/config.hash (what `kubeadm upgrade` waits for). When the next
// release is built, `kubeadm upgrade apply` to it runs on the same node. Everything started is
// stopped by pid and the network namespace deleted.
//
// Where it runs: a network namespace of its own (mkub-<pid>, 10.78.0.10/24 on a veth whose peer
// stays inside it: nothing is sent anywhere else) and a node filesystem view (lab/node-view.ts)
// with the stand-in "installed" as /usr/local/sbin/kubelet (lab/kubelet/install.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { renderKubeadmInitConfig } from '../../activities/kubeadm/config.js';
import { inNodeView, nodeRoot, prepareNodeView } from '../../lab/node-view.js';
import { installKubelet } from '../../lab/kubelet/install.js';
import { scratchDir } from '../helpers/scratch.js';
import { alive, cmdline, executable, run } from '../helpers/kubelet-lab.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring');
const NETNS = `mkub-${process.pid}`;
const NODE_IP = '10.78.0.10';
const NODE = 'master-1';
const FROM = '1.35.4';
const TO = '1.36.3';
const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

// Preflight checks that need a real container runtime, which the lab does not have (the
// SIMULATED kubelet runs programs, not images), so `kubeadm init` is told to ignore them:
//  - CRI, ContainerRuntimeVersion: kubeadm asks the CRI socket (containerd's) whether it runs;
//    there is no CRI socket on a lab node.
//  - ImagePull: kubeadm pulls the control-plane images through the CRI; the lab has no images.
//  - SystemVerification: it checks the cgroup controllers a container runtime uses and the kernel
//    config a runtime needs; a lab node is a namespace of a machine it does not own.
// Every other check runs, including KubeletVersion (`kubelet --version` of the stand-in) and the
// ports the control plane will use.
const RUNTIME_PREFLIGHT = ['CRI', 'ContainerRuntimeVersion', 'ImagePull', 'SystemVerification'];

const kubectlBin = () => (executable(join(REPO, '.tools/bin/kubectl')) ? join(REPO, '.tools/bin/kubectl') : 'kubectl');


let nodeDir = '';
/** The later cases need the cluster `kubeadm init` makes: they fail at once without it. */
let initialized = false;
const needCluster = () => assert.ok(initialized, 'kubeadm init did not succeed (see the case above)');
let kubelet: ChildProcess | undefined;
const kubeletLog: string[] = [];
const root = () => nodeRoot(nodeDir);

const inNode = (command: string[]) => {
  const view = inNodeView(nodeDir, command);
  return { cmd: 'ip', args: ['netns', 'exec', NETNS, view.cmd, ...view.args] };
};
const runInNode = (command: string[], timeout?: number) => {
  const c = inNode(command);
  return run(c.cmd, c.args, timeout);
};
const kubectl = (...args: string[]) =>
  run('ip', ['netns', 'exec', NETNS, kubectlBin(), '--kubeconfig', join(root(), '/etc/kubernetes/admin.conf'), '--request-timeout=10s', ...args], 30_000);
const kubeletTail = () => kubeletLog.join('').split('\n').slice(-40).join('\n');

function startKubelet(version: string): void {
  installKubelet(root(), `v${version}`);
  const c = inNode(['/usr/local/sbin/kubelet', '--node-name', NODE, '--manifests', '/etc/kubernetes/manifests',
    '--kubeconfig', '/etc/kubernetes/kubelet.conf', '--bootstrap-kubeconfig', '/etc/kubernetes/bootstrap-kubelet.conf',
    '--state-dir', '/var/lib/kubelet', '--binaries', join(CACHE, 'kubernetes', version), '--stop-pods-on-exit']);
  const child = spawn(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => {
    kubeletLog.push(b.toString());
    if (kubeletLog.length > 400) kubeletLog.splice(0, kubeletLog.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  kubelet = child;
}

/** SIGTERM the kubelet (it stops its pods: --stop-pods-on-exit) and wait for it to go. */
async function stopKubelet(): Promise<void> {
  const k = kubelet;
  kubelet = undefined;
  if (!k || k.exitCode !== null || k.signalCode !== null) return;
  const gone = new Promise((r) => k.once('exit', r));
  k.kill('SIGTERM');
  if (!(await Promise.race([gone.then(() => true), sleep(90_000).then(() => false)]))) {
    k.kill('SIGKILL');
    await gone;
  }
}

interface Rec { pod: string; container: string; id: string; pid: number; argv: string[] }
const containers = (): Rec[] => {
  try {
    return (JSON.parse(readFileSync(join(root(), '/var/lib/kubelet/containers.json'), 'utf8')) as { containers: Rec[] }).containers;
  } catch {
    return [];
  }
};

/** Every process the kubelet recorded, stopped by pid (SIGTERM, then SIGKILL). */
async function stopRecorded(): Promise<number[]> {
  const pids = containers().map((c) => c.pid).filter((p) => alive(p) && cmdline(p).length > 1);
  for (const p of pids) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  const deadline = Date.now() + 30_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(200);
  for (const p of pids.filter(alive)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  return pids;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (kubelet && (kubelet.exitCode !== null || kubelet.signalCode !== null)) assert.fail(`the kubelet exited while waiting for ${what}:\n${kubeletTail()}`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(1000);
  }
  assert.fail(`${what} not reached in ${timeoutMs / 1000} s ${lastError}\n--- kubelet\n${kubeletTail()}`);
}

interface Pod {
  metadata: { name: string; uid: string; annotations?: { [k: string]: string }; ownerReferences?: { kind: string; name: string }[] };
  spec: { containers: { image: string }[]; nodeName: string };
  status: { phase: string; conditions?: { type: string; status: string }[]; containerStatuses?: { containerID?: string; ready: boolean; image: string }[] };
}
async function mirrorPod(component: string): Promise<Pod | undefined> {
  const r = await kubectl('-n', 'kube-system', 'get', 'pod', `${component}-${NODE}`, '-o', 'json');
  return r.code === 0 ? (JSON.parse(r.out) as Pod) : undefined;
}
const runningAndReady = (p: Pod | undefined) =>
  !!p && p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The process behind a mirror pod's containerID: recorded by the kubelet, alive, running the component. */
function processOf(pod: Pod, component: string): Rec {
  const id = pod.status.containerStatuses?.[0]?.containerID?.replace(/^[a-z-]+:\/\//, '');
  assert.ok(id, `${pod.metadata.name} has a containerID`);
  const rec = containers().find((c) => c.id === id);
  assert.ok(rec, `container ${id} of ${pod.metadata.name} is one the kubelet runs`);
  assert.ok(alive(rec.pid), `pid ${rec.pid} of ${pod.metadata.name} is alive`);
  assert.ok(cmdline(rec.pid).some((a) => a.endsWith(`/${component}`)), `pid ${rec.pid} runs ${component}: ${cmdline(rec.pid).join(' ')}`);
  return rec;
}

const bin = (version: string, c: string) => join(CACHE, 'kubernetes', version, c);
const haveTo = executable(bin(TO, 'kubeadm')) && executable(bin(TO, 'kube-apiserver'));

describe(`SIMULATED kubelet with real kubeadm ${FROM}`, () => {
  before(async () => {
    for (const c of ['kubeadm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      assert.ok(executable(bin(FROM, c)), `${bin(FROM, c)} is missing: run scripts/build-kubernetes.sh ${FROM}`);
    }
    for (const s of [
      ['netns', 'add', NETNS],
      ['-n', NETNS, 'link', 'set', 'lo', 'up'],
      ['-n', NETNS, 'link', 'add', 'mkub0', 'type', 'veth', 'peer', 'name', 'mkub1'],
      ['-n', NETNS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'mkub0'],
      ['-n', NETNS, 'link', 'set', 'mkub0', 'up'],
      ['-n', NETNS, 'link', 'set', 'mkub1', 'up'],
      // kubeadm's preflight requires IPv4 forwarding (a kubeadm prerequisite): set in this namespace only.
      ['netns', 'exec', NETNS, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
    ]) {
      const r = await run('ip', s);
      assert.equal(r.code, 0, `ip ${s.join(' ')}: ${r.out}`);
    }
    nodeDir = scratchDir('mkub-node-');
    prepareNodeView(nodeDir);
    writeFileSync(join(nodeDir, 'kubeadm.yaml'), renderKubeadmInitConfig({
      clusterName: 'lab',
      kubernetesVersion: FROM,
      controlPlaneEndpoint: `${NODE_IP}:6443`,
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      node: { name: NODE, advertiseAddress: NODE_IP },
      etcd: { topology: 'stacked', dataDir: '/var/lib/etcd' },
      certSANs: [NODE_IP, NODE],
    }));
    // As systemd would: the kubelet runs before kubeadm, waiting for its kubeconfig and manifests.
    startKubelet(FROM);
  });

  after(async () => {
    await stopKubelet();
    if (nodeDir) await stopRecorded();
    await run('ip', ['netns', 'del', NETNS]);
  });

  test('the stand-in answers healthz and `kubelet --version` inside the node before kubeadm runs', async () => {
    const version = await runInNode(['/usr/local/sbin/kubelet', '--version']);
    assert.equal(version.out.trim(), `Kubernetes v${FROM}`);
    await waitFor('kubelet healthz', async () => {
      const r = await run('ip', ['netns', 'exec', NETNS, process.execPath, '-e',
        "require('http').get('http://127.0.0.1:10248/healthz', (r) => { let b=''; r.on('data', (d) => b += d); r.on('end', () => process.stdout.write(r.statusCode + ' ' + b)); }).on('error', (e) => process.stdout.write(e.message))"]);
      return r.out === '200 ok' ? true : undefined;
    }, 30_000);
  });

  test('a full `kubeadm init` exits 0 with the SIMULATED kubelet as the only kubelet', async () => {
    const r = await runInNode([bin(FROM, 'kubeadm'), 'init', '--config', join(nodeDir, 'kubeadm.yaml'),
      `--ignore-preflight-errors=${RUNTIME_PREFLIGHT.join(',')}`, '--v=1'], 15 * 60_000);
    assert.equal(r.code, 0, `kubeadm init:\n${r.out.slice(-6000)}\n--- kubelet\n${kubeletTail()}`);
    assert.match(r.out, /Your Kubernetes control-plane has initialized successfully/);
    assert.match(r.out, /\[kubelet-check\] The kubelet is healthy/);
    initialized = true;
  });

  test('real kubectl: the node is Ready at the kubelet version; the control-plane mirror pods run the recorded processes', async () => {
    needCluster();
    const node = await waitFor('node Ready', async () => {
      const r = await kubectl('get', 'node', NODE, '-o', 'json');
      if (r.code !== 0) return undefined;
      const n = JSON.parse(r.out) as { metadata: { labels: Record<string, string> }; status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string }; addresses: { type: string; address: string }[] } };
      return n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
    }, 120_000);
    assert.equal(node.status.nodeInfo.kubeletVersion, `v${FROM}`);
    assert.ok(node.status.addresses.some((a) => a.type === 'InternalIP' && a.address === NODE_IP), JSON.stringify(node.status.addresses));
    // kubeadm's mark-control-plane phase found the Node the stand-in registered and labelled it.
    assert.ok('node-role.kubernetes.io/control-plane' in node.metadata.labels, JSON.stringify(node.metadata.labels));
    const wide = await kubectl('get', 'nodes', '-o', 'wide');
    assert.match(wide.out, new RegExp(`${NODE}\\s+Ready\\s+control-plane\\s+\\S+\\s+v${FROM.replace(/\./g, '\\.')}`));

    const lease = await kubectl('-n', 'kube-node-lease', 'get', 'lease', NODE, '-o', 'jsonpath={.spec.holderIdentity}');
    assert.equal(lease.out, NODE);

    for (const c of CONTROL_PLANE) {
      const pod = await waitFor(`mirror pod ${c}-${NODE} Running and Ready`, async () => {
        const p = await mirrorPod(c);
        return runningAndReady(p) ? p : undefined;
      }, 180_000);
      const a = pod.metadata.annotations ?? {};
      assert.match(a['kubernetes.io/config.hash'] ?? '', /^[0-9a-f]{32}$/);
      assert.equal(a['kubernetes.io/config.mirror'], a['kubernetes.io/config.hash']);
      assert.equal(a['kubernetes.io/config.source'], 'file');
      assert.equal(pod.spec.nodeName, NODE);
      assert.deepEqual(pod.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), [`Node/${NODE}`]);
      processOf(pod, c);
    }
  });

  test('rewriting a manifest restarts the process with the new flag and changes the mirror pod hash', async () => {
    needCluster();
    const file = join(root(), '/etc/kubernetes/manifests/kube-scheduler.yaml');
    const before = (await mirrorPod('kube-scheduler'))!;
    const oldHash = before.metadata.annotations!['kubernetes.io/config.hash']!;
    const oldProc = processOf(before, 'kube-scheduler');
    assert.ok(!oldProc.argv.includes('--v=3'));

    // As kubeadm writes a manifest: a whole new file moved into place.
    const pod = parse(readFileSync(file, 'utf8')) as { spec: { containers: { command: string[] }[] } };
    pod.spec.containers[0]!.command.push('--v=3');
    writeFileSync(`${file}.new`, stringify(pod));
    renameSync(`${file}.new`, join(root(), '/etc/kubernetes/manifests/kube-scheduler.yaml'));

    const after = await waitFor('a new scheduler mirror pod, Running and Ready', async () => {
      const p = await mirrorPod('kube-scheduler');
      return p && p.metadata.annotations?.['kubernetes.io/config.hash'] !== oldHash && runningAndReady(p) ? p : undefined;
    }, 180_000);
    assert.notEqual(after.metadata.uid, before.metadata.uid, 'the mirror pod was recreated');
    const newProc = processOf(after, 'kube-scheduler');
    assert.notEqual(newProc.pid, oldProc.pid);
    assert.ok(cmdline(newProc.pid).includes('--v=3'), `new scheduler runs with --v=3: ${cmdline(newProc.pid).join(' ')}`);
    assert.ok(!alive(oldProc.pid), `old scheduler pid ${oldProc.pid} was stopped`);
    // The other pods were left alone.
    for (const c of ['etcd', 'kube-apiserver']) assert.ok(runningAndReady(await mirrorPod(c)), c);
  });

  test('crictl on the node lists the processes behind the mirror pods; `crictl stop` of the apiserver brings a new one that serves', async () => {
    needCluster();
    const crictl = async (...args: string[]) => {
      const r = await runInNode(['/usr/local/sbin/crictl', ...args]);
      assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.out}`);
      return r.out;
    };
    const listed = () => crictl('ps', '-o', 'json').then((o) => (JSON.parse(o) as { containers: { id: string; metadata: { name: string }; state: string }[] }).containers);
    const before = await listed();
    for (const c of CONTROL_PLANE) {
      const pod = (await mirrorPod(c))!;
      const id = pod.status.containerStatuses![0]!.containerID!.replace(/^[a-z-]+:\/\//, '');
      assert.ok(before.some((x) => x.metadata.name === c && x.id === id && x.state === 'CONTAINER_RUNNING'), `crictl lists ${c} as ${id}: ${JSON.stringify(before)}`);
    }
    const old = before.find((x) => x.metadata.name === 'kube-apiserver')!;
    const oldPid = containers().find((x) => x.id === old.id)!.pid;
    await crictl('stop', old.id);
    assert.ok(!alive(oldPid), `crictl stop ended pid ${oldPid}`);
    const fresh = await waitFor('a new kube-apiserver container, its mirror pod Ready', async () => {
      const now = (await listed()).find((x) => x.metadata.name === 'kube-apiserver');
      const pod = await mirrorPod('kube-apiserver');
      return now && now.id !== old.id && runningAndReady(pod) && pod!.status.containerStatuses?.[0]?.containerID?.endsWith(now.id) ? now : undefined;
    }, 180_000);
    assert.notEqual(fresh.id, old.id);
    const readyz = await kubectl('get', '--raw', '/readyz');
    assert.equal(readyz.out.trim(), 'ok');
  });

  test('TLS bootstrap: a kubelet with only a bootstrap token gets its CSR approved by kube-controller-manager and registers its node', async () => {
    needCluster();
    const token = await runInNode([bin(FROM, 'kubeadm'), 'token', 'create', '--kubeconfig', '/etc/kubernetes/admin.conf']);
    assert.equal(token.code, 0, token.out);
    const ca = readFileSync(join(root(), '/etc/kubernetes/pki/ca.crt')).toString('base64');
    writeFileSync(join(root(), '/etc/kubernetes/worker-bootstrap.conf'), stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'bootstrap',
      clusters: [{ name: 'lab', cluster: { server: `https://${NODE_IP}:6443`, 'certificate-authority-data': ca } }],
      contexts: [{ name: 'bootstrap', context: { cluster: 'lab', user: 'tls-bootstrap-token-user' } }],
      users: [{ name: 'tls-bootstrap-token-user', user: { token: /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/.exec(token.out)?.[0] } }],
    }));
    // A second kubelet in the same namespace (its own healthz port, state dir and kubeconfig):
    // the join path without a second node.
    const c = inNode(['/usr/local/sbin/kubelet', '--node-name', 'worker-1', '--manifests', '/etc/kubernetes/worker-manifests',
      '--kubeconfig', '/etc/kubernetes/worker-kubelet.conf', '--bootstrap-kubeconfig', '/etc/kubernetes/worker-bootstrap.conf',
      '--state-dir', '/var/lib/worker-kubelet', '--binaries', join(CACHE, 'kubernetes', FROM), '--healthz-port', '10249', '--stop-pods-on-exit']);
    const worker = spawn(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    worker.stderr.on('data', (b: Buffer) => log.push(b.toString()));
    try {
      await waitFor('node worker-1 Ready', async () => {
        if (worker.exitCode !== null) assert.fail(`worker kubelet exited: ${log.join('')}`);
        const r = await kubectl('get', 'node', 'worker-1', '-o', 'jsonpath={.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status}');
        return r.out === `v${FROM} True` ? true : undefined;
      }, 120_000).catch((e: Error) => assert.fail(`${e.message}\n--- worker kubelet\n${log.join('').slice(-3000)}`));
      const csrs = JSON.parse((await kubectl('get', 'csr', '-o', 'json')).out) as { items: { spec: { username: string; signerName: string }; status: { conditions?: { type: string }[] } }[] };
      const mine = csrs.items.find((x) => x.spec.username.startsWith('system:bootstrap:'));
      assert.ok(mine, 'a CSR made with the bootstrap token');
      assert.equal(mine.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
      assert.ok(mine.status.conditions?.some((x) => x.type === 'Approved'), 'approved by kube-controller-manager');
      // An absolute symlink, as the kubelet makes it: resolved inside the node's view.
      const link = readlinkSync(join(root(), '/var/lib/worker-kubelet/pki/kubelet-client-current.pem'));
      assert.match(link, /^\/var\/lib\/worker-kubelet\/pki\/kubelet-client-\d{8}-\d{6}\.pem$/);
      const pem = readFileSync(join(root(), link), 'utf8');
      const cert = new X509Certificate(pem);
      assert.match(cert.subject, /CN=system:node:worker-1/);
      assert.match(cert.subject, /O=system:nodes/);
      assert.ok(cert.checkIssued(new X509Certificate(readFileSync(join(root(), '/etc/kubernetes/pki/ca.crt')))), 'signed by the cluster CA');
      assert.match(readFileSync(join(root(), '/etc/kubernetes/worker-kubelet.conf'), 'utf8'), /client-certificate: "\/var\/lib\/worker-kubelet\/pki\/kubelet-client-current.pem"/);
    } finally {
      const gone = new Promise((r) => worker.once('exit', r));
      if (worker.exitCode === null) worker.kill('SIGTERM');
      await gone;
      await kubectl('delete', 'node', 'worker-1', '--wait=false');
    }
  });

  // Set-up builds every pinned release, so a missing one is a broken set-up: fail, never skip.
  test(`kubeadm upgrade apply v${TO} on this node with the SIMULATED kubelet`, async (t) => {
    assert.ok(haveTo, `Kubernetes ${TO} is not built: run scripts/build-kubernetes.sh ${TO}`);
    needCluster();
    const hashes = new Map<string, string>();
    for (const c of CONTROL_PLANE) hashes.set(c, (await mirrorPod(c))!.metadata.annotations!['kubernetes.io/config.hash']!);
    const r = await runInNode([bin(TO, 'kubeadm'), 'upgrade', 'apply', `v${TO}`, '--yes', '--v=1',
      `--ignore-preflight-errors=${RUNTIME_PREFLIGHT.join(',')},CreateJob`], 20 * 60_000);
    assert.equal(r.code, 0, `kubeadm upgrade apply:\n${r.out.slice(-8000)}\n--- kubelet\n${kubeletTail()}`);
    assert.match(r.out, /SUCCESS! A control plane node of your cluster was upgraded/);
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const p = await waitFor(`${c} at v${TO}, Running and Ready`, async () => {
        const pod = await mirrorPod(c);
        return pod && pod.spec.containers[0]!.image.endsWith(`:v${TO}`) && runningAndReady(pod) ? pod : undefined;
      }, 180_000);
      assert.notEqual(p.metadata.annotations!['kubernetes.io/config.hash'], hashes.get(c), `${c}'s hash changed`);
      const proc = processOf(p, c);
      assert.equal(proc.argv[0], bin(TO, c), `${c} runs the ${TO} build`);
    }
    const ver = await kubectl('get', '--raw', '/version');
    assert.equal(ver.code, 0, ver.out);
    assert.equal((JSON.parse(ver.out.slice(ver.out.indexOf('{'), ver.out.lastIndexOf('}') + 1)) as { gitVersion: string }).gitVersion, `v${TO}`);
    t.diagnostic(r.out.split('\n').filter((l) => /^\[upgrade\/(staticpods|etcd)\].*(Component|hash|etcd)|SUCCESS/.test(l)).slice(0, 20).join(' | '));

    // Then the node's kubelet is upgraded (the package, then a restart): the new kubelet adopts
    // the running processes and reports the new version.
    await stopKubeletKeepingPods();
    startKubelet(TO);
    await waitFor(`node at kubelet v${TO}`, async () => {
      const n = await kubectl('get', 'node', NODE, '-o', 'jsonpath={.status.nodeInfo.kubeletVersion}');
      return n.out === `v${TO}` ? true : undefined;
    }, 120_000);
  });

  test('teardown: the kubelet stops every process it started, by pid', async (t) => {
    const recorded = containers();
    assert.ok(recorded.length >= 4, `the kubelet recorded its processes: ${JSON.stringify(recorded)}`);
    await stopKubelet();
    t.diagnostic(kubeletTail().split('\n').filter((l) => /stopping|SIGTERM|shutting/.test(l)).join(' | '));
    const left = recorded.filter((c) => alive(c.pid) && cmdline(c.pid).join(' ').includes(c.argv[0]!));
    assert.deepEqual(left.map((c) => `${c.pod} pid ${c.pid}`), []);
    assert.ok(existsSync(join(root(), '/var/lib/kubelet/pods')));
  });
});

/** Kills the kubelet but not its pods (SIGKILL skips --stop-pods-on-exit), as a kubelet restart leaves the containers running. */
async function stopKubeletKeepingPods(): Promise<void> {
  const k = kubelet;
  kubelet = undefined;
  if (!k || k.exitCode !== null) return;
  const gone = new Promise((r) => k.once('exit', r));
  k.kill('SIGKILL');
  await gone;
}
