// The lab with real networks: every node in its own network namespace (and its own filesystem
// view, as in lab/node-view.ts) on a lab bridge, addresses from the inventory; real sshd per
// node, real keepalived + HAProxy on the gateways. The worker (this machine's namespace) reaches
// only loopback addresses: a forwarder per gateway leads 127.6x.0.<octet>:22 into the gateway's
// namespace (its "floating IP"), every other node is reached through gw-1 as the SSH bastion, as
// in seeds 001/002; one more forwarder leads 127.6x.0.100:6443 to the VIP's API port.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Inventory, InventoryInput } from '../../config/schema.js';
import { parseInventory } from '../../config/load.js';
import { schemaModeline } from '../../config/json-schema.js';
import { portOpen } from '../../client/devserver.js';
import { etcdCacheDir, PROJECT_ROOT } from '../../client/tools.js';
import { ensureKey, sshdConfig, SSHD, writeSshdConfig } from '../sshd.js';
import { execFileP, killNow, runningAs, startDetached, waitFor } from '../processes.js';
import { inNodeView, nodeRoot, prepareNodeView } from '../node-view.js';
import { addressesIn, deleteNs, setLinkDown, ensureLan, ensureNode, inNs, nsExists, nsPath, nsPids } from './links.js';
import { startGatewayServices, type GatewayPids } from './gateway-services.js';
import { apiEntry, BRIDGE_OCTET, bridgeName, checkLayout, checkNodes, DEFAULT_LAYOUT, gatewayEntry, lanNs, NETNS_NODES, nodeAddress, nodeNs, VIP_OCTET, type NetnsLayout, type NetnsNode } from './topology.js';
import { installBareStandins, BARE_SKIP_PHASES, labAddonRollout } from './bare.js';
import type { ProvisionedHost } from '../../activities/host/context.js';

export const NETNS_STATE = 'netns-state.json';
/** What `up` creates at the top of the lab directory (see destroy). */
const DIR_ENTRIES = new Set([NETNS_STATE, 'kubernetes-state.json', 'inventory.yaml', 'id_ed25519', 'id_ed25519.pub', 'authorized_keys', 'bin', 'nodes', 'kubernetes', 'forwards']);
const DEFAULT_KUBERNETES = '1.35.4';

export interface NetnsLabOptions {
  /** Keys, configs, logs and state; default .lab-kubernetes in the project. */
  dir?: string;
  layout?: Partial<NetnsLayout>;
  /** How HAProxy checks the masters: production's /readyz (default) or a TCP connect (no apiservers yet). */
  apiCheck?: 'readyz' | 'tcp';
  /** kubernetes.version written to the inventory (the release the control plane runs). */
  kubernetesVersion?: string;
  /** The lab's nodes (default NETNS_NODES, seed 002's shape; SEED_001_NODES adds external etcd hosts). */
  nodes?: readonly NetnsNode[];
  /**
   * Bare nodes: sshd and the SIMULATED stand-ins only (apt-get, apt-mark, systemctl); the lab starts
   * no keepalived or HAProxy, so the provisioning host phase does that work (docs/provisioning.md).
   */
  bare?: boolean;
  /**
   * Who holds the VIP and runs HAProxy: the gateways (seed 002, default) or the masters (seed 003:
   * HAProxy on every master binds VIP:60443, 6443 being the local apiserver). With `masters`, gw-1
   * is only the SSH bastion (this machine's way into the lab network): not in the inventory's
   * gateways and not a host of the cluster.
   */
  placement?: 'gateways' | 'masters';
}

interface Forward { name: string; listen: string; port: number; pid: number }

export interface NetnsState {
  layout: NetnsLayout;
  apiCheck: 'readyz' | 'tcp';
  kubernetesVersion: string;
  /** The node list the lab was made with (absent in a state from before node lists: NETNS_NODES). */
  nodeList?: NetnsNode[];
  bare?: boolean;
  placement?: 'gateways' | 'masters';
  nodes: { name: string; sshdPid: number }[];
  gateways: ({ name: string } & GatewayPids)[];
  forwards: Forward[];
}

export class NetnsLab {
  readonly dir: string;
  readonly layout: NetnsLayout;
  readonly apiCheck: 'readyz' | 'tcp';
  readonly kubernetesVersion: string;
  readonly nodes: readonly NetnsNode[];
  readonly bare: boolean;
  readonly placement: 'gateways' | 'masters';

  constructor(opts: NetnsLabOptions = {}) {
    this.dir = resolve(opts.dir ?? join(PROJECT_ROOT, '.lab-kubernetes'));
    const saved = this.readState();
    this.layout = { ...DEFAULT_LAYOUT, ...saved?.layout, ...opts.layout };
    checkLayout(this.layout);
    this.apiCheck = opts.apiCheck ?? saved?.apiCheck ?? 'readyz';
    this.kubernetesVersion = opts.kubernetesVersion ?? saved?.kubernetesVersion ?? DEFAULT_KUBERNETES;
    this.nodes = opts.nodes ?? saved?.nodeList ?? NETNS_NODES;
    checkNodes(this.nodes);
    this.bare = opts.bare ?? saved?.bare ?? false;
    this.placement = opts.placement ?? saved?.placement ?? 'gateways';
    if (this.placement === 'masters' && !this.bare) throw new Error('netns lab: placement masters needs a bare lab (the host phase puts HAProxy and keepalived on the masters)');
  }

  /** The port HAProxy serves the API on at the VIP (seed 003 uses 60443 on the masters). */
  get apiPort(): number { return this.placement === 'masters' ? 60443 : 6443; }
  /** The nodes that run HAProxy and keepalived and may hold the VIP. */
  private get loadBalancerNodes(): NetnsNode[] { return this.nodes.filter((n) => n.role === (this.placement === 'masters' ? 'master' : 'gateway')); }

  get inventoryFile(): string { return join(this.dir, 'inventory.yaml'); }
  nodeDir(name: string): string { return join(this.dir, 'nodes', name); }
  ns(name: string): string { return nodeNs(this.layout, name); }
  get lan(): string { return lanNs(this.layout); }
  address(name: string): string { return nodeAddress(this.layout, this.requireNode(name).octet); }
  get vip(): string { return nodeAddress(this.layout, VIP_OCTET); }
  /** host:port on this machine's loopback that leads to the VIP's API port. */
  get apiEndpoint(): { host: string; port: number } { return { host: apiEntry(this.layout), port: 6443 }; }

  /** Brings every node up; what already runs is left alone, so `up` also powers nodes back on. */
  async up(log: (m: string) => void = () => {}): Promise<string> {
    if (process.getuid?.() !== 0) throw new Error('the netns lab makes network namespaces and runs sshd, keepalived and HAProxy: run it as root (CI and the dev container are)');
    const prev = this.readState();
    if (prev && (prev.layout.tag !== this.layout.tag || prev.layout.lan !== this.layout.lan || prev.layout.loopback !== this.layout.loopback)) {
      throw new Error(`the lab in ${this.dir} runs with tag ${prev.layout.tag}, lan ${prev.layout.lan}, loopback ${prev.layout.loopback}: bring it down with \`mooring lab destroy --yes\` before changing them`);
    }
    mkdirSync(join(this.dir, 'bin'), { recursive: true });
    const nodeShell = join(this.dir, 'bin', 'node-shell');
    copyFileSync(fileURLToPath(new URL('../../../lab/node-shell.sh', import.meta.url)), nodeShell);
    chmodSync(nodeShell, 0o755);
    copyFileSync(fileURLToPath(new URL('../../../lab/netns/forward.py', import.meta.url)), this.forwardScript);
    const clientPub = await ensureKey(join(this.dir, 'id_ed25519'), 'mooring-lab-operator');
    writeFileSync(join(this.dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });

    if (prev && JSON.stringify(prev.nodeList ?? NETNS_NODES) !== JSON.stringify(this.nodes)) throw new Error(`the lab in ${this.dir} was made with other nodes: bring it down with \`mooring lab destroy --yes\` before changing them`);
    const state: NetnsState = { layout: this.layout, apiCheck: this.apiCheck, kubernetesVersion: this.kubernetesVersion, nodeList: [...this.nodes], bare: this.bare, placement: this.placement, nodes: prev?.nodes ?? [], gateways: prev?.gateways ?? [], forwards: prev?.forwards ?? [] };
    this.writeState(state); // before anything is made, so `down` finds it after a failed `up`
    await ensureLan(this.lan, bridgeName(this.layout), `${nodeAddress(this.layout, BRIDGE_OCTET)}/24`);

    const hostKeys = new Map<string, string>();
    for (const node of this.nodes) {
      const dir = this.nodeDir(node.name);
      mkdirSync(join(dir, 'faults'), { recursive: true });
      prepareNodeView(dir);
      if (this.bare) installBareStandins(nodeRoot(dir));
      hostKeys.set(node.name, await ensureKey(join(dir, 'ssh_host_ed25519_key'), `${node.name}.lab`));
      // Load balancers bind the VIP's ports before they hold it (HAProxy on the standby), as seeds 002 and 003 set up.
      await ensureNode(this.ns(node.name), this.lan, bridgeName(this.layout), `v-${node.name}`.slice(0, 15), `${this.address(node.name)}/24`,
        this.loadBalancerNodes.includes(node) ? { 'net.ipv4.ip_nonlocal_bind': '1' } : {});
      const configFile = join(dir, 'sshd_config');
      writeSshdConfig(configFile, sshdConfig({ ip: this.address(node.name), port: 22, nodeDir: dir, labDir: this.dir, nodeName: node.name, nodeShell }));
      const entry = state.nodes.find((n) => n.name === node.name) ?? { name: node.name, sshdPid: 0 };
      if (!runningAs(entry.sshdPid, configFile)) {
        mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
        entry.sshdPid = this.startInNode(node.name, [SSHD, '-D', '-e', '-f', configFile], 'sshd.log');
        log(`${node.name}: sshd on ${this.address(node.name)}:22 in ${this.ns(node.name)} (pid ${entry.sshdPid})`);
      }
      state.nodes = [...state.nodes.filter((n) => n.name !== node.name), entry];
      this.writeState(state);
    }
    await Promise.all(this.nodes.map((n) => waitFor(`sshd of ${n.name} on ${this.address(n.name)}:22 (see ${join(this.nodeDir(n.name), 'sshd.log')})`,
      () => this.tcpOpenIn(this.lan, this.address(n.name), 22), 15_000, 200)));

    const inventory = this.inventory(hostKeys);
    const inv = parseInventory(inventory, 'netns lab inventory'); // the lab must produce what Mooring accepts
    writeFileSync(this.inventoryFile, `${schemaModeline(this.dir)}\n# SIMULATED lab cluster, written by \`mooring lab up --kubernetes\`: every node in its own network\n# namespace on a lab bridge (10.77.${this.layout.lan}.0/24) with real sshd; gateways with real keepalived and HAProxy.\n# This machine reaches gw-1 at ${gatewayEntry(this.layout, this.requireNode('gw-1'))}:22 (the bastion) and the API at ${apiEntry(this.layout)}:6443.\n${stringify(inventory)}`);

    for (const gw of this.bare ? [] : this.nodes.filter((n) => n.role === 'gateway')) {
      const running = state.gateways.find((g) => g.name === gw.name);
      const pids = await startGatewayServices({ inv, node: gw.name, ns: this.ns(gw.name), nodeDir: this.nodeDir(gw.name), apiCheck: this.apiCheck, ...(running ? { running } : {}) });
      if (pids.keepalived !== running?.keepalived || pids.haproxy !== running.haproxy) log(`${gw.name}: keepalived (pid ${pids.keepalived}), HAProxy (pid ${pids.haproxy})`);
      state.gateways = [...state.gateways.filter((g) => g.name !== gw.name), { name: gw.name, ...pids }];
      this.writeState(state);
    }
    for (const gw of this.nodes.filter((n) => n.role === 'gateway')) {
      await this.ensureForward(state, { name: `ssh-${gw.name}`, listen: gatewayEntry(this.layout, gw), port: 22 }, this.ns(gw.name), this.address(gw.name), 22, log);
    }
    await this.ensureForward(state, { name: 'api', ...this.apiEndpoint, listen: this.apiEndpoint.host }, this.lan, this.vip, this.apiPort, log);
    if (!this.bare) await waitFor(`a gateway to hold the VIP ${this.vip} (see keepalived.log of the gateways)`, async () => !!(await this.vipHolder()), 20_000, 250);
    return this.inventoryFile;
  }

  /** The load balancer (gateway, or master with placement masters) whose eth0 carries the VIP now. */
  async vipHolder(): Promise<string | undefined> {
    for (const gw of this.loadBalancerNodes) {
      if ((await addressesIn(this.ns(gw.name))).includes(this.vip)) return gw.name;
    }
    return undefined;
  }

  /** Each node: address, role, whether its sshd runs, how many processes its namespace holds, whether it holds the VIP. */
  async status(): Promise<{ name: string; role: string; ip: string; sshd: 'up' | 'down'; processes: number; vip: boolean }[]> {
    const state = this.readState();
    const holder = await this.vipHolder();
    return Promise.all(this.nodes.map(async (n) => {
      const pid = state?.nodes.find((x) => x.name === n.name)?.sshdPid;
      return {
        name: n.name, role: n.role, ip: this.address(n.name),
        sshd: runningAs(pid, join(this.nodeDir(n.name), 'sshd_config')) ? 'up' as const : 'down' as const,
        processes: (await nsPids(this.ns(n.name))).filter((p) => !runningAs(p, this.forwardScript)).length,
        vip: holder === n.name,
      };
    }));
  }

  /** Fault: NODE loses power: every process in its network namespace is SIGKILLed at once. */
  async powerOff(node: string): Promise<number> {
    this.requireNode(node);
    // The forwarder into a gateway shows in its namespace (it connects from there) but stands for
    // the cloud's floating-IP NAT, not a process of the node: it stays, and finds nobody home.
    const pids = (await nsPids(this.ns(node))).filter((p) => !runningAs(p, this.forwardScript));
    pids.forEach((p) => killNow(p));
    // Without power the NIC has no carrier, and what keepalived added at run time (the VIP) is
    // gone when the machine boots again; `up` sets the link up.
    await setLinkDown(this.ns(node), 'eth0', `${this.vip}/32`);
    return pids.length;
  }

  /**
   * Stops every process in the lab's namespaces and the forwarders, deletes every namespace the
   * lab made (with them their links and addresses), and throws if anything survives.
   */
  async down(): Promise<void> {
    const state = this.readState();
    for (const f of state?.forwards ?? []) if (runningAs(f.pid, this.forwardScript)) killNow(f.pid);
    const namespaces = [...this.nodes.map((n) => this.ns(n.name)), this.lan];
    for (const ns of namespaces) (await nsPids(ns)).forEach((p) => killNow(p));
    for (const ns of namespaces) await deleteNs(ns);
    if (state) this.writeState({ ...state, nodes: state.nodes.map((n) => ({ ...n, sshdPid: 0 })), gateways: [], forwards: [] });
    const left = await this.leftovers();
    if (left.length) throw new Error(`lab down: still there after SIGKILL and delete: ${left.join('; ')}`);
  }

  /** Namespaces of this lab that still exist and forwarders still running (empty after `down`). */
  async leftovers(): Promise<string[]> {
    const state = this.readState();
    const out: string[] = [];
    for (const ns of [...this.nodes.map((n) => this.ns(n.name)), this.lan]) {
      if (nsExists(ns)) out.push(`netns ${ns} (pids ${(await nsPids(ns)).join(' ') || 'none'})`);
    }
    for (const f of state?.forwards ?? []) if (runningAs(f.pid, this.forwardScript)) out.push(`forwarder ${f.name} pid ${f.pid}`);
    return out;
  }

  /** `down`, then deletes what `up` made in the directory; returns what was left there. */
  async destroy(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    await this.down();
    for (const entry of readdirSync(this.dir)) if (DIR_ENTRIES.has(entry)) rmSync(join(this.dir, entry), { recursive: true, force: true });
    const left = readdirSync(this.dir);
    if (!left.length) rmSync(this.dir, { recursive: true, force: true });
    return left.map((e) => join(this.dir, e));
  }

  /** Runs `command` in NODE's namespaces (lab plumbing, e.g. a check from inside), returns stdout. */
  async execIn(node: string | 'lan', command: string[], timeoutMs = 30_000): Promise<string> {
    const ns = node === 'lan' ? this.lan : this.ns(node);
    const argv = node === 'lan' ? inNs(ns, command) : (() => { const v = inNodeView(this.nodeDir(node), command); return inNs(ns, [v.cmd, ...v.args]); })();
    return (await execFileP(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout;
  }

  /** Starts a long-running program inside NODE's network namespace and filesystem view; returns its pid. */
  startInNode(node: string, command: string[], logName: string, env?: NodeJS.ProcessEnv): number {
    const { cmd, args } = inNodeView(this.nodeDir(node), command);
    const [c, ...a] = inNs(this.ns(node), [cmd, ...args]);
    return startDetached(c!, a, join(this.nodeDir(node), logName), env);
  }

  /** Commands a node received over SSH, oldest first (from the lab's ForceCommand log). */
  commandsReceived(node: string): string[] {
    const file = join(this.nodeDir(this.requireNode(node).name), 'commands.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf('\t') + 1));
  }

  readState(): NetnsState | undefined {
    const file = join(this.dir, NETNS_STATE);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as NetnsState) : undefined;
  }

  /**
   * The hosts as a cloud phase would hand them to the host phase: fixed address, the host key the
   * lab generated for the node's sshd (pinned), the gateways' loopback entries as public addresses.
   */
  provisionedHosts(): ProvisionedHost[] {
    return this.nodes.filter((n) => this.placement === 'gateways' || n.role !== 'gateway').map((n) => {
      return {
        name: n.name, roles: n.role === 'master' && !this.nodes.some((x) => x.role === 'etcd') ? ['master', 'etcd'] : [n.role],
        address: this.address(n.name), hostKey: this.hostKey(n.name), machineId: this.ns(n.name),
        ...(n.role === 'gateway' ? { publicAddress: gatewayEntry(this.layout, n) } : {}),
      };
    });
  }

  parsedInventory(): Inventory {
    // With the VIP on the masters gw-1 is no provisioned host, so the bastion's key is pinned here.
    const keys = new Map(this.placement === 'masters' ? [['gw-1', this.hostKey('gw-1')]] : []);
    return parseInventory(this.inventory(keys), 'netns lab inventory');
  }

  /** The public host key the lab generated for a node's sshd ("ssh-ed25519 AAAA…"). */
  private hostKey(name: string): string {
    const [type, blob] = readFileSync(join(this.nodeDir(name), 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
    return `${type} ${blob}`;
  }

  private get forwardScript(): string { return join(this.dir, 'bin', 'forward.py'); }

  private forwardLog(name: string): string {
    mkdirSync(join(this.dir, 'forwards'), { recursive: true });
    return join(this.dir, 'forwards', `${name}.log`);
  }

  private async ensureForward(state: NetnsState, f: Omit<Forward, 'pid'>, ns: string, toHost: string, toPort: number, log: (m: string) => void): Promise<void> {
    const known = state.forwards.find((x) => x.name === f.name);
    if (known && runningAs(known.pid, this.forwardScript)) return;
    if (await portOpen(f.listen, f.port)) throw new Error(`${f.listen}:${f.port} is taken by a process the lab did not start: stop it, or give the lab another loopback (127.60.0 … 127.63.0)`);
    // Debian's interpreter when there is one: a version manager's shim on PATH (pyenv) runs shell
    // scripts before Python, which only slows the start.
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const start = () => startDetached(python, [this.forwardScript, f.listen, String(f.port), nsPath(ns), toHost, String(toPort)], this.forwardLog(f.name));
    let pid = start();
    let restarted = false;
    const record = () => {
      state.forwards = [...state.forwards.filter((x) => x.name !== f.name), { ...f, pid }];
      this.writeState(state);
    };
    record();
    await waitFor(`the forwarder ${f.listen}:${f.port} → ${toHost}:${toPort} (see ${this.forwardLog(f.name)})`, async () => {
      if (runningAs(pid, this.forwardScript)) return portOpen(f.listen, f.port);
      const last = readFileSync(this.forwardLog(f.name), 'utf8').trim().split('\n').pop() || '(it wrote nothing)';
      // One more start for a forwarder that died at once without a word; a second such exit is an error.
      if (restarted) throw new Error(`the forwarder ${f.name} (${f.listen}:${f.port} → ${toHost}:${toPort}) exited twice: ${last}`);
      log(`forwarder ${f.name} exited at start (${last}); starting it once more`);
      restarted = true;
      pid = start();
      record();
      return false;
    }, 10_000, 100);
    log(`forward ${f.listen}:${f.port} → ${toHost}:${toPort} in ${ns} (pid ${pid})`);
  }

  /** A TCP connect from inside `ns` (bash's /dev/tcp), for readiness checks on lab addresses. */
  private async tcpOpenIn(ns: string, host: string, port: number): Promise<boolean> {
    try {
      await execFileP('ip', ['netns', 'exec', ns, 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]);
      return true;
    } catch {
      return false;
    }
  }

  private inventory(hostKeys: Map<string, string>): InventoryInput {
    const node = (role: NetnsNode['role']) => this.nodes.filter((n) => n.role === role).map((n) => ({
      name: n.name, ip: this.address(n.name), sshPort: 22, ...(hostKeys.get(n.name) ? { hostKey: hostKeys.get(n.name) } : {}),
    }));
    const gw1 = this.requireNode('gw-1');
    return {
      apiVersion: 'mooring/v1',
      cluster: { name: `lab-${this.layout.tag}` },
      provider: { type: 'static' },
      ssh: {
        user: 'root', privateKeyPath: join(this.dir, 'id_ed25519'), connectTimeoutSeconds: 10,
        // gw-1's "floating IP": a loopback address of this machine forwarded into gw-1's namespace.
        bastion: { host: gatewayEntry(this.layout, gw1), port: 22, ...(hostKeys.get('gw-1') ? { hostKey: hostKeys.get('gw-1') } : {}) },
      },
      loadBalancer: { vip: this.vip, placement: this.placement, apiPort: this.apiPort },
      gateways: this.placement === 'masters' ? [] : node('gateway'),
      // External etcd hosts get the release from the machine's etcd cache, which every node sees
      // (as an image or a read-only mount would stage it); the SIMULATED systemctl runs its unit.
      etcd: node('etcd').length
        ? { version: '3.6.16', topology: 'external', members: node('etcd'), binaries: { source: join(etcdCacheDir(), '{version}'), installDir: '/usr/local/sbin' } }
        : { version: '3.6.16', topology: 'stacked' },
      masters: node('master'),
      workers: node('worker'),
      kubernetes: {
        version: this.kubernetesVersion, controlPlaneEndpoint: `${this.vip}:${this.apiPort}`, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'flannel',
        ...(this.bare ? { kubeadmSkipPhases: [...BARE_SKIP_PHASES], addonRollout: labAddonRollout() } : {}),
      },
    };
  }

  private requireNode(name: string): NetnsNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no lab node "${name}": the lab has ${this.nodes.map((x) => x.name).join(', ')}`);
    return n;
  }

  private writeState(s: NetnsState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, NETNS_STATE), JSON.stringify(s, null, 2));
  }
}
