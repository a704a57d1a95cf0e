// `mooring lab up --kubernetes 1.N`: the netns lab (lab/netns/) plus a real control plane. Real
// kubeadm, run over SSH through the bastion as a runbook would, `init` on master-1 with the
// configuration activities/kubeadm/config.ts generates (controlPlaneEndpoint = the VIP:6443, so
// every node reaches the API through keepalived + HAProxy), `join --control-plane` on the other
// masters (stacked etcd) and `join` on the worker. The kubelet on every master and worker is the
// SIMULATED one (lab/kubelet/): it runs kubeadm's static-pod manifests as processes of the node
// (real etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and registers the Node.
// The worker's side reaches the API through a loopback forward to the VIP (kubeconfig in the lab dir).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseInventory } from '../config/load.js';
import type { Inventory } from '../config/schema.js';
import { withSession, type SshAccess } from '../activities/ssh/access.js';
import { shellQuote } from '../activities/ssh/quote.js';
import { kubeadmInitInputFromInventory, renderKubeadmInitConfig } from '../activities/kubeadm/config.js';
import { renderKubeadmJoinConfig } from '../activities/kubeadm/join-config.js';
import { nodeRoot } from './node-view.js';
import { execFileP, runningAs, waitFor } from './processes.js';
import { NetnsLab, type NetnsLabOptions } from './netns/netns-lab.js';
import { resolveKubernetes, type KubernetesBuild } from './kubernetes-versions.js';
import { installKubelet } from './kubelet/install.js';
import { writeKubernetesReleases } from './kubernetes-releases.js';
import { cachedEtcdBuilds, findTool, isExecutable } from '../client/tools.js';

const KUBEADM_CONFIG = '/etc/kubernetes/kubeadm-init.yaml';
const KUBEADM_JOIN_CONFIG = '/etc/kubernetes/kubeadm-join.yaml';
/** Lab state of the Kubernetes layer, next to the netns lab's. */
const STATE = 'kubernetes-state.json';
/**
 * kubeadm preflight checks the lab's nodes cannot pass, ignored by the upgrade (inventory
 * kubernetes.upgrade.ignorePreflightErrors): CRI, ContainerRuntimeVersion, ImagePull and
 * SystemVerification need a container runtime (docs/kubelet-standin.md), CreateJob waits for a
 * Job's pod to complete and the SIMULATED kubelet runs no pods but static ones.
 */
export const LAB_IGNORED_PREFLIGHT = ['CRI', 'ContainerRuntimeVersion', 'ImagePull', 'SystemVerification', 'CreateJob'];

interface KubeState { version: string; kubelets: Record<string, number> }

export interface KubernetesLabOptions extends Omit<NetnsLabOptions, 'kubernetesVersion' | 'apiCheck'> {
  /** 1.N or 1.N.P: one of the releases scripts/build-kubernetes.sh pins, built. */
  kubernetes: string;
}

/** kubeadm's whole output kept on the node (/var/lib/kubeadm-STEP.log); its tail is the error when it fails. */
const logged = (step: string, command: string) => {
  const file = shellQuote(`/var/lib/kubeadm-${step}.log`);
  return `${command} > ${file} 2>&1 || { code=$?; tail -n 25 ${file} >&2; exit "$code"; }`;
};

/**
 * kubeadm takes the certificate key only from the InitConfiguration once --config is given; the
 * key encrypts the certificates uploaded for control-plane joins, so it lives in the file (mode
 * 0600, in /etc/kubernetes beside the keys it protects), never on a command line.
 */
function withCertificateKey(config: string, key: string): string {
  const [init, ...rest] = config.split('---\n');
  const doc = parse(init!) as Record<string, unknown>;
  if (doc.kind !== 'InitConfiguration') throw new Error(`kubeadm config: the first document is ${String(doc.kind)}, not InitConfiguration`);
  return [stringify({ ...doc, certificateKey: key }, { lineWidth: 0 }), ...rest].join('---\n');
}

export class KubernetesLab {
  readonly net: NetnsLab;
  readonly build: KubernetesBuild;

  constructor(opts: KubernetesLabOptions) {
    this.build = resolveKubernetes(opts.kubernetes);
    this.net = new NetnsLab({ ...opts, apiCheck: 'readyz', kubernetesVersion: this.build.version });
    const saved = this.readState();
    if (saved && saved.version !== this.build.version) {
      throw new Error(`the lab in ${this.net.dir} runs Kubernetes ${saved.version}; the lab does not upgrade it to ${this.build.version} (that is the upgrade runbook's job): run \`mooring lab destroy --kubernetes --yes\` first, or bring it up with --kubernetes ${saved.version}`);
    }
  }

  /** The kubeconfig for this machine: admin.conf with the server on the loopback forward to the VIP. */
  get kubeconfig(): string { return join(this.net.dir, 'kubernetes', 'admin.conf'); }

  async up(log: (m: string) => void = () => {}): Promise<{ inventory: string; kubeconfig: string }> {
    const inventory = await this.net.up(log);
    const inv = parseInventory(parse(readFileSync(inventory, 'utf8')), inventory);
    const state: KubeState = { version: this.build.version, kubelets: { ...this.readState()?.kubelets } };
    const nodes = [...inv.masters, ...inv.workers];
    for (const n of nodes) {
      this.installBinaries(n.name);
      // The SIMULATED systemctl's kubelet unit restarts it (an upgrade does) and records its pid.
      const pidFile = join(this.net.nodeDir(n.name), 'kubelet.pid');
      const recorded = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : state.kubelets[n.name];
      if (!runningAs(recorded, `--node-name=${n.name}`)) {
        // Enabled as under systemd: it waits for kubeadm to write its kubeconfig and manifests.
        const args = [`--node-name=${n.name}`,
          '--manifests=/etc/kubernetes/manifests', '--kubeconfig=/etc/kubernetes/kubelet.conf', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
          '--state-dir=/var/lib/kubelet', `--binaries=${this.build.binDir}`, `--node-ip=${n.ip}`];
        writeFileSync(join(this.net.nodeDir(n.name), 'kubelet.args'), `${args.join('\n')}\n`);
        state.kubelets[n.name] = this.net.startInNode(n.name, ['/usr/local/sbin/kubelet', ...args], 'kubelet.log');
        writeFileSync(pidFile, `${state.kubelets[n.name]}\n`);
        log(`${n.name}: SIMULATED kubelet v${this.build.version} (pid ${state.kubelets[n.name]})`);
      } else {
        state.kubelets[n.name] = recorded!;
      }
      this.writeState(state);
    }
    const [first, ...others] = inv.masters;
    if (!first) throw new Error('the lab inventory has no master');
    if (!this.has(first.name, '/etc/kubernetes/admin.conf')) {
      const input = kubeadmInitInputFromInventory(inv, first.name);
      const config = withCertificateKey(renderKubeadmInitConfig({ ...input, skipPhases: ['preflight', 'addon/kube-proxy'] }), this.certificateKey());
      log(`${first.name}: kubeadm init (controlPlaneEndpoint ${inv.kubernetes.controlPlaneEndpoint})`);
      await this.ssh(inv, first.name, async (run, upload) => {
        await upload(KUBEADM_CONFIG, config);
        await run(logged('init', `kubeadm init --config ${shellQuote(KUBEADM_CONFIG)} --upload-certs`), 600_000);
      });
    }
    const pending = [...others, ...inv.workers].filter((n) => !this.has(n.name, '/etc/kubernetes/kubelet.conf'));
    if (pending.length) {
      // A fresh token and certificate upload for this round of joins (both expire; a second `up` makes new ones).
      const join = await this.ssh(inv, first.name, async (run) => {
        await run(logged('upload-certs', `kubeadm init phase upload-certs --upload-certs --config ${shellQuote(KUBEADM_CONFIG)}`), 120_000);
        return run('kubeadm token create --print-join-command --ttl 1h', 60_000);
      });
      const m = /--token\s+([a-z0-9]{6}\.[a-z0-9]{16})\s+--discovery-token-ca-cert-hash\s+(sha256:[0-9a-f]{64})/.exec(join);
      if (!m) throw new Error(`kubeadm token create on ${first.name} printed no join command with a token and CA hash`);
      const [, token, caHash] = m;
      for (const n of pending) {
        const controlPlane = inv.masters.some((x) => x.name === n.name);
        log(`${n.name}: kubeadm join${controlPlane ? ' --control-plane' : ''}`);
        const config = renderKubeadmJoinConfig({
          kubernetesVersion: this.build.version, apiServerEndpoint: inv.kubernetes.controlPlaneEndpoint, token: token!, caCertHashes: [caHash!],
          node: { name: n.name }, skipPhases: ['preflight'],
          ...(controlPlane ? { controlPlane: { advertiseAddress: n.ip, certificateKey: this.certificateKey() } } : {}),
        });
        await this.ssh(inv, n.name, async (run, upload) => {
          await upload(KUBEADM_JOIN_CONFIG, config);
          await run(logged('join', `kubeadm join --config ${shellQuote(KUBEADM_JOIN_CONFIG)}`), 900_000);
        });
      }
    }
    this.writeKubeconfig(inv);
    this.writeUpgradeInventory(inventory);
    await waitFor(`every node Ready in \`kubectl --kubeconfig ${this.kubeconfig} get nodes\``, async () => {
      const ready = await this.readyNodes().catch((): string[] => []);
      return nodes.every((n) => ready.includes(n.name));
    }, 180_000, 2000);
    return { inventory, kubeconfig: this.kubeconfig };
  }

  /** Names of the nodes whose Ready condition is True, asked with real kubectl from this machine. */
  async readyNodes(): Promise<string[]> {
    const { stdout } = await this.kubectl(['get', 'nodes', '-o', 'json']);
    const list = JSON.parse(stdout) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
    return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
  }

  kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return execFileP(findTool('kubectl', 'MOORING_KUBECTL'), ['--kubeconfig', this.kubeconfig, '--request-timeout=10s', ...args], { maxBuffer: 16 << 20 });
  }

  down(): Promise<void> { return this.net.down(); }

  async destroy(): Promise<string[]> {
    rmSync(join(this.net.dir, STATE), { force: true });
    return this.net.destroy();
  }

  /**
   * kubeadm into the node's /usr/local/sbin (a link into the cache, as a package would install
   * it), and the SIMULATED kubelet "installed" at the release (its shim, and the crictl backed by it).
   */
  private installBinaries(node: string): void {
    installKubelet(nodeRoot(this.net.nodeDir(node)), `v${this.build.version}`);
    const sbin = join(nodeRoot(this.net.nodeDir(node)), '/usr/local/sbin');
    mkdirSync(sbin, { recursive: true });
    // etcdctl, as Debian's etcd-client would put it there: the upgrade's preflight asks the stacked
    // etcd for its members with it. From the newest etcd build (3.6 talks to 3.5 and 3.6 servers).
    const etcd = cachedEtcdBuilds().find((d) => isExecutable(join(d, 'etcdctl')));
    if (etcd && !existsSync(join(sbin, 'etcdctl'))) symlinkSync(join(etcd, 'etcdctl'), join(sbin, 'etcdctl'));
    // kubectl, as its package would: the machine's build (one, within one minor of every release).
    if (!existsSync(join(sbin, 'kubectl'))) symlinkSync(findTool('kubectl', 'MOORING_KUBECTL'), join(sbin, 'kubectl'));
    const link = join(sbin, 'kubeadm');
    const target = join(this.build.binDir, 'kubeadm');
    let now: string | undefined;
    try { now = readlinkSync(link); } catch { now = undefined; }
    if (now === target) return;
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }

  /** The SIMULATED package repository: per cached release, what its packages would install. */
  get releasesDir(): string { return join(this.net.dir, 'kubernetes', 'releases'); }

  /** The inventory `up` wrote, plus what the upgrade needs in this lab (its release source, the ignored checks). */
  private writeUpgradeInventory(file: string): void {
    writeKubernetesReleases(this.releasesDir);
    const doc = parse(readFileSync(file, 'utf8')) as { kubernetes: Record<string, unknown>; etcd: Record<string, unknown> };
    // kubeadm's stacked etcd keeps its certificates in /etc/kubernetes/pki/etcd; etcdctl reads
    // the members with the healthcheck client's (etcd-status, the upgrade's observation).
    const pki = '/etc/kubernetes/pki/etcd';
    doc.etcd.tls = {
      caCert: `${pki}/ca.crt`, serverCert: `${pki}/server.crt`, serverKey: `${pki}/server.key`, peerCert: `${pki}/peer.crt`, peerKey: `${pki}/peer.key`,
      clientCert: `${pki}/healthcheck-client.crt`, clientKey: `${pki}/healthcheck-client.key`,
    };
    doc.kubernetes.binaries = { source: join(this.releasesDir, '{version}'), installDir: '/usr/local/sbin' };
    doc.kubernetes.upgrade = { ...(doc.kubernetes.upgrade as object | undefined), ignorePreflightErrors: LAB_IGNORED_PREFLIGHT };
    parseInventory(doc, 'Kubernetes lab inventory');
    const head = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
    writeFileSync(file, `${head}\n# kubernetes.binaries: the SIMULATED package source (one directory per built release, see lab/kubernetes-lab.ts).\n${stringify(doc)}`);
  }

  private has(node: string, path: string): boolean {
    return existsSync(join(nodeRoot(this.net.nodeDir(node)), path));
  }

  /** kubeadm's key for the certificates it uploads for control-plane joins (32 bytes, hex), kept in the lab dir. */
  private certificateKey(): string {
    const file = join(this.net.dir, 'kubernetes', 'certificate-key');
    mkdirSync(join(this.net.dir, 'kubernetes'), { recursive: true });
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  }

  /** admin.conf of master-1 with the server on this machine's loopback forward to the VIP. */
  private writeKubeconfig(inv: Inventory): void {
    const admin = parse(readFileSync(join(nodeRoot(this.net.nodeDir(inv.masters[0]!.name)), '/etc/kubernetes/admin.conf'), 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    const { host, port } = this.net.apiEndpoint;
    for (const c of admin.clusters) {
      c.cluster.server = `https://${host}:${port}`;
      // The apiserver's certificate names the VIP, the masters and `kubernetes`, not the loopback entry.
      c.cluster['tls-server-name'] = 'kubernetes';
    }
    writeFileSync(this.kubeconfig, stringify(admin), { mode: 0o600 });
  }

  /** One SSH session to `node` through the bastion (Mooring's own session code), closed after `fn`. */
  private ssh<T>(inv: Inventory, node: string, fn: (run: (cmd: string, timeoutMs: number) => Promise<string>, upload: (path: string, text: string) => Promise<void>) => Promise<T>): Promise<T> {
    const h = [...inv.gateways, ...inv.masters, ...inv.workers].find((x) => x.name === node)!;
    const access: SshAccess = { user: inv.ssh.user, privateKeyPath: inv.ssh.privateKeyPath, connectTimeoutSeconds: inv.ssh.connectTimeoutSeconds, ...(inv.ssh.bastion ? { bastion: inv.ssh.bastion } : {}) };
    return withSession({}, access, { name: h.name, ip: h.ip, sshPort: h.sshPort, ...(h.hostKey ? { hostKey: h.hostKey } : {}), where: h.name }, new AbortController().signal,
      (s) => fn((cmd, timeoutMs) => s.run(cmd, { timeoutMs }), (path, text) => s.upload(path, text, { mode: 0o600 })));
  }

  private readState(): KubeState | undefined {
    const file = join(this.net.dir, STATE);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KubeState) : undefined;
  }

  private writeState(s: KubeState): void {
    writeFileSync(join(this.net.dir, STATE), JSON.stringify(s, null, 2));
  }
}
