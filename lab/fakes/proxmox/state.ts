// SIMULATED: the in-memory Proxmox VE cluster behind the fake: nodes, users with passwords, API
// tokens, a cloud-init template to clone from, VMs and the tasks (UPIDs) working on them.
import { createHash, randomBytes } from 'node:crypto';
import { Progression, validateProgress, type ProgressOptions } from '../progress.js';

export interface ProxmoxFakeOptions {
  host?: string;
  port?: number;
  /** Cluster node names (default ["pve"]). */
  nodes?: string[];
  /** `user@realm` and password for POST /access/ticket. */
  users?: { userid: string; password: string }[];
  /** API tokens: `user@realm!tokenid` and the secret (a UUID in real PVE). */
  tokens?: { tokenid: string; secret: string }[];
  ticketTtlMs?: number;
  /** Templates to clone from (default 9000 "debian-12-cloudinit" on the first node). */
  templates?: { vmid: number; name: string; node?: string }[];
  /** Where guests get their address when ipconfig0 says ip=dhcp. */
  dhcpCidr?: string;
  /** Storages per node (default: local with iso/vztmpl/backup/snippets, local-lvm with images). */
  storages?: FakeStorage[];
  /** Memory and CPUs per node (default 64 GiB, 16 CPUs; 8 GiB used by the host itself). */
  nodeResources?: Record<string, Partial<NodeResources>>;
  /** Bridges every node has (default ["vmbr0"]). */
  bridges?: string[];
  /** Nodes that are offline (GET /nodes says so; clones to them fail). */
  offlineNodes?: string[];
  /** Privileges an API token holds on "/" (propagated); a token not listed holds every privilege. */
  tokenPrivileges?: Record<string, string[]>;
  /** How long tasks run and how long after start the guest agent answers (see progress.ts). */
  timing?: { task?: ProgressOptions; agent?: ProgressOptions };
  /** SIMULATED lab: what boots behind a VM (lab/cloud-nodes); without it no machine exists behind a VM. */
  machines?: ProxmoxMachineHooks;
}

/** A VM that started, as the machine behind it sees it (the lab makes a node from it). */
export interface StartedVm {
  vmid: number;
  name: string;
  /** The cloud-init vendor data of its `cicustom` snippet (the host key lives there), null without. */
  userData: string | null;
  /** The static IPv4 addresses of its ipconfigN. */
  fixedIps: string[];
  /** Its `sshkeys`, decoded: the cloud-init user's authorized keys. */
  authorizedKeys: string[];
}

/**
 * SIMULATED lab hooks: `started` when a qmstart task ends (the guest agent answers only once it
 * resolved; never when it rejected), `stopped` when a qmstop/qmshutdown task ends.
 */
export interface ProxmoxMachineHooks {
  started(m: StartedVm): Promise<void>;
  stopped(m: { vmid: number; name: string }): Promise<void>;
}

export type ConfigValue = string | number;

/**
 * A storage: `path` makes it a directory storage (snippets land there); `shared` one pool every
 * node sees (Ceph RBD, NFS); `sizeGiB` its size (default 500), of which `baseUsedGiB` (default 50)
 * holds data other than the VMs' disks.
 */
export interface FakeStorage { storage: string; content: string[]; nodes?: string[]; path?: string; shared?: boolean; sizeGiB?: number; baseUsedGiB?: number }

export interface NodeResources { memoryGiB: number; cpus: number; hostUsedGiB: number }

export interface Vm {
  vmid: number;
  node: string;
  config: Record<string, ConfigValue>;
  status: 'running' | 'stopped';
  /** PVE's config lock ("clone", "create", ...): most changes are refused while set. */
  lock?: string;
  startedAt?: number;
  /** The guest agent answers once this is done (counted from start). */
  agent?: Progression;
  dhcpAddress?: string;
  /** SIMULATED lab: the machine behind the VM booting (ProxmoxMachineHooks); the agent waits for it. */
  machine?: { done: boolean; error?: string };
}

export interface Task {
  upid: string; node: string; pid: number; pstart: number; starttime: number; type: string; id: string; user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  progress: Progression;
  log: string[];
  /** The task's effect, applied when it finishes; a thrown error becomes the exitstatus. */
  work: () => void;
  /** Undoes what starting the task did, when it is made to fail. */
  undo?: () => void;
  failWith?: string;
  /** Ends "WARNINGS: N" after its work is done. */
  warnings?: number;
}

export const PROXMOX_FAKE_DEFAULTS = {
  node: 'pve',
  userid: 'root@pam',
  password: 'fake-proxmox-password',
  tokenid: 'root@pam!mooring',
  tokenSecret: '5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
  templateVmid: 9000,
  templateName: 'debian-12-cloudinit',
  dhcpCidr: '10.10.10.0/24',
} as const;

export function digest(config: Record<string, ConfigValue>): string {
  return createHash('sha1').update(JSON.stringify(Object.entries(config).sort())).digest('hex');
}

/** PVE's MAC prefix for generated NICs (BC:24:11, Proxmox's OUI), upper case as in the config. */
export function pveMac(): string {
  return ['BC', '24', '11', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0').toUpperCase())].join(':');
}

export class ProxmoxState {
  readonly nodes: string[];
  readonly users: Map<string, string>;
  readonly tokens: Map<string, string>;
  readonly ticketTtlMs: number;
  readonly timing: NonNullable<ProxmoxFakeOptions['timing']>;
  readonly machines: ProxmoxMachineHooks | undefined;
  readonly dhcpCidr: string;
  readonly vms = new Map<number, Vm>();
  readonly tasks = new Map<string, Task>();
  /** Signs tickets and CSRF tokens, as the cluster's authkey does. */
  readonly secret = randomBytes(32);
  /** The next tasks of a type (or any type) that must end with this exitstatus. */
  readonly taskFailures: { type?: string; message: string }[] = [];
  readonly storages: FakeStorage[];
  /** Each node's memory and CPUs; change an entry to make a node small. */
  readonly nodeResources = new Map<string, NodeResources>();
  readonly bridges: string[];
  readonly offline = new Set<string>();
  readonly tokenPrivileges: Map<string, Set<string>>;
  /** Injected: the next clones fail on the template's lock ("got timeout"), as parallel clones do. */
  cloneLockTimeouts = 0;
  /** Injected: before the next clones, someone else takes their newid (the VMID race). */
  vmidRaces = 0;
  /** Injected: the next tasks (of a type) end "WARNINGS: N" after doing their work. */
  readonly taskWarnings: { type?: string; count: number }[] = [];
  private nextPid = 0x1000 + Math.floor(Math.random() * 0x10000);

  constructor(o: ProxmoxFakeOptions = {}) {
    this.nodes = o.nodes ?? [PROXMOX_FAKE_DEFAULTS.node];
    if (this.nodes.length === 0 || !this.nodes.every((n) => /^[a-zA-Z0-9][a-zA-Z0-9-]*$/.test(n))) throw new Error(`nodes: ${JSON.stringify(o.nodes)} must be a non-empty list of host names`);
    this.users = new Map((o.users ?? [{ userid: PROXMOX_FAKE_DEFAULTS.userid, password: PROXMOX_FAKE_DEFAULTS.password }]).map((u) => [u.userid, u.password]));
    this.tokens = new Map((o.tokens ?? [{ tokenid: PROXMOX_FAKE_DEFAULTS.tokenid, secret: PROXMOX_FAKE_DEFAULTS.tokenSecret }]).map((t) => [t.tokenid, t.secret]));
    for (const id of [...this.users.keys(), ...[...this.tokens.keys()].map((t) => t.split('!')[0] ?? '')]) {
      if (!/^[^\s@!]+@[A-Za-z0-9.-]+$/.test(id)) throw new Error(`user "${id}" must be user@realm (tokens: user@realm!tokenid)`);
    }
    this.ticketTtlMs = o.ticketTtlMs ?? 2 * 3_600_000;
    const t = o.timing ?? {};
    for (const [k, v] of Object.entries(t)) {
      if (k !== 'task' && k !== 'agent') throw new Error(`timing.${k}: unknown (task, agent)`);
      validateProgress(`timing.${k}`, v as ProgressOptions);
    }
    this.timing = t;
    this.machines = o.machines;
    this.dhcpCidr = o.dhcpCidr ?? PROXMOX_FAKE_DEFAULTS.dhcpCidr;
    this.storages = o.storages ?? [{ storage: 'local', content: ['iso', 'vztmpl', 'backup', 'snippets'] }, { storage: 'local-lvm', content: ['images', 'rootdir'] }];
    this.bridges = o.bridges ?? ['vmbr0'];
    for (const n of this.nodes) this.nodeResources.set(n, { memoryGiB: 64, cpus: 16, hostUsedGiB: 8, ...o.nodeResources?.[n] });
    for (const n of o.offlineNodes ?? []) this.setOnline(n, false);
    this.tokenPrivileges = new Map(Object.entries(o.tokenPrivileges ?? {}).map(([t, p]) => [t, new Set(p)]));
    for (const tpl of o.templates ?? [{ vmid: PROXMOX_FAKE_DEFAULTS.templateVmid, name: PROXMOX_FAKE_DEFAULTS.templateName }]) this.addTemplate(tpl.vmid, tpl.name, tpl.node ?? (this.nodes[0] as string));
  }

  /** A cloud-init ready template as `qm template` leaves it: agent on, cloud-init drive, serial console. */
  private addTemplate(vmid: number, name: string, node: string): void {
    if (!this.nodes.includes(node)) throw new Error(`templates: node "${node}" is not one of ${this.nodes.join(', ')}`);
    this.vms.set(vmid, {
      vmid, node, status: 'stopped',
      config: {
        name, template: 1, cores: 2, sockets: 1, memory: 2048, ostype: 'l26', scsihw: 'virtio-scsi-pci', scsi0: `local-lvm:base-${vmid}-disk-0,size=8G`,
        ide2: 'local-lvm:cloudinit', net0: `virtio=${pveMac()},bridge=vmbr0`, agent: '1', boot: 'order=scsi0', serial0: 'socket', vga: 'serial0',
      },
    });
  }

  newPid(): number {
    return this.nextPid++;
  }

  tick(): void {
    for (const t of this.tasks.values()) if (t.status === 'running' && t.progress.done) finishTask(t);
  }

  setOnline(node: string, online: boolean): void {
    if (!this.nodes.includes(node)) throw new Error(`node "${node}" is not one of ${this.nodes.join(', ')}`);
    if (online) this.offline.delete(node);
    else this.offline.add(node);
  }

  /** Whether a caller holds a privilege (tokens may be limited; users and unlisted tokens hold all). */
  can(userid: string, privilege: string): boolean {
    const p = this.tokenPrivileges.get(userid);
    return p === undefined || p.has(privilege);
  }

  /** The next task (of this type) ends "WARNINGS: count", its work done, WARN lines in its log. */
  warnNextTask(count: number, type?: string): void {
    this.taskWarnings.push({ count, ...(type ? { type } : {}) });
  }

  /** The next task (of this type, e.g. "qmclone") ends with this exitstatus instead of OK. */
  failNextTask(message: string, type?: string): void {
    this.taskFailures.push({ message, ...(type ? { type } : {}) });
  }
}

export function finishTask(t: Task): void {
  t.status = 'stopped';
  t.endtime = Math.floor(Date.now() / 1000);
  if (t.failWith !== undefined) {
    t.undo?.();
    t.exitstatus = t.failWith;
  } else {
    try {
      t.work();
      if (t.warnings) {
        for (let i = 1; i <= t.warnings; i++) t.log.push(`WARN: SIMULATED warning ${i} of ${t.warnings}`);
        t.exitstatus = `WARNINGS: ${t.warnings}`;
      } else t.exitstatus = 'OK';
    } catch (e) {
      t.undo?.();
      t.exitstatus = (e as Error).message;
    }
  }
  t.log.push(t.exitstatus === 'OK' ? 'TASK OK' : t.exitstatus.startsWith('WARNINGS') ? `TASK ${t.exitstatus}` : `TASK ERROR: ${t.exitstatus}`);
}

export { Progression };
