// The cluster inventory: the one schema that gives Mooring both its TypeScript types and its
// validation. Field-level rules live on the fields; rules that relate fields (odd etcd count,
// unique names, VIP consistency) live in `crossFieldRules` so every problem is reported at once.
import { z } from 'zod';
import { isIPv4, ipv4InCidr, isCidr, cidrsOverlap } from './net.js';
import { BYTE_SIZE, formatBytes, parseByteSize } from './byte-size.js';

// Names end up in shell commands, DNS records, etcd member names and workflow IDs: keep them to
// RFC 1123 labels so they are safe everywhere without quoting tricks.
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Absolute POSIX paths without shell metacharacters (they are still quoted when used).
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]*$/;
const SEMVER = /^v?\d+\.\d+\.\d+$/;
const SSH_PUBKEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;
// A public key line as a .pub file holds it: type, base64, optional comment.
const SSH_PUBKEY_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SHA256_FINGERPRINT = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/;

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

// Every field carries its meaning in `.describe()`: the one place it is written. The generated
// JSON Schema (config/json-schema.ts) turns it into the hover text editors show, and a unit test
// fails when a field has none.

/** A secret is never a value in the inventory: only where to find it, resolved inside activities. */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(ENV_NAME, { error: 'must be an environment variable name such as PROXMOX_TOKEN_SECRET' }).describe('Name of the environment variable that holds the secret, read by the worker (or the CLI for `backup list`)') }),
  z.strictObject({ file: absPath.describe('Absolute path of a file that holds the secret, read by the worker (or the CLI for `backup list`)') }),
], { error: 'must be a reference, { env: NAME } or { file: /abs/path }, never the secret itself' });

const Size = z.strictObject({
  cpus: z.number().int().min(1).describe('Virtual CPUs'),
  memoryGiB: z.number().positive().describe('Memory in GiB'),
  diskGiB: z.number().positive().describe('Root disk in GiB'),
});

const hostKey = z.string().regex(SSH_PUBKEY, { error: 'must be one OpenSSH public key line, e.g. "ssh-ed25519 AAAAC3Nz..." (from ssh-keyscan -t ed25519 HOST)' });

export const Node = z.strictObject({
  name: name.describe('Host name: an RFC 1123 label (lowercase letters, digits, -), unique across the inventory; used in etcd member names and commands'),
  ip: ipv4.describe('IPv4 address Mooring reaches the host on; unique (with sshPort) across the inventory'),
  sshPort: port.default(22).describe('SSH port; 22 unless a lab or bastion set-up says otherwise'),
  hostKey: hostKey.optional().describe('Pinned host key, one OpenSSH public key line ("ssh-ed25519 AAAA...", from ssh-keyscan -t ed25519 HOST, checked out of band); a host presenting another key is refused'),
  size: Size.optional().describe('VM size for provisioning: { cpus, memoryGiB, diskGiB }'),
});

const OpenStack = z.strictObject({
  cloud: z.string().min(1).optional().describe('A cloud name from clouds.yaml (OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack, /etc/openstack); when absent the OS_* environment variables are used'),
  region: z.string().min(1).describe('OpenStack region name'),
  network: z.strictObject({
    name: name.describe('Name of the private network'),
    cidr: cidr.describe('Its subnet, e.g. 10.0.1.0/24; every host address must be inside it'),
  }).describe('The private network the hosts are on'),
  floatingNetwork: z.string().min(1).describe('External network floating IPs come from'),
  image: z.string().min(1).describe('Image name or ID every VM boots from'),
  flavors: z.strictObject({
    gateway: z.string().min(1).optional().describe('Flavor of the gateways'),
    etcd: z.string().min(1).optional().describe('Flavor of the external etcd hosts'),
    master: z.string().min(1).describe('Flavor of the masters'),
    worker: z.string().min(1).describe('Flavor of the workers'),
  }).describe('Flavor per role'),
  keyName: z.string().regex(/^[A-Za-z0-9 _.@-]{1,255}$/, { error: "must be a Nova key pair name (letters, digits, spaces, '_', '-', '.', '@')" }).optional()
    .describe('An existing Nova key pair for the admin user; with publicKey, the name Mooring imports it under (default "<cluster>-admin")'),
  publicKey: z.string().regex(SSH_PUBKEY_LINE, { error: 'must be one OpenSSH public key line, e.g. "ssh-ed25519 AAAAC3Nz... admin@example" (the .pub of ssh.privateKeyPath)' }).optional()
    .describe('The admin\'s SSH public key, imported as key pair keyName; omit to use an existing key pair'),
  floatingIps: z.enum(['gateways', 'vip', 'none']).default('gateways')
    .describe('Where floating IPs go. gateways (seed 002): one per gateway port. vip: one on the VIP port (seed 001; with ML2/OVN before the "virtual" port type such an address does not pass traffic, see docs/openstack.md). none: reached another way (VPN, provider network)'),
  adminCidrs: z.array(cidr).min(1, { error: 'list at least one CIDR, e.g. 203.0.113.0/24 (0.0.0.0/0 allows everyone)' }).default(['0.0.0.0/0'])
    .describe('Where SSH to the bastions and the API/ingress through the gateways may come from'),
  dnsNameservers: z.array(ipv4).default([]).describe('DNS servers handed to the hosts by the subnet\'s DHCP'),
  serverGroupPolicy: z.enum(['anti-affinity', 'soft-anti-affinity']).default('anti-affinity')
    .describe('Nova server group policy per role: anti-affinity refuses to boot a second master on one hypervisor; soft-anti-affinity only prefers not to'),
});

const Proxmox = z.strictObject({
  apiUrl: z.url({ protocol: /^https?$/, error: 'must be the API URL, e.g. https://pve1:8006/api2/json' }).describe('Proxmox VE API URL, e.g. https://pve1:8006/api2/json'),
  tokenId: z.string().regex(/^[^@\s]+@[^!\s]+![A-Za-z0-9_-]+$/, { error: 'must be an API token id such as mooring@pve!ops' }).describe('API token id, user@realm!token, e.g. mooring@pve!ops'),
  tokenSecret: SecretRef.describe('The API token secret, by reference: { env: NAME } or { file: /abs/path }'),
  nodes: z.array(name).min(1).describe('Proxmox nodes VMs are placed on'),
  templateVmid: z.number().int().min(100).describe('VMID of the template VMs are cloned from'),
  storage: z.string().min(1).describe('Storage for VM disks'),
  bridge: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a bridge name such as vmbr0' }).describe('Network bridge of the VMs, e.g. vmbr0'),
  caFile: absPath.optional().describe('CA certificate (PEM) that signed the API\'s certificate, e.g. /etc/pve/pve-root-ca.pem copied from a node: the certificate is verified against it instead of the system CAs'),
  fingerprint: z.string().regex(SHA256_FINGERPRINT, { error: 'must be the SHA-256 fingerprint of the API certificate, 32 hex bytes separated by colons, e.g. from `openssl x509 -noout -fingerprint -sha256 -in /etc/pve/local/pve-ssl.pem`' }).optional()
    .describe('SHA-256 fingerprint of the API\'s certificate (AA:BB:...:FF), pinned: the connection is refused when the server presents another certificate. For a self-signed PVE certificate without its CA file; TLS verification is never switched off'),
  vmids: z.strictObject({
    first: z.number().int().min(100).max(999_999_999).describe('First VMID of the range'),
    last: z.number().int().min(100).max(999_999_999).describe('Last VMID of the range (inclusive)'),
  }).optional().describe('The VMID range reserved for this cluster\'s VMs; every ID is checked free before a clone, and deprovision only touches VMs in it that carry the cluster\'s tag. Needed to provision'),
  clone: z.enum(['full', 'linked']).default('full').describe('full: independent disks copied to provider.proxmox.storage; linked: copy-on-write disks on the template\'s storage (fast, but the template can no longer be deleted)'),
  clonesPerStorage: z.number().int().min(1).max(16).default(1).describe('How many clones run at once on one storage (parallel clones time out on the storage lock in practice)'),
  network: z.strictObject({
    cidr: cidr.describe('The VMs\' network, e.g. 10.0.1.0/24: every host address is inside it (ipconfig0 gets its prefix length)'),
    gateway: ipv4.describe('Default gateway of the VMs (cloud-init ipconfig0 gw=)'),
    nameservers: z.array(ipv4).min(1).describe('DNS servers of the VMs (cloud-init nameserver)'),
  }).optional().describe('Static addressing the VMs get through cloud-init. Needed to provision'),
  publicKey: z.string().regex(SSH_PUBKEY_LINE, { error: 'must be one OpenSSH public key line, e.g. "ssh-ed25519 AAAAC3Nz... admin@example" (the .pub of ssh.privateKeyPath)' }).optional()
    .describe('The admin\'s SSH public key, installed for ssh.user through cloud-init (sshkeys). Needed to provision'),
  snippets: z.strictObject({
    storage: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, { error: 'must be a Proxmox storage id such as local or cephfs' }).describe('A Proxmox file storage with content "snippets" that every VM node can read (e.g. cephfs or an NFS storage)'),
    localDir: absPath.describe('Where that storage is mounted on the worker (e.g. /mnt/pve/cephfs): Mooring writes each VM\'s cloud-init vendor data to <localDir>/snippets/'),
  }).optional().describe('Where the cloud-init vendor data that pins each VM\'s SSH host key is written (PVE\'s API cannot upload snippets). Needed to provision'),
  agentTimeoutSeconds: z.number().int().min(5).max(3600).default(600).describe('How long to wait after start for the QEMU guest agent to report the VM\'s address'),
});

const providerType = 'Where the hosts come from: openstack, proxmox, or static (they exist already: bare metal, the lab)';
const Provider = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('openstack').describe(providerType), openstack: OpenStack.describe('OpenStack project the hosts are created in') }),
  z.strictObject({ type: z.literal('proxmox').describe(providerType), proxmox: Proxmox.describe('Proxmox VE cluster the hosts are cloned on') }),
  z.strictObject({ type: z.literal('static').describe(providerType) }),
], { error: 'must be one of openstack, proxmox, static' });

const Ssh = z.strictObject({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: 'must be a Unix user name such as ubuntu' }).describe('Login user on every host'),
  privateKeyPath: absPath.describe('Private key for every host, read by the worker inside activities (never sent to Temporal); mode 0600'),
  bastion: z.strictObject({
    host: ipv4.describe('Address of the jump host'),
    port: port.default(22).describe('Its SSH port'),
    user: z.string().min(1).optional().describe('Its login user (default: ssh.user)'),
    hostKey: hostKey.optional().describe('Its pinned host key, one OpenSSH public key line'),
  }).optional().describe('Jump host every connection goes through (seed 002: the gateways hold the floating IPs)'),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(15).describe('Seconds to wait for an SSH connection'),
  hostKeySeed: SecretRef.optional()
    .describe('Secret (by reference, never the value) from which Mooring derives the SSH host key of every host it creates (HKDF per host name), so each key is pinned before the host first boots; needed when a cloud provider creates the hosts'),
});

const GIB = 1024 ** 3;
/** etcd's suggested maximum quota: "8 GiB is a suggested maximum size for normal environments" (etcd.io/docs/v3.6/dev-guide/limit). */
export const ETCD_QUOTA_MAX_BYTES = 8 * GIB;
/** Below etcd's own 2 GiB default is allowed, below 1 GiB is taken for a unit mistake ("8" for 8 GiB). */
export const ETCD_QUOTA_MIN_BYTES = 1 * GIB;
const quotaOutOfRange = (input: unknown, bytes: number) => bytes > ETCD_QUOTA_MAX_BYTES
  ? `${JSON.stringify(input)} (${formatBytes(bytes)}) is above 8 GiB, etcd's suggested maximum (etcd.io/docs dev-guide/limit): set at most 8GiB (8589934592)`
  : `${JSON.stringify(input)} (${formatBytes(bytes)}) is below 1 GiB: give the size with its unit, e.g. 8GiB, or a byte count between 1073741824 and 8589934592`;
const etcdQuota = z.union([
  z.number().int({ error: (iss) => `${JSON.stringify(iss.input)} is not a whole number of bytes: write e.g. 8589934592 or 8GiB` })
    .min(ETCD_QUOTA_MIN_BYTES, { error: (iss) => quotaOutOfRange(iss.input, Number(iss.input)) })
    .max(ETCD_QUOTA_MAX_BYTES, { error: (iss) => quotaOutOfRange(iss.input, Number(iss.input)) }),
  z.string().regex(BYTE_SIZE, { error: (iss) => `${JSON.stringify(iss.input)} is not a size: write a byte count or a size such as 8GiB, 6144MiB or 8GB` }),
], { error: 'must be a byte count or a size such as 8GiB' }).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v : parseByteSize(v);
  if (bytes === undefined || bytes < ETCD_QUOTA_MIN_BYTES || bytes > ETCD_QUOTA_MAX_BYTES) {
    ctx.issues.push({ code: 'custom', input: v, message: bytes === undefined ? `${JSON.stringify(v)} is too large a size: write at most 8GiB` : quotaOutOfRange(v, bytes) });
    return z.NEVER;
  }
  return bytes;
});

const tlsFile = (what: string, path: string) => absPath.default(path).describe(`${what} on every etcd member`);
const Etcd = z.strictObject({
  version: version.describe('etcd version, e.g. 3.4.23 (decides etcdctl or etcdutl for snapshots and restores)'),
  topology: z.enum(['external', 'stacked']).describe('external: dedicated etcd hosts (seed 001); stacked: etcd on the masters (seeds 002, 003)'),
  members: z.array(Node).default([]).describe('External topology: the etcd hosts (an odd count). Stacked: leave empty, the masters are the members'),
  dataDir: absPath.default('/var/lib/etcd').describe('etcd data directory (a recovery moves it aside, never deletes it)'),
  configPath: absPath.default('/etc/etcd/etcd.conf.yaml').describe('etcd configuration file'),
  quotaBackendBytes: etcdQuota.optional().describe("etcd's quota-backend-bytes: the database size at which etcd raises NOSPACE and refuses writes. A byte count or a size such as 8GiB, between 1 GiB and 8 GiB (etcd's suggested maximum); unset, etcd keeps its 2 GiB default. Written into every member config Mooring renders (recoveries included): set it to what the members run"),
  clientPort: port.default(2379).describe('Client port'),
  peerPort: port.default(2380).describe('Peer port'),
  tls: z.strictObject({
    caCert: tlsFile('CA certificate', '/etc/etcd/ssl/ca.crt'),
    serverCert: tlsFile('Server certificate', '/etc/etcd/ssl/server.crt'),
    serverKey: tlsFile('Server key', '/etc/etcd/ssl/server.key'),
    peerCert: tlsFile('Peer certificate', '/etc/etcd/ssl/peer.crt'),
    peerKey: tlsFile('Peer key', '/etc/etcd/ssl/peer.key'),
    clientCert: tlsFile('Client certificate (etcdctl)', '/etc/etcd/ssl/client.crt'),
    clientKey: tlsFile('Client key (etcdctl)', '/etc/etcd/ssl/client.key'),
    caKey: SecretRef.optional().describe('The etcd CA\'s private key, by reference: lets a follower recovery issue certificates for a replaced node, and the provisioning host phase issue the external members\' and kube-apiserver\'s certificates (unset, provisioning makes a CA and keeps it in the worker\'s state directory); must match caCert'),
  }).prefault({}).describe('Paths of the TLS files on the members'),
  binaries: z.strictObject({
    source: releaseDir('etcd').describe('Directory of each release on the member hosts, {version} standing for the release, e.g. /opt/etcd/{version}'),
    installDir: absPath.default('/usr/local/bin').describe('The directory the etcd unit\'s ExecStart names (and etcdctl/etcdutl on PATH); the upgrade copies the release\'s binaries there'),
    keepDir: absPath.default('/var/backups/etcd-binaries').describe('Where the replaced binaries are kept, per version (the way back for a member that fails)'),
  }).optional().describe('For mooring upgrade and for provisioning an external etcd (required there): where each etcd release\'s binaries are on the member hosts. etcd ships release tarballs, not a package per minor, so production stages them (config management, an image, a read-only mount) as one directory per release holding etcd, etcdctl (and etcdutl from 3.5)'),
});

const LoadBalancer = z.strictObject({
  vip: ipv4.describe('The virtual IP keepalived holds; must not be a host\'s own address'),
  placement: z.enum(['gateways', 'masters']).describe('Who holds the VIP and runs HAProxy: gateways (dedicated gateway hosts, seeds 001, 002) or masters (seed 003)'),
  apiPort: port.default(6443).describe('Port HAProxy listens on for the API; must differ from 6443 when HAProxy shares the masters'),
  virtualRouterId: z.number().int().min(1).max(255).default(51).describe('keepalived VRRP virtual router id, unique on the network'),
});

/** The Helm release Mooring builds and tests (scripts/build-helm.sh's HELM_VERSION: keep them equal). */
export const HELM_DEFAULT_VERSION = '4.3.2';
// No leading v: the version becomes the apt pin helm=<version>-*. Helm 2 needed Tiller in the cluster; refused.
const helmVersion = z.string().regex(/^[34]\.\d+\.\d+$/, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a Helm 3 or 4 release such as ${HELM_DEFAULT_VERSION} (MAJOR.MINOR.PATCH without a leading v: the apt package is pinned as helm=<version>-*)`,
});

const Kubernetes = z.strictObject({
  version: version.describe('Kubernetes version, e.g. 1.36.3'),
  controlPlaneEndpoint: z.string().regex(/^[^:\s]+:\d{1,5}$/, { error: 'must be HOST:PORT, e.g. 10.0.1.99:6443' }).describe('HOST:PORT the whole cluster uses to reach the API; must be loadBalancer.vip:loadBalancer.apiPort'),
  podSubnet: cidr.describe('Pod network CIDR; shares no address with serviceSubnet or the node network'),
  serviceSubnet: cidr.describe('Service network CIDR; shares no address with podSubnet or the node network'),
  cni: z.enum(['calico', 'flannel', 'canal', 'cilium']).describe('Network plugin. flannel ships with Mooring (v0.28.10, its net-conf Network set to podSubnet); provisioning any other needs cniManifest'),
  cniManifest: absPath.optional().describe('For provision: the manifest of a CNI that does not ship with Mooring (calico, canal, cilium), a file on the machine running the worker, applied as it is (its Network/CIDR settings must match podSubnet). With cni: flannel and no cniManifest, Mooring applies its own flannel v0.28.10. Operations on existing clusters ignore it'),
  addonRollout: z.enum(['wait', 'none-simulated'], { error: 'must be "wait" (production) or "none-simulated" (a lab whose kubelet runs no addon pods)' }).default('wait')
    .describe('How provision knows the CNI and local-path storage run after their apply: wait (default) until every DaemonSet of their manifests is ready on every node and every Deployment is available; none-simulated only for a lab whose SIMULATED kubelet runs no addon pods (the lab sets it unless MOORING_LAB_ADDON_PODS=1), and the result then says the rollout was not checked'),
  apiserverReadiness: z.enum(['readyz', 'none-simulated'], { error: 'must be "readyz" (production) or "none-simulated" (a lab without an apiserver)' }).default('readyz')
    .describe('How a control-plane restart knows a master\'s kube-apiserver is back: readyz (default) waits until GET https://<master>:6443/readyz answers 200, asked on the master over SSH with the cluster CA; none-simulated only for a lab whose masters run no apiserver (SIMULATED), and the restart then says nothing was probed'),
  kubeadmSkipPhases: z.array(z.string().regex(/^[a-z-]+(\/[a-z0-9-]+)*$/, { error: 'must be a kubeadm phase such as preflight or addon/kube-proxy' })).optional()
    .describe('Phases kubeadm init and join skip (the provision runbook passes them as skipPhases); production leaves this out; the SIMULATED lab skips preflight (it has no container runtime for kubeadm to check) and addon/kube-proxy'),
  binaries: z.strictObject({
    source: releaseDir('kubernetes').describe('Directory of each release, {version} standing for the release, e.g. /opt/kubernetes/{version}'),
    installDir: absPath.default('/usr/bin').describe('Where the upgrade installs each release\'s kubeadm, kubelet and kubectl on a node (the kubelet unit\'s ExecStart names installDir/kubelet); the replaced files are renamed over, never written through'),
  }).optional()
    .describe('For mooring upgrade: the Kubernetes releases available to the nodes, one directory per release holding kubeadm, kubelet and kubectl (the lab\'s builds; in production e.g. staged release binaries); the releases found there are the only targets the upgrade accepts'),
  upgrade: z.strictObject({
    workerBatch: z.union([
      z.number().int().min(1),
      z.string().regex(/^([1-9]\d?|100)%$/, { error: 'must be a count such as 2 or a percentage such as 25%' }),
    ]).default(1).describe('Workers upgraded at once (cordon, drain, upgrade, uncordon): a count, or a percentage of the workers (rounded down, at least 1)'),
    drainTimeoutSeconds: z.number().int().min(10).max(86_400).default(300).describe('How long one node\'s drain may take (kubectl drain --timeout); past it the run holds and asks'),
    gates: z.enum(['per-hop', 'single']).default('per-hop').describe('per-hop: an approval before each Kubernetes hop as well as the one for the whole plan; single: only the one for the whole plan'),
    certificateMinDays: z.number().int().min(0).max(3650).default(7).describe('The preflight refuses a hop when a kubeadm certificate expires within this many days (kubeadm certs check-expiration); renew them first'),
    ignorePreflightErrors: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, { error: 'must be the name of a kubeadm preflight check, e.g. CoreDNSUnsupportedPlugins' })).default([])
      .describe('kubeadm preflight checks whose errors are warnings during kubeadm upgrade (--ignore-preflight-errors); empty in production. The lab lists the checks its SIMULATED container runtime cannot pass'),
  }).prefault({}).describe('How mooring upgrade runs the Kubernetes hops'),
  helm: z.strictObject({
    version: helmVersion.default(HELM_DEFAULT_VERSION).describe(`Helm release installed on every master from Helm's apt repository, pinned and held (default ${HELM_DEFAULT_VERSION}, the release Mooring tests)`),
  }).prefault({}).describe('Helm on every master (where the admin kubeconfig and the admin\'s tools live)'),
});

const keep = (what: string, n: number) => z.number().int().min(0).default(n).describe(`How many ${what} snapshots to keep (the newest of each period)`);
const Backup = z.strictObject({
  schedule: z.union([
    z.strictObject({ every: z.string().regex(/^\d+[mhd]$/, { error: 'must be an interval such as 30m, 6h or 1d' }).describe('Interval between backups, e.g. 30m, 6h, 1d') }),
    z.strictObject({ cron: z.string().min(9).describe('Five-field cron expression in UTC, e.g. "0 */6 * * *"') }),
  ], { error: 'must be { every: 6h } or { cron: "0 */6 * * *" }' }).describe('When the backup schedule runs: { every: 6h } or { cron: "0 */6 * * *" }'),
  retention: z.strictObject({
    keepLast: z.number().int().min(1).default(3).describe('Always keep this many newest verified snapshots'),
    hourly: keep('hourly', 24),
    daily: keep('daily', 7),
    weekly: keep('weekly', 4),
    monthly: keep('monthly', 6),
  }).prefault({}).describe('Which snapshots retention keeps, locally and in the bucket'),
  localDir: absPath.default('/var/backups/etcd').describe('Directory on the members where snapshots are taken and kept'),
  objectStore: z.strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: 'must be the S3 endpoint URL, e.g. https://s3.example.org' }).describe('S3 endpoint URL, e.g. https://s3.example.org'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name (lowercase letters, digits, dots, dashes)' }).describe('Bucket the encrypted snapshots go to'),
    region: z.string().min(1).default('us-east-1').describe('S3 region'),
    accessKey: SecretRef.describe('S3 access key id, by reference'),
    secretKey: SecretRef.describe('S3 secret access key, by reference'),
  }).describe('S3-compatible object storage for off-site copies'),
  encryptionKey: SecretRef.describe('Client-side encryption key of the snapshots (AES-256-GCM), by reference'),
});

const InventoryObject = z.strictObject({
  apiVersion: z.literal('mooring/v1', { error: 'must be "mooring/v1"' }).describe('Schema version: mooring/v1'),
  cluster: z.strictObject({ name: name.describe('Cluster name, used in workflow IDs and search attributes') }).describe('The cluster'),
  provider: Provider.describe('Where the hosts come from'),
  ssh: Ssh.describe('How Mooring reaches every host'),
  loadBalancer: LoadBalancer.describe('The API\'s virtual IP: keepalived + HAProxy'),
  gateways: z.array(Node).default([]).describe('Gateway hosts (two or more when loadBalancer.placement is gateways)'),
  masters: z.array(Node).min(1, { error: 'needs at least one master' }).describe('Control-plane hosts (at least one; an odd count with stacked etcd)'),
  workers: z.array(Node).default([]).describe('Worker hosts'),
  etcd: Etcd.describe('The etcd cluster'),
  kubernetes: Kubernetes.describe('The Kubernetes cluster'),
  backup: Backup.optional().describe('etcd backups: schedule, retention, off-site object store, encryption'),
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
    const os = inv.provider.openstack;
    const net = os.network.cidr;
    if (!inv.ssh.hostKeySeed) issue(['ssh', 'hostKeySeed'], 'Mooring creates the hosts on OpenStack and pins their SSH host keys from the start: give a secret to derive them from, e.g. { file: /etc/mooring/host-key-seed } holding 32 random bytes (openssl rand -base64 32)');
    if (!os.keyName && !os.publicKey) issue(['provider', 'openstack', 'publicKey'], "give the admin's SSH public key (imported as a key pair) or keyName, the name of an existing key pair");
    if (os.floatingIps === 'vip' && inv.loadBalancer.placement !== 'gateways') issue(['provider', 'openstack', 'floatingIps'], 'is "vip" but loadBalancer.placement is not "gateways": the VIP port is the gateways\' (use gateways or none)');
    if (os.floatingIps === 'gateways' && inv.gateways.length === 0) issue(['provider', 'openstack', 'floatingIps'], 'is "gateways" but no gateways are listed: list them, or use vip or none');
    if (isCidr(net) && isIPv4(inv.loadBalancer.vip) && !ipv4InCidr(inv.loadBalancer.vip, net)) issue(['loadBalancer', 'vip'], `${inv.loadBalancer.vip} is outside provider.openstack.network.cidr ${net}: the VIP is a port on that network`);
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
  if (inv.provider.type === 'proxmox') proxmoxRules(inv, groups, issue);
  clusterRangeRules(inv, groups, issue);
}

/** What provisioning on Proxmox VE needs beyond the field checks. */
function proxmoxRules(inv: z.output<typeof InventoryObject>, groups: readonly (readonly unknown[])[], issue: (path: (string | number)[], message: string) => void): void {
  if (inv.provider.type !== 'proxmox') return;
  const px = inv.provider.proxmox;
  const at = (...p: string[]) => ['provider', 'proxmox', ...p];
  if (!inv.ssh.hostKeySeed) issue(['ssh', 'hostKeySeed'], 'Mooring clones the hosts on Proxmox VE and pins their SSH host keys from the start: give a secret to derive them from, e.g. { file: /etc/mooring/host-key-seed } holding 32 random bytes (openssl rand -base64 32)');
  if (!px.vmids) issue(at('vmids'), 'reserve a VMID range for the cluster, e.g. { first: 500, last: 599 }');
  else if (px.vmids.first > px.vmids.last) issue(at('vmids', 'last'), `${px.vmids.last} is below vmids.first ${px.vmids.first}: the range is first..last`);
  else if (px.templateVmid >= px.vmids.first && px.templateVmid <= px.vmids.last) issue(at('templateVmid'), `${px.templateVmid} is inside provider.proxmox.vmids: keep the template outside the cluster's range`);
  if (!px.network) issue(at('network'), 'give the VMs\' network: { cidr: 10.0.1.0/24, gateway: 10.0.1.1, nameservers: [10.0.1.1] }');
  if (!px.publicKey) issue(at('publicKey'), 'give the admin\'s SSH public key (the .pub of ssh.privateKeyPath), installed through cloud-init');
  if (!px.snippets) issue(at('snippets'), 'name a snippets storage mounted on the worker, e.g. { storage: cephfs, localDir: /mnt/pve/cephfs }: it carries the pinned SSH host keys');
  if (px.caFile && px.fingerprint) issue(at('fingerprint'), 'give caFile or fingerprint, not both');
  // No URL class here: this module is also bundled into workflows.
  if (/^http:\/\//i.test(px.apiUrl) && !/^http:\/\/127\.\d+\.\d+\.\d+(:\d+)?\//i.test(px.apiUrl)) issue(at('apiUrl'), `${px.apiUrl} is plain HTTP: Proxmox VE serves HTTPS on 8006 (pin a self-signed certificate with caFile or fingerprint; plain HTTP is only for a loopback fake)`);
  const net = px.network?.cidr;
  if (net && isCidr(net)) {
    if (px.network && isIPv4(px.network.gateway) && !ipv4InCidr(px.network.gateway, net)) issue(at('network', 'gateway'), `${px.network.gateway} is outside provider.proxmox.network.cidr ${net}`);
    for (const g of groups) {
      const nodes = g[g.length - 1] as InventoryNode[];
      const base = g.slice(0, -1) as string[];
      nodes.forEach((n, i) => {
        if (isIPv4(n.ip) && !ipv4InCidr(n.ip, net)) issue([...base, i, 'ip'], `${n.ip} is outside provider.proxmox.network.cidr ${net}`);
        if (!n.size) issue([...base, i, 'size'], 'give the VM size { cpus, memoryGiB, diskGiB }: Mooring clones this host on Proxmox VE');
      });
    }
  }
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
