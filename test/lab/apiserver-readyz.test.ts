// The control-plane restart's readiness probe against a REAL kube-apiserver: Mooring's
// restartControlPlane activity, over real SSH to a master, runs curl with the cluster CA against
// GET https://<master>:6443/readyz and returns only on 200; with the apiserver stopped it fails
// within its bound, saying what it last saw; a server answering 503 + Retry-After makes it fail
// with nextRetryDelay set to what the server asked.
//
// The master: a network namespace of its own (mooring-readyz-<pid>, one veth with 10.251.80.10,
// no route out) and a filesystem view (lab/node-view.ts) holding what kubeadm writes. Real:
// kubeadm (its phases write the certificates and static-pod manifests, stacked etcd with the
// inventory's quota-backend-bytes), etcd 3.6 and kube-apiserver run from those manifests, OpenSSH
// sshd on the master's address, curl. SIMULATED: crictl (no kubelet; lab/crictl-standin.sh), and
// the 503 server of the third case (node's https module with the apiserver's own certificate).
// The activity runs in a child process inside the namespace (test/helpers/run-activity.ts), so
// it reaches the master at the same address its apiserver serves on, as a worker would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { renderKubeadmInitConfig } from '../../activities/kubeadm/config.js';
import { inNodeView, nodeRoot, prepareNodeView } from '../../lab/node-view.js';
import { ensureKey, sshdConfig, SSHD, writeSshdConfig } from '../../lab/sshd.js';
import { scratchDir } from '../helpers/scratch.js';
import { isExecutable as executable } from '../../client/tools.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring');
const NETNS = `mooring-readyz-${process.pid}`;
const NODE_IP = '10.251.80.10';
const QUOTA = 8 * 1024 ** 3;


/** The first pinned Kubernetes release already built (the probe does not depend on the minor). */
function kubernetesBuild(): { version: string; dir: string } {
  const pinned = pinnedKubernetes();
  const built = pinned.find((v) => ['kubeadm', 'kube-apiserver'].every((c) => executable(join(CACHE, 'kubernetes', v, c))));
  assert.ok(built, `no pinned Kubernetes release (${pinned.join(', ')}) is built in ${join(CACHE, 'kubernetes')}: run scripts/build-kubernetes.sh`);
  return { version: built, dir: join(CACHE, 'kubernetes', built) };
}

/** The newest cached etcd 3.6 build (kubeadm's etcd manifest uses 3.6 flag names). */
function etcd36(): string {
  const dir = join(CACHE, 'etcd');
  const v = (existsSync(dir) ? readdirSync(dir) : []).filter((x) => /^3\.6\.\d+$/.test(x) && executable(join(dir, x, 'etcd')))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2])).pop();
  assert.ok(v, `no etcd 3.6 build in ${dir}: run scripts/build-etcd.sh`);
  return join(dir, v, 'etcd');
}

interface Run { code: number; out: string }
function run(cmd: string, args: string[], opts: { timeout?: number; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: opts.timeout ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

interface Proc { name: string; child: ChildProcess; log: string[] }
const procs: Proc[] = [];

/** Starts `command` in the master's namespace and filesystem view; output kept for failure messages. */
function startInMaster(nodeDir: string, name: string, command: string[]): Proc {
  const view = inNodeView(nodeDir, command);
  const child = spawn('ip', ['netns', 'exec', NETNS, view.cmd, ...view.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, log: [] };
  const keep = (b: Buffer) => { p.log.push(b.toString()); if (p.log.length > 200) p.log.splice(0, p.log.length - 200); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  procs.push(p);
  return p;
}

const exited = (p: Proc) => p.child.exitCode !== null || p.child.signalCode !== null;
const tail = (p: Proc) => p.log.join('').split('\n').slice(-20).join('\n');

/** SIGTERM (then SIGKILL after 10 s) to one process this test started, by its PID. */
async function stop(p: Proc): Promise<void> {
  if (exited(p)) return;
  const gone = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(10_000).then(() => false)])) return;
  p.child.kill('SIGKILL');
  await gone;
}

/** The command of a kubeadm static-pod manifest, with argv[0] replaced by the binary to run. */
function manifestCommand(nodeDir: string, component: string, binary: string): string[] {
  const pod = parse(readFileSync(join(nodeRoot(nodeDir), '/etc/kubernetes/manifests', `${component}.yaml`), 'utf8')) as { spec: { containers: { command: string[] }[] } };
  const command = pod.spec.containers[0]!.command;
  return [binary, ...command.slice(1)];
}

interface Outcome {
  ok: boolean;
  result?: { host: string; stopped: string[]; alreadyRestarted?: string[]; readyz?: string };
  failure?: { name: string; type?: string; message: string; nonRetryable?: boolean; nextRetryDelay?: unknown };
}

describe('restartControlPlane waits for a real kube-apiserver\'s /readyz (over SSH, in a network namespace)', () => {
  let nodeDir: string;
  let labDir: string;
  let apiserver: Proc;
  let etcd: Proc;
  let args: Record<string, unknown>;

  /** The activity, run inside the namespace as a worker on the master's network would run it. */
  const restart = async (over: Record<string, unknown> = {}): Promise<Outcome> => {
    const r = await run('ip', ['netns', 'exec', NETNS, process.execPath, join(REPO, 'dist/test/helpers/run-activity.js')],
      { timeout: 240_000, input: JSON.stringify({ activity: 'restartControlPlane', args: { ...args, ...over } }) });
    const line = r.out.split('\n').find((l) => l.startsWith('{"ok"'));
    assert.ok(line, `run-activity printed no outcome (exit ${r.code}):\n${r.out}`);
    return JSON.parse(line) as Outcome;
  };
  const freshContainers = () => writeFileSync(join(nodeDir, 'containers'), 'kube-apiserver a0 0\nkube-controller-manager b0 0\nkube-scheduler c0 0\n');
  const beforeIds = [{ name: 'kube-apiserver', id: 'a0' }, { name: 'kube-controller-manager', id: 'b0' }, { name: 'kube-scheduler', id: 'c0' }];

  before(async () => {
    const k8s = kubernetesBuild();
    const etcdBin = etcd36();
    process.on('exit', () => {
      for (const p of procs) if (!exited(p)) p.child.kill('SIGKILL');
      try { execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' }); } catch { /* gone */ }
    });
    for (const s of [['netns', 'add', NETNS], ['-n', NETNS, 'link', 'set', 'lo', 'up'], ['-n', NETNS, 'link', 'add', 'rdz0', 'type', 'veth', 'peer', 'name', 'rdz1'],
      ['-n', NETNS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'rdz0'], ['-n', NETNS, 'link', 'set', 'rdz0', 'up'], ['-n', NETNS, 'link', 'set', 'rdz1', 'up']]) {
      const r = await run('ip', s);
      assert.equal(r.code, 0, `ip ${s.join(' ')}: ${r.out}`);
    }
    // The lab's layout (LAB/nodes/NAME) so the lab's node shell and SIMULATED crictl work unchanged.
    labDir = scratchDir('mooring-readyz-');
    nodeDir = join(labDir, 'nodes', 'master-1');
    mkdirSync(join(nodeDir, 'faults'), { recursive: true });
    prepareNodeView(nodeDir);
    writeFileSync(join(nodeDir, 'container-start-seconds'), '1');

    // kubeadm writes the CA, the apiserver's certificate for NODE_IP and the manifests; stacked
    // etcd carries the quota as an extra argument.
    const config = join(nodeDir, 'kubeadm.yaml');
    writeFileSync(config, renderKubeadmInitConfig({
      clusterName: 'lab', kubernetesVersion: k8s.version, controlPlaneEndpoint: `${NODE_IP}:6443`,
      podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', node: { name: 'master-1', advertiseAddress: NODE_IP },
      etcd: { topology: 'stacked', dataDir: '/var/lib/etcd', quotaBackendBytes: QUOTA }, skipPhases: ['preflight', 'addon/kube-proxy'],
    }));
    for (const phase of [['certs', 'all'], ['etcd', 'local'], ['control-plane', 'apiserver']]) {
      const view = inNodeView(nodeDir, [join(k8s.dir, 'kubeadm'), 'init', 'phase', ...phase, '--config', config]);
      const r = await run('ip', ['netns', 'exec', NETNS, view.cmd, ...view.args]);
      assert.equal(r.code, 0, `kubeadm init phase ${phase.join(' ')}: ${r.out}`);
    }
    const etcdCmd = manifestCommand(nodeDir, 'etcd', etcdBin);
    assert.ok(etcdCmd.includes(`--quota-backend-bytes=${QUOTA}`), `kubeadm's etcd manifest carries the quota: ${etcdCmd.join(' ')}`);
    etcd = startInMaster(nodeDir, 'etcd', etcdCmd);
    apiserver = startInMaster(nodeDir, 'kube-apiserver', manifestCommand(nodeDir, 'kube-apiserver', join(k8s.dir, 'kube-apiserver')));

    // The master's sshd, on its own address, as the lab runs one (key auth, pinned host key).
    const nodeShell = join(labDir, 'node-shell');
    copyFileSync(join(REPO, 'lab/node-shell.sh'), nodeShell);
    chmodSync(nodeShell, 0o755);
    const clientPub = await ensureKey(join(labDir, 'id_ed25519'), 'mooring-readyz-test');
    writeFileSync(join(labDir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
    const hostKey = await ensureKey(join(nodeDir, 'ssh_host_ed25519_key'), 'master-1.readyz');
    const sshdFile = join(nodeDir, 'sshd_config');
    writeSshdConfig(sshdFile, sshdConfig({ ip: NODE_IP, port: 22, nodeDir, labDir, nodeName: 'master-1', nodeShell }));
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const sshd = startInMaster(nodeDir, 'sshd', [SSHD, '-D', '-e', '-f', sshdFile]);
    args = {
      ssh: { user: 'root', privateKeyPath: join(labDir, 'id_ed25519'), connectTimeoutSeconds: 10 },
      host: { name: 'master-1', ip: NODE_IP, sshPort: 22, hostKey, where: 'masters[0]' },
      before: beforeIds,
    };
    // Wait for sshd to listen and the apiserver to be ready, seen from inside the namespace.
    const deadline = Date.now() + 240_000;
    for (;;) {
      for (const p of [etcd, apiserver, sshd]) if (exited(p)) assert.fail(`${p.name} exited:\n${tail(p)}`);
      const r = await run('ip', ['netns', 'exec', NETNS, 'curl', '-sS', '-m', '3', '--cacert', join(nodeRoot(nodeDir), '/etc/kubernetes/pki/ca.crt'), `https://${NODE_IP}:6443/readyz`], { timeout: 10_000 });
      if (r.out.trim() === 'ok') break;
      if (Date.now() > deadline) assert.fail(`the apiserver did not get ready in 240 s: ${r.out}\n${tail(apiserver)}`);
      await sleep(2000);
    }
  });

  after(async () => {
    for (const p of procs.splice(0).reverse()) await stop(p);
    await run('ip', ['netns', 'del', NETNS]);
  });

  it('a ready apiserver: the restart returns with /readyz 200, asked anonymously with the cluster CA', async () => {
    freshContainers();
    const o = await restart();
    assert.ok(o.ok, JSON.stringify(o.failure));
    assert.equal(o.result!.stopped.length, 3);
    assert.match(o.result!.readyz ?? '', new RegExp(`^200 after \\d+ s \\(https://${NODE_IP.replace(/\./g, '\\.')}:6443/readyz\\)$`));
    // The command the master received: curl against its own address with the cluster CA (no -k).
    const commands = readFileSync(join(nodeDir, 'commands.log'), 'utf8');
    // (As logged: the command is quoted once more inside the lab's channel wrapper.)
    assert.match(commands, /curl --silent --show-error --max-time \W*5\W* --cacert \W*\/etc\/kubernetes\/pki\/ca\.crt\W* --dump-header - \W*https:\/\/10\.251\.80\.10:6443\/readyz\?verbose/);
    assert.doesNotMatch(commands, /curl[^\n]*(--insecure| -k )/);
  });

  it('"none-simulated" says the apiserver was not probed (never silently)', async () => {
    freshContainers();
    const o = await restart({ apiserverReadiness: 'none-simulated' });
    assert.ok(o.ok, JSON.stringify(o.failure));
    assert.match(o.result!.readyz ?? '', /^not probed: this master runs no kube-apiserver \(SIMULATED lab/);
  });

  it('the apiserver stopped: a bounded, retryable failure naming the URL and the last answer', async () => {
    await stop(apiserver);
    freshContainers();
    const started = Date.now();
    const o = await restart({ readyzTimeoutSeconds: 6 });
    const took = Date.now() - started;
    assert.equal(o.ok, false);
    assert.equal(o.failure!.type, 'ApiserverNotReady');
    assert.equal(o.failure!.nonRetryable, false, 'a retry asks again (it stops nothing: the IDs already changed)');
    assert.match(o.failure!.message, /^master-1: the kube-apiserver did not answer 200 at https:\/\/10\.251\.80\.10:6443\/readyz\?verbose within \d+ s \(\d+ probes\); last answer: curl exit 7: .*(Connection refused|Failed to connect)/);
    assert.ok(took < 60_000, `bounded by readyzTimeoutSeconds: took ${took} ms`);
  });

  it('503 with Retry-After: fails at once with nextRetryDelay as the server asked', async () => {
    // SIMULATED busy apiserver: the apiserver's own certificate, so curl's verification still holds.
    const pki = '/etc/kubernetes/pki';
    const script = `const fs = require('fs'); require('https').createServer({ cert: fs.readFileSync('${pki}/apiserver.crt'), key: fs.readFileSync('${pki}/apiserver.key') }, (req, res) => {`
      + ` res.writeHead(503, { 'Retry-After': '7', 'Content-Type': 'text/plain' }); res.end('[-]etcd failed: reason withheld\\nreadyz check failed\\n'); }).listen(6443, '${NODE_IP}', () => console.log('listening'));`;
    const busy = startInMaster(nodeDir, 'busy-apiserver', [process.execPath, '-e', script]);
    const deadline = Date.now() + 20_000;
    while (!busy.log.join('').includes('listening')) {
      if (exited(busy) || Date.now() > deadline) assert.fail(`the 503 server did not start:\n${tail(busy)}`);
      await sleep(200);
    }
    freshContainers();
    const o = await restart();
    await stop(busy);
    assert.equal(o.ok, false);
    assert.equal(o.failure!.type, 'ApiserverBusy');
    assert.equal(o.failure!.nonRetryable, false);
    assert.equal(o.failure!.nextRetryDelay, 7000, 'Temporal waits what the server asked before the next attempt');
    assert.match(o.failure!.message, /answered 503 with Retry-After 7/);
  });
});
