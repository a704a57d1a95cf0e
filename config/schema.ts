// The cluster inventory: the one schema that gives Mooring both its TypeScript types and its
// validation. Field-level rules live on the fields; rules that relate fields (odd etcd count,
// unique names, VIP consistency) live in `crossFieldRules` so every problem is reported at once.
import { z } from 'zod';
import { isIPv4, ipv4InCidr, isCidr, cidrsOverlap } from './net.js';

// Names end up in shell commands, DNS records, etcd member names and workflow IDs: keep them to
// RFC 1123 labels so they are safe everywhere without quoting tricks.
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Absolute POSIX paths without shell metacharacters (they are still quoted when used).
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]*$/;
const SEMVER = /^v?\d+\.\d+\.\d+$/;
const SSH_PUBKEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const name = z.string().regex(DNS_LABEL, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a safe name: use lowercase letters, digits and '-', starting and ending with a letter or digit (at most 63 characters)`,
});
const ipv4 = z.string().refine(isIPv4, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IPv4 address`,
});
const cidr = z.string().refine(isCidr, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IPv4 CIDR such as 10.244.0.0/16`,
});
const absPath = z.string().regex(SAFE_PATH, {
  error: (iss) => `${JSON.stringify(iss.input)} must be an absolute path of letters, digits, '.', '_', '-' and '/'`,
});
const port = z.number().int().min(1).max(65535);
// A directory per release on the hosts, `{version}` standing for the release (e.g. 3.5.35).
const RELEASE_DIR = /^\/[A-Za-z0-9._\/-]*\{version\}[A-Za-z0-9._\/-]*$/;
const releaseDir = (holds: string) => z.string().regex(RELEASE_DIR, {
  error: (iss) => `${JSON.stringify(iss.input)} must be an absolute path with {version} where the release goes, e.g. /opt/${holds}/{version} (letters, digits, '.', '_', '-', '/')`,
});
const version = z.string().regex(SEMVER, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a version such as 1.28.4`,
});

/** A secret is never a value in the inventory: only where to find it, resolved inside activities. */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(ENV_NAME, { error: 'must be an environment variable name such as PROXMOX_TOKEN_SECRET' }) }),
  z.strictObject({ file: absPath }),
], { error: 'must be a reference, { env: NAME } or { file: /abs/path }, never the secret itself' });

const Size = z.strictObject({
  cpus: z.number().int().min(1),
  memoryGiB: z.number().positive(),
  diskGiB: z.number().positive(),
});

export const Node = z.strictObject({
  name,
  ip: ipv4,
  /** SSH port; 22 unless a lab or bastion setup says otherwise. */
  sshPort: port.default(22),
  /** Pinned host key ("ssh-ed25519 AAAA..."); a host presenting another key is refused. */
  hostKey: z.string().regex(SSH_PUBKEY, { error: 'must be one OpenSSH public key line, e.g. "ssh-ed25519 AAAAC3Nz..." (from ssh-keyscan -t ed25519 HOST)' }).optional(),
  size: Size.optional(),
});

const OpenStack = z.strictObject({
  /** A cloud name from clouds.yaml; when absent the OS_* environment variables are used. */
  cloud: z.string().min(1).optional(),
  region: z.string().min(1),
  network: z.strictObject({ name, cidr }),
  floatingNetwork: z.string().min(1),
  image: z.string().min(1),
  flavors: z.strictObject({
    gateway: z.string().min(1).optional(),
    etcd: z.string().min(1).optional(),
    master: z.string().min(1),
    worker: z.string().min(1),
  }),
  keyName: z.string().min(1).optional(),
});

const Proxmox = z.strictObject({
  apiUrl: z.url({ protocol: /^https?$/, error: 'must be the API URL, e.g. https://pve1:8006/api2/json' }),
  tokenId: z.string().regex(/^[^@\s]+@[^!\s]+![A-Za-z0-9_-]+$/, { error: 'must be an API token id such as mooring@pve!ops' }),
  tokenSecret: SecretRef,
  nodes: z.array(name).min(1),
  templateVmid: z.number().int().min(100),
  storage: z.string().min(1),
  bridge: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a bridge name such as vmbr0' }),
  /** Skip TLS verification only for a self-signed lab; production pins a CA instead. */
  caFile: absPath.optional(),
});

const Provider = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('openstack'), openstack: OpenStack }),
  z.strictObject({ type: z.literal('proxmox'), proxmox: Proxmox }),
  /** Hosts already exist (bare metal, the lab): nothing to create. */
  z.strictObject({ type: z.literal('static') }),
], { error: 'must be one of openstack, proxmox, static' });

const Ssh = z.strictObject({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: 'must be a Unix user name such as ubuntu' }),
  privateKeyPath: absPath,
  /** Seed 002: the gateways hold the floating IPs and act as jump hosts. */
  bastion: z.strictObject({ host: ipv4, port: port.default(22), user: z.string().min(1).optional(), hostKey: Node.shape.hostKey }).optional(),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(15),
});

const Etcd = z.strictObject({
  version: version,
  /** external: dedicated etcd hosts (seed 001); stacked: etcd on the masters (seeds 002, 003). */
  topology: z.enum(['external', 'stacked']),
  /** External topology: the etcd hosts. Stacked: leave empty, the masters are the members. */
  members: z.array(Node).default([]),
  dataDir: absPath.default('/var/lib/etcd'),
  configPath: absPath.default('/etc/etcd/etcd.conf.yaml'),
  clientPort: port.default(2379),
  peerPort: port.default(2380),
  tls: z.strictObject({
    caCert: absPath.default('/etc/etcd/ssl/ca.crt'),
    serverCert: absPath.default('/etc/etcd/ssl/server.crt'),
    serverKey: absPath.default('/etc/etcd/ssl/server.key'),
    peerCert: absPath.default('/etc/etcd/ssl/peer.crt'),
    peerKey: absPath.default('/etc/etcd/ssl/peer.key'),
    clientCert: absPath.default('/etc/etcd/ssl/client.crt'),
    clientKey: absPath.default('/etc/etcd/ssl/client.key'),
    /** The etcd CA's private key, by reference: lets a recovery issue certificates for a replaced node. */
    caKey: SecretRef.optional(),
  }).prefault({}),
  /**
   * For `mooring upgrade`: where each etcd release's binaries are on the member hosts, and where
   * the etcd unit runs them from. etcd ships release tarballs, not a package per minor, so
   * production stages them (config management, an image, a read-only mount) as one directory per
   * release holding etcd, etcdctl (and etcdutl from 3.5); the upgrade copies them into installDir.
   */
  binaries: z.strictObject({
    source: releaseDir('etcd'),
    /** The directory the etcd unit's ExecStart names (and etcdctl/etcdutl on PATH). */
    installDir: absPath.default('/usr/local/bin'),
    /** Where the replaced binaries are kept, per version (the way back for a member that fails). */
    keepDir: absPath.default('/var/backups/etcd-binaries'),
  }).optional(),
});

const LoadBalancer = z.strictObject({
  vip: ipv4,
  /** gateways: dedicated gateway hosts hold the VIP (seed 001); masters: HAProxy on the masters (seed 003). */
  placement: z.enum(['gateways', 'masters']),
  /** Port HAProxy listens on for the API; must differ from 6443 when HAProxy shares the masters. */
  apiPort: port.default(6443),
  virtualRouterId: z.number().int().min(1).max(255).default(51),
});

const Kubernetes = z.strictObject({
  version: version,
  /** host:port the whole cluster uses to reach the API; must be the load balancer's VIP and port. */
  controlPlaneEndpoint: z.string().regex(/^[^:\s]+:\d{1,5}$/, { error: 'must be HOST:PORT, e.g. 10.0.1.99:6443' }),
  podSubnet: cidr,
  serviceSubnet: cidr,
  cni: z.enum(['calico', 'flannel', 'canal', 'cilium']),
  /**
   * For `mooring upgrade`: the Kubernetes releases available to the nodes, one directory per
   * release holding kubeadm (the lab's builds; in production e.g. staged release binaries). The
   * releases found there are the only targets the upgrade accepts.
   */
  binaries: z.strictObject({ source: releaseDir('kubernetes') }).optional(),
});

const Backup = z.strictObject({
  schedule: z.union([
    z.strictObject({ every: z.string().regex(/^\d+[mhd]$/, { error: 'must be an interval such as 30m, 6h or 1d' }) }),
    z.strictObject({ cron: z.string().min(9) }),
  ], { error: 'must be { every: 6h } or { cron: "0 */6 * * *" }' }),
  retention: z.strictObject({
    keepLast: z.number().int().min(1).default(3),
    hourly: z.number().int().min(0).default(24),
    daily: z.number().int().min(0).default(7),
    weekly: z.number().int().min(0).default(4),
    monthly: z.number().int().min(0).default(6),
  }).prefault({}),
  localDir: absPath.default('/var/backups/etcd'),
  objectStore: z.strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'must be the S3 endpoint URL, e.g. https://s3.example.org' }),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name (lowercase letters, digits, dots, dashes)' }),
    region: z.string().min(1).default('us-east-1'),
    accessKey: SecretRef,
    secretKey: SecretRef,
  }),
  encryptionKey: SecretRef,
});

const InventoryObject = z.strictObject({
  apiVersion: z.literal('mooring/v1', { error: 'must be "mooring/v1"' }),
  cluster: z.strictObject({ name }),
  provider: Provider,
  ssh: Ssh,
  loadBalancer: LoadBalancer,
  gateways: z.array(Node).default([]),
  masters: z.array(Node).min(1, { error: 'needs at least one master' }),
  workers: z.array(Node).default([]),
  etcd: Etcd,
  kubernetes: Kubernetes,
  backup: Backup.optional(),
});

export const Inventory = InventoryObject.superRefine(crossFieldRules);

export type Inventory = z.output<typeof Inventory>;
export type InventoryInput = z.input<typeof Inventory>;
export type InventoryNode = z.output<typeof Node>;
export type SecretRef = z.output<typeof SecretRef>;

type Ctx = z.RefinementCtx;

function crossFieldRules(inv: z.output<typeof InventoryObject>, ctx: Ctx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  // etcd membership per topology
  if (inv.etcd.topology === 'external') {
    if (inv.etcd.members.length === 0) issue(['etcd', 'members'], 'external topology needs the etcd hosts listed here (or set etcd.topology: stacked)');
  } else if (inv.etcd.members.length > 0) {
    issue(['etcd', 'members'], 'stacked topology runs etcd on the masters: leave etcd.members empty');
  }
  const etcdCount = inv.etcd.topology === 'external' ? inv.etcd.members.length : inv.masters.length;
  if (etcdCount > 0 && etcdCount % 2 === 0) {
    const where = inv.etcd.topology === 'external' ? ['etcd', 'members'] : ['masters'];
    issue(where, `has ${etcdCount} etcd members: use an odd number (1, 3, 5) so a majority survives a partition`);
  }

  // unique names and addresses across every host
  const groups = [['gateways', inv.gateways], ['masters', inv.masters], ['workers', inv.workers], ['etcd', 'members', inv.etcd.members]] as const;
  const seenName = new Map<string, string>();
  const seenIp = new Map<string, string>();
  for (const g of groups) {
    const nodes = g[g.length - 1] as InventoryNode[];
    const base = g.slice(0, -1) as string[];
    nodes.forEach((n, i) => {
      const here = `${base.join('.')}[${i}]`;
      const prevName = seenName.get(n.name);
      if (prevName) issue([...base, i, 'name'], `"${n.name}" is already used by ${prevName}: every host needs its own name`);
      else seenName.set(n.name, here);
      const key = `${n.ip}:${n.sshPort}`;
      const prevIp = seenIp.get(key);
      if (prevIp) issue([...base, i, 'ip'], `${n.ip} is already used by ${prevIp}: every host needs its own address`);
      else seenIp.set(key, here);
      if (n.ip === inv.loadBalancer.vip) issue([...base, i, 'ip'], `${n.ip} is the load balancer VIP: the VIP must not be a host's own address`);
    });
  }

  // load balancer placement and control plane endpoint
  if (inv.loadBalancer.placement === 'gateways' && inv.gateways.length < 2) {
    issue(['gateways'], `loadBalancer.placement is "gateways" but ${inv.gateways.length} gateway(s) are listed: list two or more for a highly available VIP`);
  }
  if (inv.loadBalancer.placement === 'masters' && inv.loadBalancer.apiPort === 6443) {
    issue(['loadBalancer', 'apiPort'], 'HAProxy on the masters cannot bind 6443, the apiserver uses it: pick another port such as 60443 (seed 003)');
  }
  const [epHost, epPort] = inv.kubernetes.controlPlaneEndpoint.split(':');
  if (epHost !== inv.loadBalancer.vip || Number(epPort) !== inv.loadBalancer.apiPort) {
    issue(['kubernetes', 'controlPlaneEndpoint'], `"${inv.kubernetes.controlPlaneEndpoint}" must be the load balancer, ${inv.loadBalancer.vip}:${inv.loadBalancer.apiPort}`);
  }

  // networks
  if (inv.provider.type === 'openstack') {
    const net = inv.provider.openstack.network.cidr;
    if (isCidr(net)) {
      for (const g of groups) {
        const nodes = g[g.length - 1] as InventoryNode[];
        const base = g.slice(0, -1) as string[];
        nodes.forEach((n, i) => {
          if (isIPv4(n.ip) && !ipv4InCidr(n.ip, net)) issue([...base, i, 'ip'], `${n.ip} is outside provider.openstack.network.cidr ${net}`);
        });
      }
    }
  }
  clusterRangeRules(inv, groups, issue);
}

/**
 * Pod and service addresses are routed inside the cluster (CNI, kube-proxy): a range that shares
 * addresses with the nodes' network, or with the other range, makes nodes or services
 * unreachable. The node network is the OpenStack private network when there is one; otherwise
 * (Proxmox, static hosts) only the node addresses and the VIP are known, and none may fall inside.
 */
function clusterRangeRules(inv: z.output<typeof InventoryObject>, groups: readonly (readonly unknown[])[], issue: (path: (string | number)[], message: string) => void): void {
  const { podSubnet, serviceSubnet } = inv.kubernetes;
  const ranges = [['podSubnet', podSubnet], ['serviceSubnet', serviceSubnet]] as const;
  if (isCidr(podSubnet) && isCidr(serviceSubnet) && cidrsOverlap(podSubnet, serviceSubnet)) {
    issue(['kubernetes', 'serviceSubnet'], `${serviceSubnet} overlaps the pod network ${podSubnet} (kubernetes.podSubnet): pods and services need separate ranges, choose one that does not`);
  }
  const net = inv.provider.type === 'openstack' ? inv.provider.openstack.network.cidr : undefined;
  const addresses: { where: string; ip: string }[] = [{ where: 'loadBalancer.vip', ip: inv.loadBalancer.vip }];
  for (const g of groups) {
    const nodes = g[g.length - 1] as InventoryNode[];
    const base = (g.slice(0, -1) as string[]).join('.');
    nodes.forEach((n, i) => addresses.push({ where: `${base}[${i}].ip`, ip: n.ip }));
  }
  for (const [field, range] of ranges) {
    if (!isCidr(range)) continue;
    if (net !== undefined && isCidr(net) && cidrsOverlap(range, net)) {
      issue(['kubernetes', field], `${range} overlaps the node network ${net} (provider.openstack.network.cidr): choose a range that does not`);
      continue;
    }
    const inside = addresses.filter((a) => isIPv4(a.ip) && ipv4InCidr(a.ip, range));
    if (inside.length) {
      const named = inside.slice(0, 3).map((a) => `${a.ip} (${a.where})`).join(', ') + (inside.length > 3 ? ` and ${inside.length - 3} more` : '');
      issue(['kubernetes', field], `${range} overlaps the node network: it contains ${named}; choose a range that holds no node address`);
    }
  }
}
