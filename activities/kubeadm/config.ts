// kubeadm's configuration file (InitConfiguration + ClusterConfiguration) from typed structures,
// never from hand-typed strings (seed 003 used the long-removed v1beta1). The API version follows
// the Kubernetes version: v1beta4 from 1.31 (kubeadm 1.31 introduced it; 1.37 still prefers it
// over its new v1), v1beta3 for 1.22-1.30 (1.22 introduced it; v1beta2 is gone since 1.27).
// Pure: the same input gives the same YAML, so a workflow may call it and history shows the file.
import { stringify } from 'yaml';
import type { Inventory } from '../../config/schema.js';
import { isCidr, isIPv4 } from '../../config/net.js';
import { KUBEADM_EXTERNAL_ETCD_PATHS } from '../pki/layout.js';

export type KubeadmApiVersion = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/** One command-line argument of a control-plane component, in order (v1beta4 keeps duplicates). */
export interface ComponentArg {
  name: string;
  value: string;
}

export type KubeadmEtcd =
  | { topology: 'stacked'; dataDir: string; /** etcd's quota-backend-bytes on every master's etcd. */ quotaBackendBytes?: number }
  | { topology: 'external'; endpoints: string[]; caFile: string; certFile: string; keyFile: string };

/** What kubeadm init needs to know about the cluster and the node it runs on. */
export interface KubeadmInitInput {
  clusterName: string;
  /** "1.36.3" or "v1.36.3". */
  kubernetesVersion: string;
  /** HOST:PORT of the load balancer every node uses for the API. */
  controlPlaneEndpoint: string;
  podSubnet: string;
  serviceSubnet: string;
  node: {
    name: string;
    /** The node's own address on the cluster network; never loopback. */
    advertiseAddress: string;
    bindPort?: number;
    criSocket?: string;
  };
  etcd: KubeadmEtcd;
  /** Extra subject alternative names for the apiserver certificate (the VIP, names). */
  certSANs?: string[];
  certificatesDir?: string;
  imageRepository?: string;
  apiServerExtraArgs?: ComponentArg[];
  controllerManagerExtraArgs?: ComponentArg[];
  schedulerExtraArgs?: ComponentArg[];
  /** Phases kubeadm init skips, e.g. "addon/kube-proxy". */
  skipPhases?: string[];
}

// The documents, typed per API version (the fields Mooring sets; names as in kubeadm's types.go).

interface NodeRegistrationV1beta4 {
  name: string;
  criSocket: string;
  taints?: Taint[];
}
interface Taint {
  key: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}
interface ControlPlaneComponentV1beta4 {
  extraArgs?: ComponentArg[];
}
interface ControlPlaneComponentV1beta3 {
  extraArgs?: Record<string, string>;
}
type EtcdSection =
  | { local: { dataDir: string; extraArgs?: ComponentArg[] | Record<string, string> } }
  | { external: { endpoints: string[]; caFile: string; certFile: string; keyFile: string } };

interface ClusterConfigurationCommon {
  kind: 'ClusterConfiguration';
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  certificatesDir: string;
  imageRepository: string;
  networking: { podSubnet: string; serviceSubnet: string; dnsDomain: string };
  etcd: EtcdSection;
}

export interface InitConfigurationV1beta4 {
  apiVersion: 'kubeadm.k8s.io/v1beta4';
  kind: 'InitConfiguration';
  localAPIEndpoint: { advertiseAddress: string; bindPort: number };
  nodeRegistration: NodeRegistrationV1beta4;
  skipPhases?: string[];
}
export interface ClusterConfigurationV1beta4 extends ClusterConfigurationCommon {
  apiVersion: 'kubeadm.k8s.io/v1beta4';
  apiServer: ControlPlaneComponentV1beta4 & { certSANs: string[] };
  controllerManager: ControlPlaneComponentV1beta4;
  scheduler: ControlPlaneComponentV1beta4;
}
export interface InitConfigurationV1beta3 {
  apiVersion: 'kubeadm.k8s.io/v1beta3';
  kind: 'InitConfiguration';
  localAPIEndpoint: { advertiseAddress: string; bindPort: number };
  nodeRegistration: NodeRegistrationV1beta4;
  skipPhases?: string[];
}
export interface ClusterConfigurationV1beta3 extends ClusterConfigurationCommon {
  apiVersion: 'kubeadm.k8s.io/v1beta3';
  apiServer: ControlPlaneComponentV1beta3 & { certSANs: string[] };
  controllerManager: ControlPlaneComponentV1beta3;
  scheduler: ControlPlaneComponentV1beta3;
}

export type KubeadmInitDocuments =
  | { apiVersion: 'kubeadm.k8s.io/v1beta4'; init: InitConfigurationV1beta4; cluster: ClusterConfigurationV1beta4 }
  | { apiVersion: 'kubeadm.k8s.io/v1beta3'; init: InitConfigurationV1beta3; cluster: ClusterConfigurationV1beta3 };

/** Bad input, named by its field, before anything is written. */
export class KubeadmConfigError extends Error {
  override name = 'KubeadmConfigError';
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;
const K8S_VERSION = /^v?(1)\.(\d+)\.(\d+)$/;
const ARG_NAME = /^[a-z0-9][a-z0-9-]*$/;
const DEFAULT_CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';
const DEFAULT_IMAGE_REPOSITORY = 'registry.k8s.io';
const DEFAULT_CERTIFICATES_DIR = '/etc/kubernetes/pki';

/** The minor of a Kubernetes version ("1.36.3" → 36), or a KubeadmConfigError naming `field`. */
export function kubernetesMinor(version: string, field = 'kubernetesVersion'): number {
  const m = K8S_VERSION.exec(version);
  if (!m) throw new KubeadmConfigError(`${field}: ${JSON.stringify(version)} is not a Kubernetes release such as 1.36.3`);
  return Number(m[2]);
}

/** The kubeadm configuration API that kubeadm of this Kubernetes version reads and prefers. */
export function kubeadmApiVersionFor(kubernetesVersion: string): KubeadmApiVersion {
  const minor = kubernetesMinor(kubernetesVersion);
  if (minor >= 31) return 'kubeadm.k8s.io/v1beta4';
  if (minor >= 22) return 'kubeadm.k8s.io/v1beta3';
  throw new KubeadmConfigError(`kubernetesVersion: ${JSON.stringify(kubernetesVersion)} is older than 1.22, whose kubeadm reads neither v1beta3 nor v1beta4: upgrade with that release's own tooling first`);
}

function check(input: KubeadmInitInput): void {
  const problems: string[] = [];
  const bad = (field: string, why: string) => problems.push(`${field}: ${why}`);
  const q = JSON.stringify;
  if (!DNS_LABEL.test(input.clusterName)) bad('clusterName', `${q(input.clusterName)} is not a DNS label (lowercase letters, digits, '-')`);
  if (!DNS_LABEL.test(input.node.name)) bad('node.name', `${q(input.node.name)} is not a DNS label (lowercase letters, digits, '-'): kubeadm makes it the Node's name`);
  const addr = input.node.advertiseAddress;
  if (!isIPv4(addr)) bad('node.advertiseAddress', `${q(addr)} is not an IPv4 address`);
  else if (addr.startsWith('127.')) bad('node.advertiseAddress', `${addr} is a loopback address: kubeadm reads it as "find a global address on lo" and fails; give the node's own interface address`);
  else if (addr === '0.0.0.0') bad('node.advertiseAddress', '0.0.0.0 is not an address other nodes can reach: give the node\'s own interface address');
  const port = input.node.bindPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) bad('node.bindPort', `${port} is not a port (1-65535)`);
  const [epHost, epPort, ...rest] = input.controlPlaneEndpoint.split(':');
  if (rest.length > 0 || !epHost || !epPort || !/^\d{1,5}$/.test(epPort) || Number(epPort) > 65535 || !(isIPv4(epHost) || DNS_NAME.test(epHost))) {
    bad('controlPlaneEndpoint', `${q(input.controlPlaneEndpoint)} is not HOST:PORT, e.g. 10.0.1.99:6443`);
  }
  if (!isCidr(input.podSubnet)) bad('podSubnet', `${q(input.podSubnet)} is not an IPv4 CIDR such as 10.244.0.0/16`);
  if (!isCidr(input.serviceSubnet)) bad('serviceSubnet', `${q(input.serviceSubnet)} is not an IPv4 CIDR such as 10.96.0.0/12`);
  for (const [field, path] of [['certificatesDir', input.certificatesDir], ['etcd.dataDir', input.etcd.topology === 'stacked' ? input.etcd.dataDir : undefined]] as const) {
    if (path !== undefined && !SAFE_PATH.test(path)) bad(field, `${q(path)} must be an absolute path of letters, digits, '.', '_', '-' and '/'`);
  }
  if (input.etcd.topology === 'stacked' && input.etcd.quotaBackendBytes !== undefined && !(Number.isSafeInteger(input.etcd.quotaBackendBytes) && input.etcd.quotaBackendBytes > 0)) {
    bad('etcd.quotaBackendBytes', `${input.etcd.quotaBackendBytes} is not a byte count: give a whole number of bytes, e.g. 8589934592 for 8 GiB`);
  }
  if (input.etcd.topology === 'external') {
    const e = input.etcd;
    if (e.endpoints.length === 0) bad('etcd.endpoints', 'external etcd needs at least one endpoint, e.g. https://10.0.1.11:2379');
    e.endpoints.forEach((u, i) => {
      const m = /^https:\/\/([^:/]+):(\d{1,5})$/.exec(u);
      if (!m || !(isIPv4(m[1] ?? '') || DNS_NAME.test(m[1] ?? ''))) bad(`etcd.endpoints[${i}]`, `${q(u)} is not https://HOST:PORT (external etcd is reached over TLS)`);
    });
    for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
      if (!SAFE_PATH.test(e[k])) bad(`etcd.${k}`, `${q(e[k])} must be an absolute path of letters, digits, '.', '_', '-' and '/'`);
    }
  }
  (input.certSANs ?? []).forEach((s, i) => {
    if (!isIPv4(s) && !DNS_NAME.test(s)) bad(`certSANs[${i}]`, `${q(s)} is neither an IPv4 address nor a DNS name`);
  });
  for (const field of ['apiServerExtraArgs', 'controllerManagerExtraArgs', 'schedulerExtraArgs'] as const) {
    (input[field] ?? []).forEach((a, i) => {
      if (!ARG_NAME.test(a.name)) bad(`${field}[${i}].name`, `${q(a.name)} is not a flag name (without leading dashes), e.g. audit-log-path`);
    });
  }
  if (problems.length > 0) throw new KubeadmConfigError(problems.join('\n'));
}

/** The flags as v1beta3's map; a flag given twice cannot be said there, so it is refused. */
function argsAsMap(args: ComponentArg[] | undefined, field: string): Record<string, string> | undefined {
  if (!args || args.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const a of args) {
    if (a.name in out) throw new KubeadmConfigError(`${field}: --${a.name} is given twice, which kubeadm's v1beta3 (Kubernetes before 1.31) cannot express: give it once`);
    out[a.name] = a.value;
  }
  return out;
}

const nonEmpty = <T>(xs: T[] | undefined): T[] | undefined => (xs && xs.length > 0 ? [...xs] : undefined);

/** The typed documents for `kubeadm init --config`, in the API version the release reads. */
export function kubeadmInitDocuments(input: KubeadmInitInput): KubeadmInitDocuments {
  const apiVersion = kubeadmApiVersionFor(input.kubernetesVersion);
  check(input);
  const kubernetesVersion = input.kubernetesVersion.startsWith('v') ? input.kubernetesVersion : `v${input.kubernetesVersion}`;
  // Stacked etcd runs from kubeadm's static-pod manifest: the quota goes in as an extra argument
  // (a list in v1beta4, a map in v1beta3, like the other components' extraArgs).
  const quota = input.etcd.topology === 'stacked' && input.etcd.quotaBackendBytes !== undefined
    ? [{ name: 'quota-backend-bytes', value: String(input.etcd.quotaBackendBytes) }] : undefined;
  const etcd: EtcdSection = input.etcd.topology === 'stacked'
    ? { local: { dataDir: input.etcd.dataDir, ...(quota ? { extraArgs: apiVersion === 'kubeadm.k8s.io/v1beta4' ? quota : argsAsMap(quota, 'etcd.quotaBackendBytes')! } : {}) } }
    : { external: { endpoints: [...input.etcd.endpoints], caFile: input.etcd.caFile, certFile: input.etcd.certFile, keyFile: input.etcd.keyFile } };
  const common: ClusterConfigurationCommon = {
    kind: 'ClusterConfiguration',
    clusterName: input.clusterName,
    kubernetesVersion,
    controlPlaneEndpoint: input.controlPlaneEndpoint,
    certificatesDir: input.certificatesDir ?? DEFAULT_CERTIFICATES_DIR,
    imageRepository: input.imageRepository ?? DEFAULT_IMAGE_REPOSITORY,
    networking: { podSubnet: input.podSubnet, serviceSubnet: input.serviceSubnet, dnsDomain: 'cluster.local' },
    etcd,
  };
  const certSANs = [...new Set(input.certSANs ?? [])];
  const node = {
    localAPIEndpoint: { advertiseAddress: input.node.advertiseAddress, bindPort: input.node.bindPort ?? 6443 },
    nodeRegistration: {
      name: input.node.name,
      criSocket: input.node.criSocket ?? DEFAULT_CRI_SOCKET,
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' as const }],
    },
    ...(nonEmpty(input.skipPhases) ? { skipPhases: nonEmpty(input.skipPhases) } : {}),
  };
  if (apiVersion === 'kubeadm.k8s.io/v1beta4') {
    const comp = (args: ComponentArg[] | undefined): ControlPlaneComponentV1beta4 => {
      const extraArgs = nonEmpty(args)?.map((a) => ({ name: a.name, value: a.value }));
      return extraArgs ? { extraArgs } : {};
    };
    return {
      apiVersion,
      init: { apiVersion, kind: 'InitConfiguration', ...node },
      cluster: {
        apiVersion,
        ...common,
        apiServer: { ...comp(input.apiServerExtraArgs), certSANs },
        controllerManager: comp(input.controllerManagerExtraArgs),
        scheduler: comp(input.schedulerExtraArgs),
      },
    };
  }
  const comp = (args: ComponentArg[] | undefined, field: string): ControlPlaneComponentV1beta3 => {
    const extraArgs = argsAsMap(args, field);
    return extraArgs ? { extraArgs } : {};
  };
  return {
    apiVersion,
    init: { apiVersion, kind: 'InitConfiguration', ...node },
    cluster: {
      apiVersion,
      ...common,
      apiServer: { ...comp(input.apiServerExtraArgs, 'apiServerExtraArgs'), certSANs },
      controllerManager: comp(input.controllerManagerExtraArgs, 'controllerManagerExtraArgs'),
      scheduler: comp(input.schedulerExtraArgs, 'schedulerExtraArgs'),
    },
  };
}

/** The file for `kubeadm init --config` / `kubeadm config validate --config`: two YAML documents. */
export function renderKubeadmInitConfig(input: KubeadmInitInput): string {
  const docs = kubeadmInitDocuments(input);
  return [docs.init, docs.cluster].map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/**
 * kubeadm init's input for one master of an inventory: the master's address, the load balancer
 * as the control plane endpoint (the VIP and the master's own address in the certificate), and the
 * inventory's etcd: local on the masters (stacked) or the external members over TLS with the
 * apiserver's client certificate where Mooring's PKI lays it down.
 */
export function kubeadmInitInputFromInventory(inv: Inventory, masterName: string): KubeadmInitInput {
  const master = inv.masters.find((m) => m.name === masterName);
  if (!master) {
    throw new KubeadmConfigError(`master: ${JSON.stringify(masterName)} is not one of the inventory's masters (${inv.masters.map((m) => m.name).join(', ')})`);
  }
  const etcd: KubeadmEtcd = inv.etcd.topology === 'stacked'
    ? { topology: 'stacked', dataDir: inv.etcd.dataDir, ...(inv.etcd.quotaBackendBytes !== undefined ? { quotaBackendBytes: inv.etcd.quotaBackendBytes } : {}) }
    : {
        topology: 'external',
        endpoints: inv.etcd.members.map((m) => `https://${m.ip}:${inv.etcd.clientPort}`),
        ...KUBEADM_EXTERNAL_ETCD_PATHS,
      };
  return {
    clusterName: inv.cluster.name,
    kubernetesVersion: inv.kubernetes.version,
    controlPlaneEndpoint: inv.kubernetes.controlPlaneEndpoint,
    podSubnet: inv.kubernetes.podSubnet,
    serviceSubnet: inv.kubernetes.serviceSubnet,
    node: { name: master.name, advertiseAddress: master.ip },
    etcd,
    certSANs: [inv.loadBalancer.vip, master.ip, master.name],
  };
}
