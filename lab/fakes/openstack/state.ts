// SIMULATED: the in-memory cloud behind the OpenStack fake: one domain, one project, one user with
// a password and one application credential, flavors and images to boot from, an external network
// for floating IPs, and whatever the client creates. Neutron records are kept in their API shape
// (snake_case) because that is all the fake ever does with them; Nova servers and Cinder volumes
// keep internal fields because their status changes over time.
import { randomBytes, randomUUID } from 'node:crypto';
import { Progression, validateProgress, type ProgressOptions } from '../progress.js';
import { defaultQuotas, type Quotas } from './quota-defaults.js';

export interface OpenStackFakeOptions {
  host?: string;
  port?: number;
  region?: string;
  project?: { name: string; id?: string };
  user?: { name: string; password: string; id?: string };
  applicationCredential?: { name: string; secret: string; id?: string };
  tokenTtlMs?: number;
  flavors?: Flavor[];
  images?: Image[];
  /** The provider network floating IPs come from. */
  externalNetwork?: ExternalNetworkOptions;
  /**
   * SIMULATED lab: what boots behind a server (lab/cloud-nodes). Without it no machine exists
   * behind a server, as before.
   */
  machines?: MachineHooks;
  /** How long asynchronous work takes (see progress.ts): default 150 ms each. */
  /** Quota limits that differ from Nova's and Neutron's defaults (-1: unlimited). */
  quotas?: { compute?: Partial<Quotas['compute']>; network?: Partial<Quotas['network']> };
  timing?: { serverBuild?: ProgressOptions; serverDelete?: ProgressOptions; volume?: ProgressOptions; floatingIp?: ProgressOptions };
}

export interface ExternalNetworkOptions {
  name: string;
  cidr: string;
  /** Where the router's gateway and floating IPs without a rule below come from (default: the whole range but .1). */
  allocationPool?: { start: string; end: string };
  /**
   * SIMULATED lab address plan (a 1:1 NAT): a floating IP created for a port gets the external
   * address with the host part of the port's fixed IP (10.77.15.2 → 127.85.0.2), so a lab machine's
   * public address is known before it boots; a taken one falls back to the pool.
   */
  hostPartFromFixedIp?: boolean;
}

/** A server that has booted, as the machine behind it sees it (the lab makes a node from it). */
export interface StartedMachine {
  serverId: string;
  serverName: string;
  /** The cloud-init user data as given (decoded from base64), null without. */
  userData: string | null;
  /** IPv4 addresses of the server's ports, first port first. */
  fixedIps: string[];
  /** Public keys of the server's key pair (root's authorized keys after cloud-init). */
  authorizedKeys: string[];
  /** Floating IPs pointing at its ports. */
  publicAddresses: string[];
}

/**
 * SIMULATED lab hooks: a server becomes ACTIVE only once `started` resolved (its machine booted;
 * a rejection is a build fault), and is gone after a delete only once `stopped` resolved.
 * `os-stop` calls `stopped` too (powered off), `os-start` and `reboot` call `started` again.
 */
export interface MachineHooks {
  started(m: StartedMachine): Promise<void>;
  stopped(m: { serverId: string; serverName: string }): Promise<void>;
}

export interface Flavor { id: string; name: string; vcpus: number; ram: number; disk: number }
export interface Image { id: string; name: string; status?: 'active' | 'queued' | 'deactivated'; visibility?: 'public' | 'private' | 'shared' | 'community' }

export interface Token {
  id: string;
  methods: string[];
  userId: string;
  projectId?: string;
  appCredId?: string;
  issuedAt: Date;
  expiresAt: Date;
  auditId: string;
}

export interface Keypair { name: string; public_key: string; fingerprint: string; type: 'ssh'; user_id: string; created_at: string }

export type ServerStatus = 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF';

export interface Server {
  id: string; name: string; projectId: string; userId: string;
  flavorId: string; imageId: string; keyName: string | null; metadata: Record<string, string>;
  securityGroups: string[];
  portIds: string[];
  /** Ports Nova created for `networks: [{uuid}]`; deleted with the server, unlike ports handed in. */
  ownedPortIds: string[];
  adminPass: string; userData: string | null; hostId: string;
  created: string; updated: string; launchedAt: string | null;
  status: ServerStatus;
  build: Progression;
  /** Set when the build was told to fail (state.failNextBuild). */
  buildFailure?: string;
  fault?: { code: number; message: string; created: string };
  deleting?: Progression;
  volumeIds: string[];
  /** Server tags (microversion 2.52+ at create), listed from 2.26. */
  tags: string[];
  /** The server group the scheduler hint named, if any. */
  groupId?: string;
  /** SIMULATED lab: the machine behind the server (MachineHooks), while it boots or halts. */
  machine?: { phase: 'booting' | 'halting'; done: boolean; error?: string };
}

export interface ServerGroup { id: string; name: string; policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity'; rules: Record<string, number>; members: string[]; projectId: string; userId: string }

export type VolumeStatus = 'creating' | 'available' | 'attaching' | 'in-use' | 'detaching' | 'deleting' | 'error';

export interface Volume {
  id: string; name: string | null; description: string | null; size: number; projectId: string; userId: string;
  status: VolumeStatus;
  pending?: { progress: Progression; to: VolumeStatus | 'deleted' };
  attachment?: { id: string; serverId: string; device: string; attachedAt: string };
  createdAt: string; updatedAt: string | null; volumeType: string; availabilityZone: string; bootable: boolean;
  metadata: Record<string, string>; imageId: string | null;
}

interface Base { id: string; name: string; description: string; project_id: string; tenant_id: string; created_at: string; updated_at: string; revision_number: number; tags: string[] }
export interface Network extends Base { admin_state_up: boolean; status: 'ACTIVE'; subnets: string[]; shared: boolean; 'router:external': boolean; mtu: number; port_security_enabled: boolean; availability_zones: string[] }
export interface Subnet extends Base { network_id: string; ip_version: 4; cidr: string; gateway_ip: string | null; allocation_pools: { start: string; end: string }[]; enable_dhcp: boolean; dns_nameservers: string[]; host_routes: { destination: string; nexthop: string }[]; subnetpool_id: null }
export interface Router extends Base { admin_state_up: boolean; status: 'ACTIVE'; external_gateway_info: { network_id: string; enable_snat: boolean; external_fixed_ips: { subnet_id: string; ip_address: string }[] } | null; routes: unknown[] }
export interface SecurityGroupRule { id: string; security_group_id: string; direction: 'ingress' | 'egress'; ethertype: 'IPv4' | 'IPv6'; protocol: string | null; port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; remote_group_id: string | null; description: string; project_id: string; tenant_id: string; created_at: string; updated_at: string; revision_number: number }
export interface SecurityGroup extends Base { stateful: boolean }
export interface FixedIp { subnet_id: string; ip_address: string }
export interface Port extends Base { network_id: string; admin_state_up: boolean; status: 'ACTIVE' | 'DOWN'; mac_address: string; fixed_ips: FixedIp[]; device_id: string; device_owner: string; security_groups: string[]; allowed_address_pairs: { ip_address: string; mac_address: string }[]; port_security_enabled: boolean; 'binding:vnic_type': 'normal' }
export interface FloatingIp { id: string; floating_ip_address: string; floating_network_id: string; router_id: string | null; port_id: string | null; fixed_ip_address: string | null; status: 'ACTIVE' | 'DOWN'; description: string; project_id: string; tenant_id: string; created_at: string; updated_at: string; revision_number: number; tags: string[]; activation?: Progression }

export const DEFAULT_FLAVORS: Flavor[] = [
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
];

export const FAKE_DEFAULTS = {
  region: 'RegionOne',
  projectName: 'mooring',
  userName: 'mooring',
  password: 'fake-openstack-password',
  appCredName: 'mooring-lab',
  appCredSecret: 'fake-openstack-app-credential-secret',
  externalNetwork: { name: 'public', cidr: '203.0.113.0/24' },
} as const;

export const DOMAIN = { id: 'default', name: 'Default' } as const;

/** Keystone ids are 32 hex digits (a UUID without dashes). */
export function hexId(): string {
  return randomUUID().replace(/-/g, '');
}

export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class OpenStackState {
  /** Set once the fake listens: the catalog points here. */
  baseUrl = '';
  readonly region: string;
  readonly project: { id: string; name: string };
  readonly user: { id: string; name: string; password: string };
  readonly appCred: { id: string; name: string; secret: string };
  readonly tokenTtlMs: number;
  readonly timing: NonNullable<OpenStackFakeOptions['timing']>;
  readonly flavors: Flavor[];
  readonly images: Image[];
  readonly tokens = new Map<string, Token>();
  readonly keypairs = new Map<string, Keypair>();
  readonly servers = new Map<string, Server>();
  readonly serverGroups = new Map<string, ServerGroup>();
  readonly volumes = new Map<string, Volume>();
  readonly networks = new Map<string, Network>();
  readonly subnets = new Map<string, Subnet>();
  readonly routers = new Map<string, Router>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly securityGroupRules = new Map<string, SecurityGroupRule>();
  readonly ports = new Map<string, Port>();
  readonly floatingIps = new Map<string, FloatingIp>();
  readonly externalNetworkId: string;
  /** Messages for the next server builds that must end in ERROR (first in, first used). */
  readonly buildFailures: string[] = [];
  /** Build failures for servers of one name (used before the FIFO above): the same host failing again on its re-boot. */
  readonly buildFailuresOf = new Map<string, string[]>();
  /** Each service settles its time-based transitions here; run before every request. */
  readonly settlers: (() => void)[] = [];
  readonly externalNetwork: ExternalNetworkOptions;
  readonly machines: MachineHooks | undefined;
  /** The project's quotas (Nova's and Neutron's defaults unless given); enforced on create. */
  readonly quotas: Quotas;

  constructor(o: OpenStackFakeOptions = {}) {
    this.region = o.region ?? FAKE_DEFAULTS.region;
    this.project = { id: o.project?.id ?? hexId(), name: o.project?.name ?? FAKE_DEFAULTS.projectName };
    this.user = { id: o.user?.id ?? hexId(), name: o.user?.name ?? FAKE_DEFAULTS.userName, password: o.user?.password ?? FAKE_DEFAULTS.password };
    this.appCred = { id: o.applicationCredential?.id ?? hexId(), name: o.applicationCredential?.name ?? FAKE_DEFAULTS.appCredName, secret: o.applicationCredential?.secret ?? FAKE_DEFAULTS.appCredSecret };
    this.tokenTtlMs = o.tokenTtlMs ?? 3_600_000;
    if (!(this.tokenTtlMs > 0)) throw new Error(`tokenTtlMs: ${o.tokenTtlMs} must be a positive number of milliseconds`);
    const t = o.timing ?? {};
    for (const [k, v] of Object.entries(t)) {
      if (!['serverBuild', 'serverDelete', 'volume', 'floatingIp'].includes(k)) throw new Error(`timing.${k}: unknown (serverBuild, serverDelete, volume, floatingIp)`);
      validateProgress(`timing.${k}`, v as ProgressOptions);
    }
    this.timing = t;
    this.flavors = o.flavors ?? DEFAULT_FLAVORS;
    this.images = o.images ?? [
      { id: randomUUID(), name: 'debian-12-genericcloud-amd64' },
      { id: randomUUID(), name: 'ubuntu-24.04-server-cloudimg-amd64' },
    ];
    this.externalNetwork = o.externalNetwork ?? { ...FAKE_DEFAULTS.externalNetwork };
    this.externalNetworkId = randomUUID();
    this.machines = o.machines;
    const q = defaultQuotas();
    this.quotas = { compute: { ...q.compute, ...o.quotas?.compute }, network: { ...q.network, ...o.quotas?.network } };
  }

  tick(): void {
    for (const s of this.settlers) s();
  }

  /** The next server build ends in ERROR with this message (a Nova fault, not an HTTP error). */
  failNextBuild(message = 'No valid host was found. There are not enough hosts available.', server?: { name: string; times?: number }): void {
    if (!server) { this.buildFailures.push(message); return; }
    const list = this.buildFailuresOf.get(server.name) ?? [];
    for (let i = 0; i < (server.times ?? 1); i++) list.push(message);
    this.buildFailuresOf.set(server.name, list);
  }

  /** The failure the next build of a server of this name ends in, if any (consumed). */
  takeBuildFailure(name: string): string | undefined {
    const own = this.buildFailuresOf.get(name);
    if (own?.length) return own.shift();
    return this.buildFailures.shift();
  }
}

export function macAddress(): string {
  // fa:16:3e is the prefix Neutron uses by default.
  return ['fa', '16', '3e', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
