// `mooring lab up|down|status|fault`: the lab as a library the CLI and the tests share.
// Everything the lab creates lives under one directory; `down` removes every process it started.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { InventoryInput } from '../config/schema.js';
import { parseInventory } from '../config/load.js';
import { schemaModeline } from '../config/json-schema.js';
import { portOpen } from '../client/devserver.js';
import { etcdCacheDir, kubernetesCacheDir, PROJECT_ROOT } from '../client/tools.js';
import { LAB_NODES, DEFAULT_SUBNET, VIP_OCTET, nodeIp, type LabNode } from './topology.js';
import { ensureKey, sshdConfig, SSHD, writeSshdConfig } from './sshd.js';
import { childrenOf, killNow, runningAs, startDetached, stopTree, waitFor } from './processes.js';
import { inNodeView, nodeRoot, prepareNodeView } from './node-view.js';
import { clientEndpoint, ensureCa, ensureMasterFiles, ensureMemberFiles, etcdPid, findLeader, memberHealthy, nodeSystemctl, type LabMember } from './etcd-cluster.js';
import { labProcesses, mountPointsUnder, type LabProcess } from './lab-processes.js';
import { corruptFile, loseDataDir, restoreDataDir, truncateFile } from './faults.js';
import { etcdTargetOf } from '../workflows/etcd-recovery/target.js';
import type { EtcdSettings } from '../activities/etcd-recovery/context.js';
import { ensureBucket, LAB_BUCKET, labS3Credentials, s3Endpoint, startS3, type S3Ports } from './s3.js';
import { freePorts } from './ports.js';
import { checkMixable, clusterVersion, ETCD_TOOLS, resolveEtcd, SYSTEM_ETCD_MINOR, type EtcdBuild } from './etcd-versions.js';
import { randomBytes } from 'node:crypto';
import { resolveKubernetes } from './kubernetes-versions.js';
import { kubectlWith, upApiserver, type RunningApiserver } from './apiserver.js';

/** What `up` creates at the top of a lab directory (see destroy). */
const LAB_DIR_ENTRIES = new Set(['state.json', 'inventory.yaml', 'id_ed25519', 'id_ed25519.pub', 'authorized_keys', 'backup.key', 's3-access-key', 's3-secret-key', 'bin', 'pki', 's3', 'nodes', 'kubernetes']);

export interface LabOptions {
  /** Directory for keys, configs, logs and state; default .lab in the project. */
  dir?: string;
  /** First three octets of the loopback addresses, e.g. 127.10.0. */
  subnet?: string;
  /** SSH port on every node (22 like production; tests may pick another). */
  sshPort?: number;
  /** Bring up the TLS etcd cluster on the etcd nodes (default true). */
  etcd?: boolean;
  /**
   * The etcd every member runs: 3.4 (Debian's package), 3.5 or 3.6 (the pinned builds of
   * scripts/build-etcd.sh), or an exact built 3.M.P. Default: what the lab ran before, else 3.4.
   */
  etcdVersion?: string;
  /** Per member, over etcdVersion, e.g. { 'etcd-3': '3.6' } (members at most one minor apart). */
  etcdVersions?: Record<string, string>;
  /**
   * The inventory's etcd.quotaBackendBytes (a byte count or "4GiB"), written into every member's
   * config: set when the lab is made (kept by later `up`s; a different one needs a destroyed lab).
   */
  etcdQuotaBackendBytes?: number | string;
  /**
   * A pinned Kubernetes release (1.35 or 1.35.4): the master runs a REAL kube-apiserver of it
   * against the lab's etcd, under the SIMULATED kubelet (lab/apiserver.ts), and the inventory asks
   * restarts to probe its /readyz. Kept by later `up`s. Without it the master runs nothing
   * (SIMULATED crictl, kubernetes.apiserverReadiness: none-simulated).
   */
  kubernetes?: string;
}

interface LabState {
  subnet: string;
  sshPort: number;
  nodes: { name: string; ip: string; role: string; sshdPid: number }[];
  s3?: { pid: number; ports: S3Ports };
  /** The etcd version each member was brought up with, and the lowest (the inventory's). */
  etcd?: { members: Record<string, string>; version: string };
  /** etcd.quotaBackendBytes of the lab inventory, as given. */
  etcdQuotaBackendBytes?: number | string;
  /** The master's real kube-apiserver (LabOptions.kubernetes) and the SIMULATED kubelet running it. */
  apiserver?: RunningApiserver;
}

export interface NodeStatus { name: string; ip: string; role: string; sshd: 'up' | 'down'; etcd?: 'leader' | 'follower' | 'unhealthy' | 'stopped'; etcdVersion?: string; faults: string[] }

export class Lab {
  readonly dir: string;
  readonly subnet: string;
  readonly sshPort: number;
  readonly withEtcd: boolean;
  private readonly etcdRequest: { all?: string; byMember: Record<string, string> };
  private readonly quotaRequest: number | string | undefined;
  private readonly kubernetesRequest: string | undefined;

  constructor(opts: LabOptions = {}) {
    this.withEtcd = opts.etcd ?? true;
    this.etcdRequest = { ...(opts.etcdVersion ? { all: opts.etcdVersion } : {}), byMember: { ...opts.etcdVersions } };
    this.quotaRequest = opts.etcdQuotaBackendBytes;
    this.kubernetesRequest = opts.kubernetes;
    this.dir = resolve(opts.dir ?? process.env.MOORING_LAB_DIR ?? join(PROJECT_ROOT, '.lab'));
    const saved = this.readState();
    this.subnet = opts.subnet ?? saved?.subnet ?? DEFAULT_SUBNET;
    this.sshPort = opts.sshPort ?? saved?.sshPort ?? 22;
    if (!/^127\.\d{1,3}\.\d{1,3}$/.test(this.subnet)) throw new Error(`lab subnet "${this.subnet}" must be three octets inside 127.0.0.0/8, e.g. 127.10.0`);
  }

  get inventoryFile(): string { return join(this.dir, 'inventory.yaml'); }
  nodeDir(name: string): string { return join(this.dir, 'nodes', name); }
  /** admin.conf for the master's real kube-apiserver (LabOptions.kubernetes). */
  get kubeconfig(): string { return join(this.dir, 'kubernetes', 'admin.conf'); }

  /** Real kubectl against the master's real kube-apiserver (LabOptions.kubernetes). */
  kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return kubectlWith(this.kubeconfig, args);
  }

  /** Brings every node up; nodes already up are left alone, so a second `up` is quick. */
  async up(log: (m: string) => void = () => {}): Promise<string> {
    if (process.getuid?.() !== 0) throw new Error('the lab binds port 22 on loopback addresses and runs sshd: run it as root (CI and the dev container are)');
    mkdirSync(join(this.dir, 'bin'), { recursive: true });
    const nodeShell = join(this.dir, 'bin', 'node-shell');
    copyFileSync(fileURLToPath(new URL('../../lab/node-shell.sh', import.meta.url)), nodeShell);
    chmodSync(nodeShell, 0o755);
    const clientPub = await ensureKey(join(this.dir, 'id_ed25519'), 'mooring-lab-operator');
    writeFileSync(join(this.dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });

    const prev = this.readState();
    const builds = this.withEtcd ? this.etcdBuilds(prev) : undefined;
    const quota = this.etcdQuota(prev);
    const kube = this.kubernetesRequest ?? prev?.apiserver?.version;
    const k8s = kube ? resolveKubernetes(kube) : undefined;
    if (k8s && prev?.apiserver && prev.apiserver.version !== k8s.version) throw new Error(`kubernetes: the lab in ${this.dir} runs kube-apiserver ${prev.apiserver.version}; run \`mooring lab destroy --yes\` first to run ${k8s.version}`);
    const state: LabState = {
      subnet: this.subnet, sshPort: this.sshPort, nodes: [],
      ...(k8s ? { apiserver: prev?.apiserver ?? { version: k8s.version, kubeletPid: 0, healthzPort: 0 } } : {}),
      ...(quota !== undefined ? { etcdQuotaBackendBytes: quota } : {}),
      ...(builds ? { etcd: { members: Object.fromEntries([...builds].map(([n, b]) => [n, b.version])), version: clusterVersion(builds) } } : prev?.etcd ? { etcd: prev.etcd } : {}),
    };
    const hostKeys = new Map<string, string>();
    for (const node of LAB_NODES) {
      const ip = nodeIp(this.subnet, node);
      const dir = this.nodeDir(node.name);
      mkdirSync(join(dir, 'faults'), { recursive: true });
      prepareNodeView(dir);
      if (builds?.has(node.name)) installEtcd(join(nodeRoot(dir), '/usr/local/sbin'), builds.get(node.name)!);
      hostKeys.set(node.name, await ensureKey(join(dir, 'ssh_host_ed25519_key'), `${node.name}.lab`));
      const configFile = join(dir, 'sshd_config');
      writeSshdConfig(configFile, sshdConfig({ ip, port: this.sshPort, nodeDir: dir, labDir: this.dir, nodeName: node.name, nodeShell }));
      let pid = this.sshdPid(node.name) ?? 0;
      if (!pid) {
        if (await portOpen(ip, this.sshPort)) throw new Error(`${ip}:${this.sshPort} is taken by a process the lab did not start: stop it, or use another --subnet`);
        mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
        const { cmd, args } = inNodeView(dir, [SSHD, '-D', '-e', '-f', configFile]);
        pid = startDetached(cmd, args, join(dir, 'sshd.log'));
        log(`${node.name}: sshd on ${ip}:${this.sshPort} (pid ${pid})`);
      }
      state.nodes.push({ name: node.name, ip, role: node.role, sshdPid: pid });
      // Recorded at once, so a failure further on leaves `down` knowing every process started.
      this.writeState({ ...prev, ...state, nodes: [...state.nodes, ...(prev?.nodes ?? []).filter((n) => !state.nodes.some((x) => x.name === n.name))] });
    }
    // Object storage for backups: a real S3 server on loopback, kept across `up`s (and restarted
    // on the same ports after an s3-down fault, so the inventory stays right).
    state.s3 = await this.upObjectStore(prev?.s3, log);
    this.writeState(state);
    const keyFile = join(this.dir, 'backup.key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    await Promise.all(state.nodes.map((n) => waitFor(`sshd of ${n.name} on ${n.ip}:${this.sshPort}`, () => portOpen(n.ip, this.sshPort), 10_000)));
    const inventory = this.inventory(hostKeys);
    const parsed = parseInventory(inventory, 'lab inventory'); // the lab must produce what Mooring accepts
    const versions = state.etcd ? Object.entries(state.etcd.members).map(([n, v]) => `${n} ${v}`).join(', ') : 'not started';
    writeFileSync(this.inventoryFile, `${schemaModeline(this.dir)}\n# SIMULATED lab cluster, written by \`mooring lab up\`: real sshd per node on loopback,\n# real etcd with TLS on the etcd nodes (${versions}).\n${stringify(inventory)}`);
    if (this.withEtcd) await this.upEtcd(etcdTargetOf(parsed).etcd, log);
    if (k8s && this.withEtcd) {
      const master = LAB_NODES.find((n) => n.role === 'master')!;
      state.apiserver = await upApiserver({
        labDir: this.dir, master: { name: master.name, ip: nodeIp(this.subnet, master), nodeDir: this.nodeDir(master.name) },
        spec: { version: k8s.version, etcdServers: this.etcdMembers().map((m) => clientEndpoint(this.etcdSettings, m)), serviceSubnet: parsed.kubernetes.serviceSubnet, vip: parsed.loadBalancer.vip },
        binDir: k8s.binDir, kubeconfig: this.kubeconfig, ...(state.apiserver?.kubeletPid ? { running: state.apiserver } : {}), log,
      });
      this.writeState(state);
    }
    return this.inventoryFile;
  }

  /**
   * Issues the PKI once (CA under the lab dir, a certificate set per member, the API server's
   * etcd client certificate on masters), starts the members that are not running through their
   * SIMULATED systemctl, and waits until every member is healthy.
   */
  private async upEtcd(etcd: EtcdSettings, log: (m: string) => void): Promise<void> {
    const members = this.etcdMembers();
    const ca = await ensureCa(this.dir);
    for (const m of members) await ensureMemberFiles(ca, etcd, m, members);
    for (const n of LAB_NODES.filter((x) => x.role === 'master')) await ensureMasterFiles(ca, this.nodeDir(n.name));
    await Promise.all(members.map(async (m) => {
      if (etcdPid(m.nodeDir)) return;
      await nodeSystemctl(m, 'start', 'etcd');
      log(`${m.name}: etcd started (pid ${etcdPid(m.nodeDir) ?? '?'})`);
    }));
    await Promise.all(members.map((m) => waitFor(`etcd on ${m.name} to be healthy (see ${join(m.nodeDir, 'etcd.log')})`, async () => {
      // A member that exits (a lost disk, a broken config) will not get healthy by waiting.
      if (!etcdPid(m.nodeDir)) throw new Error(`etcd on ${m.name} exited: ${lastLines(join(m.nodeDir, 'etcd.log'))}`);
      return memberHealthy(etcd, m);
    }, 30_000, 250)));
  }

  /**
   * What each member runs: the version asked for (per member, then for all), else what it ran
   * before, else 3.4. A member whose data dir holds data keeps its version: a different release
   * over it is an upgrade, which is a runbook's job, not the lab's (destroy the lab to change it).
   */
  private etcdBuilds(prev: LabState | undefined): Map<string, EtcdBuild> {
    const names = LAB_NODES.filter((n) => n.role === 'etcd').map((n) => n.name);
    const unknown = Object.keys(this.etcdRequest.byMember).filter((n) => !names.includes(n));
    if (unknown.length) throw new Error(`etcdVersions: ${unknown.join(', ')} is not an etcd member of the lab (they are ${names.join(', ')})`);
    const builds = new Map(names.map((n) => [n, resolveEtcd(this.etcdRequest.byMember[n] ?? this.etcdRequest.all ?? prev?.etcd?.members[n] ?? SYSTEM_ETCD_MINOR)]));
    checkMixable(builds);
    for (const [n, b] of builds) {
      const was = prev?.etcd?.members[n];
      if (!was || was === b.version) continue;
      const data = this.viewPath(n, join(this.etcdSettings.dataDir, 'member'));
      if (existsSync(data)) throw new Error(`${n} in ${this.dir} holds data of etcd ${was}; the lab does not upgrade it to ${b.version}: run \`mooring lab destroy --yes\` first, or bring it up with --etcd ${was.split('.').slice(0, 2).join('.')}`);
    }
    return builds;
  }

  /**
   * The quota asked for, else the one the lab was made with. Member configs are written once, at
   * the first `up`: a different quota over a lab that has them would be silently ignored, so it is refused.
   */
  private etcdQuota(prev: LabState | undefined): number | string | undefined {
    const was = prev?.etcdQuotaBackendBytes;
    if (this.quotaRequest === undefined || String(this.quotaRequest) === String(was)) return was;
    const configs = LAB_NODES.filter((n) => n.role === 'etcd' && existsSync(this.viewPath(n.name, '/etc/etcd/etcd.conf.yaml')));
    if (configs.length) throw new Error(`etcdQuotaBackendBytes: ${this.dir} was made with ${was ?? "etcd's default quota"}; its member configs are written: run \`mooring lab destroy --yes\` first to use ${this.quotaRequest}`);
    return this.quotaRequest;
  }

  /** The etcd version each member was brought up with (empty before the first `up`). */
  get etcdVersions(): Record<string, string> {
    return { ...this.readState()?.etcd?.members };
  }

  /** The etcd members with what the lab needs to reach them. */
  etcdMembers(): LabMember[] {
    const state = this.readState();
    return LAB_NODES.filter((n) => n.role === 'etcd').map((n) => ({
      name: n.name, ip: nodeIp(this.subnet, n), nodeDir: this.nodeDir(n.name), sshdPid: this.sshdPid(n.name, state) ?? 0,
    }));
  }

  get etcdSettings(): EtcdSettings {
    return etcdTargetOf(parseInventory(this.inventory(new Map()), 'lab inventory')).etcd;
  }

  /** Fault: SIGKILL a member's etcd; returns once it is gone. */
  killEtcd(node: string): void {
    const m = this.requireMember(node);
    const pid = etcdPid(m.nodeDir);
    if (pid) killNow(pid);
  }

  /** Fault: kill whichever member leads; returns its name. */
  async killLeader(): Promise<string> {
    const leader = await findLeader(this.etcdSettings, this.etcdMembers());
    if (!leader) throw new Error('no member reports a leader: the cluster has no quorum to lose a leader from');
    this.killEtcd(leader.name);
    return leader.name;
  }

  /** Fault: kill a majority of members (all but the first); returns their names. */
  killMajority(): string[] {
    const victims = this.etcdMembers().slice(1).map((m) => m.name);
    victims.forEach((n) => this.killEtcd(n));
    return victims;
  }

  /**
   * Fault: the node's disk is lost: etcd dies (SIGKILL) and the node finds its data dir empty.
   * The old contents wait outside the node's view; `clearFaults` gives them back.
   */
  loseDisk(node: string): void {
    const m = this.requireMember(node);
    this.killEtcd(node);
    loseDataDir(this.viewPath(m.name, this.etcdSettings.dataDir), join(m.nodeDir, 'lost-disk'));
  }

  /** Fault: NODE is replaced by a fresh host: etcd gone, empty data dir, no /etc/etcd/ssl. */
  replaceNode(node: string): void {
    this.loseDisk(node);
    rmSync(this.viewPath(node, '/etc/etcd/ssl'), { recursive: true, force: true });
    mkdirSync(this.viewPath(node, '/etc/etcd/ssl'), { recursive: true });
  }

  /** Fault: the node loses power: every process in it (sshd, its sessions, etcd) dies at once. */
  async powerOff(node: string): Promise<void> {
    this.requireNode(node);
    if (this.etcdMembers().some((m) => m.name === node)) this.killEtcd(node);
    await this.killSshd(node);
    for (const p of this.processes().filter((x) => x.node === node)) killNow(p.pid);
  }

  /** Fault: overwrite 4 KiB in the middle of a snapshot file at `path` in the node's view. */
  corruptSnapshot(node: string, path: string): void {
    corruptFile(this.viewPath(node, path));
  }

  /** Fault: cut a snapshot file at `path` in the node's view to half its size. */
  truncateSnapshot(node: string, path: string): void {
    truncateFile(this.viewPath(node, path));
  }

  /**
   * Fault: SSH sessions on `node` are dropped `seconds` after they start, mid-command: every
   * session until cleared, or with `once` only the next one (so a retry can get through).
   */
  cutSsh(node: string, seconds: number, opts: { once?: boolean } = {}): void {
    this.requireNode(node);
    writeFileSync(join(this.nodeDir(node), 'faults', opts.once ? 'cut-ssh-once' : 'cut-ssh'), String(seconds));
  }

  /** Fault: every SSH connection open to `node` right now is dropped, mid-command; returns how many. */
  dropSshSessions(node: string): number {
    this.requireNode(node);
    const sshd = this.sshdPid(node);
    if (!sshd) return 0;
    const sessions = childrenOf(sshd);
    sessions.forEach((pid) => killNow(pid));
    return sessions.length;
  }

  /** A path as seen inside the node, mapped to where it lives on this machine. */
  viewPath(node: string, path: string): string {
    this.requireNode(node);
    if (!path.startsWith('/') || path.includes('..')) throw new Error(`${path}: give an absolute path inside the node`);
    return join(nodeRoot(this.nodeDir(node)), path);
  }

  private requireMember(name: string): LabMember {
    const m = this.etcdMembers().find((x) => x.name === name);
    if (!m) throw new Error(`${name} is not an etcd member: the lab's members are ${this.etcdMembers().map((x) => x.name).join(', ')}`);
    return m;
  }

  /**
   * Stops every process the lab started, including commands still running on nodes, and
   * throws if one survives. Safe to call at any point, also after a failed `up`.
   */
  async down(): Promise<void> {
    const state = this.readState();
    // The SIMULATED kubelet first (with its pods), or it would start the apiserver again meanwhile.
    const kubelet = state?.apiserver?.kubeletPid;
    if (kubelet && this.processes().some((p) => p.pid === kubelet)) await stopTree(kubelet, 10_000);
    await Promise.all([
      // Sessions sshd forked for clients run in sessions of their own: stop the whole tree.
      ...(state?.nodes ?? []).map((n) => this.sshdPid(n.name, state)).filter((p): p is number => !!p).map((p) => stopTree(p)),
      ...[this.s3Pid(state)].filter((p): p is number => !!p).map((p) => stopTree(p)),
      // etcd runs detached from sshd (as under systemd): stop it by its pid file, gracefully.
      ...LAB_NODES.map((n) => etcdPid(this.nodeDir(n.name))).filter((p): p is number => !!p).map((p) => stopTree(p, 5000)),
    ]);
    // Whatever is still inside a node or names the lab dir (a command left by a cut session).
    for (const p of this.processes()) killNow(p.pid);
    if (state) this.writeState({ ...state, nodes: state.nodes.map((n) => ({ ...n, sshdPid: 0 })) });
    const left = this.processes();
    if (left.length) throw new Error(`lab down: ${left.length} process(es) survived SIGKILL: ${left.map((p) => `${p.pid} ${p.command}`).join('; ')}`);
  }

  /**
   * `down`, then removes what the lab made in its directory: keys, PKI, every node's files and
   * the object store's data (a new `up` makes them anew). Anything else there, such as the
   * demo's Temporal database or a log, stays; the directory goes only if that leaves it empty.
   * Returns what was left behind.
   */
  async destroy(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    await this.down();
    const mounted = mountPointsUnder(this.dir);
    if (mounted.length) throw new Error(`lab destroy: ${mounted.join(', ')} is mounted inside the lab directory; unmount it, then destroy again`);
    for (const entry of readdirSync(this.dir)) if (LAB_DIR_ENTRIES.has(entry)) rmSync(join(this.dir, entry), { recursive: true, force: true });
    const left = readdirSync(this.dir);
    if (!left.length) rmSync(this.dir, { recursive: true, force: true });
    return left.map((e) => join(this.dir, e));
  }

  /** Every live process of this lab (see lab-processes.ts): empty after `down`. */
  processes(): LabProcess[] {
    if (!existsSync(this.dir)) return [];
    return labProcesses(this.dir, new Map(LAB_NODES.map((n) => [n.name, join(nodeRoot(this.nodeDir(n.name)), '/etc/etcd')])));
  }

  async status(): Promise<NodeStatus[]> {
    const state = this.readState();
    return Promise.all(LAB_NODES.map(async (node) => {
      const ip = nodeIp(this.subnet, node);
      const up = !!this.sshdPid(node.name, state) && (await portOpen(ip, this.sshPort));
      const st: NodeStatus = { name: node.name, ip, role: node.role, sshd: up ? 'up' : 'down', faults: this.faults(node.name) };
      if (node.role === 'etcd') {
        const m = this.requireMember(node.name);
        const version = state?.etcd?.members[node.name];
        if (version) st.etcdVersion = version;
        st.etcd = !etcdPid(m.nodeDir) ? 'stopped' : !(await memberHealthy(this.etcdSettings, m)) ? 'unhealthy' : (await findLeader(this.etcdSettings, [m])) ? 'leader' : 'follower';
      }
      return st;
    }));
  }

  /** Fault: every SSH command on `node` waits `seconds` before running (a slow or hung host). */
  slowSsh(node: string, seconds: number): void {
    this.requireNode(node);
    writeFileSync(join(this.nodeDir(node), 'faults', 'slow-ssh'), String(seconds));
  }

  /** Fault: the node's sshd dies (SIGKILL); returns once it no longer listens. */
  killSshd(node: string): Promise<void> {
    this.requireNode(node);
    const pid = this.sshdPid(node);
    if (pid) killNow(pid);
    return Promise.resolve();
  }

  /**
   * Clears every fault that lives in files: SSH faults, and lost disks (given back while the
   * member's data dir is still empty). Killed processes come back with `up`.
   */
  clearFaults(): void {
    for (const n of LAB_NODES) {
      const dir = this.nodeDir(n.name);
      rmSync(join(dir, 'faults'), { recursive: true, force: true });
      mkdirSync(join(dir, 'faults'), { recursive: true });
      if (n.role === 'etcd' && !etcdPid(dir)) restoreDataDir(this.viewPath(n.name, this.etcdSettings.dataDir), join(dir, 'lost-disk'));
    }
  }

  /** Commands a node received over SSH, oldest first (from the lab's ForceCommand log). */
  commandsReceived(node: string): string[] {
    const file = join(this.nodeDir(node), 'commands.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf('\t') + 1));
  }

  private faults(node: string): string[] {
    const dir = join(this.nodeDir(node), 'faults');
    const out: string[] = [];
    if (existsSync(join(dir, 'slow-ssh'))) out.push(`slow-ssh ${readFileSync(join(dir, 'slow-ssh'), 'utf8').trim()}s`);
    if (existsSync(join(dir, 'cut-ssh'))) out.push(`cut-ssh after ${readFileSync(join(dir, 'cut-ssh'), 'utf8').trim()}s`);
    if (existsSync(join(dir, 'cut-ssh-once'))) out.push(`cut-ssh (next session) after ${readFileSync(join(dir, 'cut-ssh-once'), 'utf8').trim()}s`);
    if (existsSync(join(this.nodeDir(node), 'lost-disk'))) out.push('lost disk');
    return out;
  }

  private requireNode(name: string): LabNode {
    const n = LAB_NODES.find((x) => x.name === name);
    if (!n) throw new Error(`no lab node "${name}": the lab has ${LAB_NODES.map((x) => x.name).join(', ')}`);
    return n;
  }

  /** The lab's S3 endpoint and bucket, while it runs. */
  get objectStore(): { endpoint: string; bucket: string } | undefined {
    const s3 = this.readState()?.s3;
    return s3 && this.s3Pid() ? { endpoint: s3Endpoint(s3.ports), bucket: LAB_BUCKET } : undefined;
  }

  private inventory(hostKeys: Map<string, string>): InventoryInput {
    const saved = this.readState();
    const s3 = saved?.s3;
    const node = (role: string) => LAB_NODES.filter((n) => n.role === role).map((n) => ({
      name: n.name, ip: nodeIp(this.subnet, n), sshPort: this.sshPort, hostKey: hostKeys.get(n.name),
    }));
    const vip = `${this.subnet}.${VIP_OCTET}`;
    return {
      apiVersion: 'mooring/v1',
      cluster: { name: 'lab' },
      provider: { type: 'static' },
      ssh: { user: 'root', privateKeyPath: join(this.dir, 'id_ed25519'), connectTimeoutSeconds: 10 },
      loadBalancer: { vip, placement: 'gateways', apiPort: 6443 },
      gateways: node('gateway'),
      // The CA key by reference lets recoveries issue certificates for a replaced node.
      etcd: {
        version: saved?.etcd?.version ?? '3.4.23', topology: 'external', members: node('etcd'), tls: { caKey: { file: join(this.dir, 'pki', 'ca.key') } },
        ...(saved?.etcdQuotaBackendBytes !== undefined ? { quotaBackendBytes: saved.etcdQuotaBackendBytes } : {}),
        // `mooring upgrade`: the releases set-up built (the cache is visible inside every node's
        // view); the SIMULATED systemctl runs /usr/local/sbin/etcd when there is one.
        binaries: { source: join(etcdCacheDir(), '{version}'), installDir: '/usr/local/sbin' },
      },
      masters: node('master'),
      workers: node('worker'),
      // Without LabOptions.kubernetes the master runs no kube-apiserver (SIMULATED crictl, no kubelet):
      // a control-plane restart says it did not probe /readyz instead of waiting for an apiserver
      // that is not there. With it, the real apiserver's /readyz is probed (the default).
      kubernetes: {
        version: saved?.apiserver?.version ?? '1.28.4', controlPlaneEndpoint: `${vip}:6443`, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'calico',
        ...(saved?.apiserver ? {} : { apiserverReadiness: 'none-simulated' as const }), binaries: { source: join(kubernetesCacheDir(), '{version}') },
      },
      ...(s3 ? {
        backup: {
          schedule: { every: '1h' },
          retention: { keepLast: 3, hourly: 6, daily: 7, weekly: 4, monthly: 3 },
          objectStore: { endpoint: s3Endpoint(s3.ports), bucket: LAB_BUCKET, accessKey: { file: labS3Credentials(this.dir).accessKeyFile }, secretKey: { file: labS3Credentials(this.dir).secretKeyFile } },
          encryptionKey: { file: join(this.dir, 'backup.key') },
        },
      } : {}),
    };
  }

  private async upObjectStore(prev: LabState['s3'], log: (m: string) => void): Promise<NonNullable<LabState['s3']>> {
    const s3dir = join(this.dir, 's3');
    const { credentials } = labS3Credentials(this.dir);
    let s3 = prev;
    if (!s3 || !this.s3PidOf(s3)) {
      let ports = s3?.ports;
      if (!ports || (await portOpen('127.0.0.1', ports.s3))) {
        const [s3p, master, volume, filer, s3Grpc, masterGrpc, volumeGrpc, filerGrpc] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
        ports = { s3: s3p, master, volume, filer, s3Grpc, masterGrpc, volumeGrpc, filerGrpc };
      }
      s3 = { pid: startS3(s3dir, ports, credentials), ports };
      log(`object storage: SeaweedFS S3 on ${s3Endpoint(ports)} (pid ${s3.pid})`);
    }
    await ensureBucket(s3.ports, credentials, join(s3dir, 'weed.log'));
    return s3;
  }

  /** Fault: the object store goes down (SIGKILL, like a crash); `mooring lab up` brings it back on the same address. */
  async stopObjectStore(): Promise<void> {
    const s3 = this.readState()?.s3;
    const pid = this.s3PidOf(s3);
    if (!pid || !s3) return;
    await stopTree(pid, 0);
    await waitFor(`the lab's S3 to stop listening on port ${s3.ports.s3}`, async () => !(await portOpen('127.0.0.1', s3.ports.s3)), 10_000, 50);
  }

  /** The node's running sshd, if the pid on record still is it. */
  private sshdPid(node: string, state = this.readState()): number | undefined {
    const pid = state?.nodes.find((n) => n.name === node)?.sshdPid;
    return runningAs(pid, join(this.nodeDir(node), 'sshd_config')) ? pid : undefined;
  }

  private s3Pid(state = this.readState()): number | undefined {
    return this.s3PidOf(state?.s3);
  }

  private s3PidOf(s3: LabState['s3']): number | undefined {
    return runningAs(s3?.pid, join(this.dir, 's3')) ? s3!.pid : undefined;
  }

  private readState(): LabState | undefined {
    const file = join(this.dir ?? '', 'state.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LabState) : undefined;
  }

  private writeState(s: LabState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify(s, null, 2));
  }
}

/**
 * Puts a built release's etcd, etcdctl and etcdutl in the node's /usr/local/sbin (links into the
 * cache), or takes them away for Debian's 3.4 in /usr/bin (which has no etcdutl, as on a real 3.4 host).
 */
function installEtcd(sbin: string, build: EtcdBuild): void {
  for (const tool of ETCD_TOOLS) {
    const link = join(sbin, tool);
    const target = build.binDir ? join(build.binDir, tool) : undefined;
    let now: string | undefined;
    try { now = readlinkSync(link); } catch { now = undefined; }
    if (now === target) continue; // a running lab keeps its links: no moment without etcdctl
    // A regular file was installed by `mooring upgrade` (it copies, never links): the member's
    // data is of that release now, so a later `up` must not put the older one back.
    if (now === undefined && existsSync(link)) continue;
    rmSync(link, { force: true });
    if (target) symlinkSync(target, link);
  }
}

/** The last lines of a log, for an error message. */
function lastLines(file: string, n = 3): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join(' / ');
}
