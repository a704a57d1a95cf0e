// A netns lab whose nodes come and go at run time: the machines behind a fake cloud's servers
// (lab/cloud-nodes). `up` makes the lab's LAN (namespace, bridge) and the forward to the VIP's API
// port; `start` makes a bare node (sshd and the SIMULATED stand-ins only, as `bare: true` nodes of
// NetnsLab) with the host key and root's authorized keys the machine was given, and a forwarder
// from its public address (a loopback address of this machine) to its sshd; `stop` kills every
// process of the node and deletes its namespace and files, as a deleted server's disk is gone.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portOpen } from '../../client/devserver.js';
import { sshdConfig, SSHD, writeSshdConfig } from '../sshd.js';
import { execFileP, killNow, runningAs, startDetached, waitFor } from '../processes.js';
import { inNodeView, nodeRoot, prepareNodeView } from '../node-view.js';
import { deleteNs, ensureLan, ensureNode, inNs, nsExists, nsPath, nsPids } from './links.js';
import { apiEntry, BRIDGE_OCTET, bridgeName, checkLayout, lanNs, nodeAddress, nodeNs, VIP_OCTET, type NetnsLayout } from './topology.js';
import { installBareStandins } from './bare.js';

/** A machine that booted: what its image and cloud-init give it. */
export interface LabMachine {
  /** Host name (cloud-init `hostname`): names the node's namespace, 1-12 of [a-z0-9-]. */
  name: string;
  /** Its fixed IPv4 address on the lab LAN 10.77.<lan>.0/24. */
  address: string;
  /** The ed25519 host key sshd presents (from cloud-init `ssh_keys`). */
  hostKey: { privateKey: string; publicKey: string };
  /** root's authorized public keys (the cloud's key pair). */
  authorizedKeys: string[];
  /** A loopback address of this machine in the lab's <loopback>.0/24 that leads to its sshd (its floating IP). */
  publicAddress?: string;
}

interface MachineEntry { name: string; address: string; sshdPid: number; publicAddress?: string; forwardPid?: number }
interface MachinesState { layout: NetnsLayout; apiPort: number; apiForwardPid?: number; machines: MachineEntry[] }

const STATE = 'machines-state.json';
const NAME = /^[a-z0-9-]{1,12}$/;

export class MachineLab {
  readonly dir: string;
  readonly layout: NetnsLayout;
  /** The port the load balancers serve the API on at the VIP (6443; 60443 with the VIP on the masters). */
  readonly apiPort: number;
  /** One start/stop at a time per machine, so a stop never races the start it follows. */
  private readonly queue = new Map<string, Promise<unknown>>();

  constructor(o: { dir: string; layout: NetnsLayout; apiPort?: number }) {
    this.dir = resolve(o.dir);
    this.layout = o.layout;
    checkLayout(this.layout);
    this.apiPort = o.apiPort ?? 6443;
  }

  get lan(): string { return lanNs(this.layout); }
  get vip(): string { return nodeAddress(this.layout, VIP_OCTET); }
  /** host:port on this machine's loopback that leads to the VIP's API port. */
  get apiEndpoint(): { host: string; port: number } { return { host: apiEntry(this.layout), port: 6443 }; }
  ns(name: string): string { return nodeNs(this.layout, name); }
  nodeDir(name: string): string { return join(this.dir, 'nodes', name); }
  /** The machines running now. */
  machines(): MachineEntry[] { return this.readState()?.machines ?? []; }

  /** The LAN (namespace and bridge) and the forward to the VIP; what already runs is left alone. */
  async up(): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error('the machine lab makes network namespaces and runs sshd: run it as root');
    const prev = this.readState();
    if (prev && JSON.stringify(prev.layout) !== JSON.stringify(this.layout)) throw new Error(`the machine lab in ${this.dir} runs with ${JSON.stringify(prev.layout)}: bring it down first`);
    mkdirSync(join(this.dir, 'bin'), { recursive: true });
    copyFileSync(fileURLToPath(new URL('../../../lab/node-shell.sh', import.meta.url)), this.nodeShell);
    chmodSync(this.nodeShell, 0o755);
    copyFileSync(fileURLToPath(new URL('../../../lab/netns/forward.py', import.meta.url)), this.forwardScript);
    const state: MachinesState = prev ?? { layout: this.layout, apiPort: this.apiPort, machines: [] };
    this.writeState(state);
    await ensureLan(this.lan, bridgeName(this.layout), `${nodeAddress(this.layout, BRIDGE_OCTET)}/24`);
    if (!runningAs(state.apiForwardPid, this.forwardScript)) {
      state.apiForwardPid = await this.forward('api', this.apiEndpoint.host, this.apiEndpoint.port, this.lan, this.vip, this.apiPort);
      this.writeState(state);
    }
  }

  /** Boots a machine (again): its node with sshd; resolves once sshd answers on its address (and public address). */
  start(m: LabMachine): Promise<void> {
    return this.serial(m.name, () => this.doStart(m));
  }

  /** Powers a machine off and removes it (namespace, processes, files); a machine not there is done. */
  stop(name: string): Promise<void> {
    return this.serial(name, () => this.doStop(name));
  }

  /** Every machine stopped, the forward to the VIP and the LAN gone; throws if anything survives. */
  async down(): Promise<void> {
    for (const m of this.machines()) await this.stop(m.name);
    const state = this.readState();
    if (state && runningAs(state.apiForwardPid, this.forwardScript)) killNow(state.apiForwardPid);
    (await nsPids(this.lan)).forEach((p) => killNow(p));
    await deleteNs(this.lan);
    if (state) this.writeState({ ...state, machines: [], apiForwardPid: 0 });
    const left = await this.leftovers();
    if (left.length) throw new Error(`machine lab down: still there: ${left.join('; ')}`);
  }

  /** Namespaces and forwarders of this lab still there (empty after `down`). */
  async leftovers(): Promise<string[]> {
    const state = this.readState();
    const out: string[] = [];
    for (const m of state?.machines ?? []) if (nsExists(this.ns(m.name))) out.push(`netns ${this.ns(m.name)}`);
    if (nsExists(this.lan)) out.push(`netns ${this.lan}`);
    if (state && runningAs(state.apiForwardPid, this.forwardScript)) out.push(`forwarder api pid ${state.apiForwardPid}`);
    return out;
  }

  /** Runs `command` in NODE's namespaces (or the LAN's), returns stdout: checks from inside the lab. */
  async execIn(node: string | 'lan', command: string[], timeoutMs = 30_000): Promise<string> {
    const argv = node === 'lan' ? inNs(this.lan, command) : (() => { const v = inNodeView(this.nodeDir(node), command); return inNs(this.ns(node), [v.cmd, ...v.args]); })();
    return (await execFileP(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 16 << 20 })).stdout;
  }

  private async doStart(m: LabMachine): Promise<void> {
    this.check(m);
    const state = this.requireState();
    const known = state.machines.find((x) => x.name === m.name);
    if (known && known.address !== m.address) throw new Error(`machine ${m.name}: runs already with address ${known.address}, not ${m.address}`);
    const clash = state.machines.find((x) => x.name !== m.name && (x.address === m.address || (m.publicAddress && x.publicAddress === m.publicAddress)));
    if (clash) throw new Error(`machine ${m.name}: ${m.address}${m.publicAddress ? ` / ${m.publicAddress}` : ''} is held by machine ${clash.name}`);
    const dir = this.nodeDir(m.name);
    mkdirSync(join(dir, 'faults'), { recursive: true });
    prepareNodeView(dir);
    installBareStandins(nodeRoot(dir));
    // cloud-init's ssh_keys: the host key the cloud phase derived and pinned, nothing generated here.
    writeFileSync(join(dir, 'ssh_host_ed25519_key'), m.hostKey.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'ssh_host_ed25519_key.pub'), `${m.hostKey.publicKey}\n`);
    writeFileSync(join(dir, 'authorized_keys'), m.authorizedKeys.map((k) => `${k.trim()}\n`).join(''), { mode: 0o600 });
    await ensureNode(this.ns(m.name), this.lan, bridgeName(this.layout), `v-${m.name}`.slice(0, 15), `${m.address}/24`);
    const configFile = join(dir, 'sshd_config');
    writeSshdConfig(configFile, sshdConfig({ ip: m.address, port: 22, nodeDir: dir, labDir: this.dir, nodeName: m.name, nodeShell: this.nodeShell, authorizedKeysFile: join(dir, 'authorized_keys') }));
    const entry: MachineEntry = known ?? { name: m.name, address: m.address, sshdPid: 0 };
    if (!runningAs(entry.sshdPid, configFile)) {
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      const { cmd, args } = inNodeView(dir, [SSHD, '-D', '-e', '-f', configFile]);
      const [c, ...a] = inNs(this.ns(m.name), [cmd, ...args]);
      entry.sshdPid = startDetached(c!, a, join(dir, 'sshd.log'));
    }
    this.record(entry);
    await waitFor(`sshd of ${m.name} on ${m.address}:22 (see ${join(dir, 'sshd.log')})`, () => this.tcpOpenInLan(m.address, 22), 15_000, 200);
    if (m.publicAddress && !runningAs(entry.forwardPid, this.forwardScript)) {
      entry.publicAddress = m.publicAddress;
      entry.forwardPid = await this.forward(`ssh-${m.name}`, m.publicAddress, 22, this.ns(m.name), m.address, 22);
      this.record(entry);
    }
  }

  private async doStop(name: string): Promise<void> {
    const entry = this.readState()?.machines.find((x) => x.name === name);
    if (entry && runningAs(entry.forwardPid, this.forwardScript)) killNow(entry.forwardPid);
    (await nsPids(this.ns(name))).forEach((p) => killNow(p));
    await deleteNs(this.ns(name));
    // The veth's LAN end goes with its node end; a node half made before might leave it.
    await execFileP('ip', ['-n', this.lan, 'link', 'del', `v-${name}`.slice(0, 15)]).catch(() => undefined);
    rmSync(this.nodeDir(name), { recursive: true, force: true });
    const state = this.readState(); // again: other machines started or stopped meanwhile
    if (state) this.writeState({ ...state, machines: state.machines.filter((x) => x.name !== name) });
  }

  private check(m: LabMachine): void {
    if (!NAME.test(m.name)) throw new Error(`machine "${m.name}": its host name must be 1-12 lowercase letters, digits or '-' (it names a namespace and a veth)`);
    const lan = `10.77.${this.layout.lan}.`;
    const octet = Number(m.address.slice(lan.length));
    if (!m.address.startsWith(lan) || !Number.isInteger(octet) || octet < 2 || octet > 254 || octet === VIP_OCTET) {
      throw new Error(`machine ${m.name}: address ${m.address} is not a host of the lab LAN ${lan}0/24 (2-254, not .${VIP_OCTET}, the VIP): give the cloud's subnet that range`);
    }
    if (m.publicAddress !== undefined && !new RegExp(`^${this.layout.loopback.replace(/\./g, '\\.')}\\.(\\d{1,3})$`).test(m.publicAddress)) {
      throw new Error(`machine ${m.name}: public address ${m.publicAddress} is outside the lab's loopback ${this.layout.loopback}.0/24: give the cloud's external network that range`);
    }
    if (!m.hostKey.privateKey.includes('PRIVATE KEY') || !m.hostKey.publicKey.startsWith('ssh-ed25519 ')) throw new Error(`machine ${m.name}: no ed25519 host key pair in its user data (ssh_keys.ed25519_private/public)`);
    if (!m.authorizedKeys.length) throw new Error(`machine ${m.name}: no authorized key for root (boot it with a key pair)`);
  }

  private async forward(name: string, listen: string, port: number, ns: string, toHost: string, toPort: number): Promise<number> {
    if (await portOpen(listen, port)) throw new Error(`${listen}:${port} is taken by a process this lab did not start`);
    mkdirSync(join(this.dir, 'forwards'), { recursive: true });
    const log = join(this.dir, 'forwards', `${name}.log`);
    // Debian's interpreter when there is one (a version manager's shim only slows the start).
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const pid = startDetached(python, [this.forwardScript, listen, String(port), nsPath(ns), toHost, String(toPort)], log);
    await waitFor(`the forwarder ${listen}:${port} → ${toHost}:${toPort} (see ${log})`, async () => {
      if (!runningAs(pid, this.forwardScript)) throw new Error(`the forwarder ${name} exited: ${readFileSync(log, 'utf8').trim().split('\n').pop() ?? ''}`);
      return portOpen(listen, port);
    }, 10_000, 100);
    return pid;
  }

  private async tcpOpenInLan(host: string, port: number): Promise<boolean> {
    try {
      await execFileP('ip', ['netns', 'exec', this.lan, 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]);
      return true;
    } catch {
      return false;
    }
  }

  private serial(name: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queue.get(name) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.queue.set(name, next);
    return next;
  }

  private record(entry: MachineEntry): void {
    const state = this.requireState();
    this.writeState({ ...state, machines: [...state.machines.filter((x) => x.name !== entry.name), entry] });
  }

  private requireState(): MachinesState {
    const s = this.readState();
    if (!s) throw new Error(`the machine lab in ${this.dir} is not up: call up() first`);
    return s;
  }

  private readState(): MachinesState | undefined {
    const file = join(this.dir, STATE);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as MachinesState) : undefined;
  }

  private writeState(s: MachinesState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, STATE), JSON.stringify(s, null, 2));
  }

  private get nodeShell(): string { return join(this.dir, 'bin', 'node-shell'); }
  private get forwardScript(): string { return join(this.dir, 'bin', 'forward.py'); }
}
