// SIMULATED lab: a seed's inventory adapted to the lab behind a fake cloud (validate the result
// with parseInventory). The shape stays the seed's (hosts, roles, names, sizes, flavors, floating
// IPs, VIP placement and port); what changes is what the lab must own: the private network is the
// lab LAN 10.77.<lan>.0/24 with each host at a fixed octet per role (gateways .2+, masters .11+,
// workers .21+, external etcd .31+, VIP .100), root logs in with the lab's operator key, the way
// in is a loopback address of this machine (OpenStack: gateway 1's floating IP <loopback>.2, see
// openstack.ts; Proxmox: the first master's entry, proxmox.ts), and Kubernetes and etcd are
// releases the lab has built.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { etcdCacheDir } from '../../client/tools.js';
import { BARE_SKIP_PHASES, labAddonRollout } from '../netns/bare.js';
import { nodeAddress, VIP_OCTET, type NetnsLayout } from '../netns/topology.js';

const FIRST_OCTET = { gateways: 2, masters: 11, workers: 21, etcd: 31 } as const;
const LAB_ETCD = '3.6.16';

interface SeedNode { name: string; ip: string; size?: unknown }
/** The parts of a seed's inventory the adaptation reads; the result is validated by parseInventory. */
interface Seed {
  cluster: { name: string };
  provider?: { type?: string; openstack?: { network: { name: string }; cloud?: string } & Record<string, unknown>; proxmox?: Record<string, unknown> };
  loadBalancer?: { apiPort?: number } & Record<string, unknown>;
  gateways?: SeedNode[]; masters?: SeedNode[]; workers?: SeedNode[];
  etcd?: { topology?: string; members?: SeedNode[] };
  kubernetes?: Record<string, unknown>;
}

interface LabOptions {
  layout: NetnsLayout;
  /** The lab operator's key: root's key on every machine (the cloud's key pair / sshkeys). */
  privateKeyPath: string;
  publicKey: string;
  kubernetesVersion: string;
  /** The host-key seed's reference (a SecretRef), e.g. { env: 'MOORING_HOST_KEY_SEED' }. */
  hostKeySeed: { env: string } | { file: string };
}

function readSeed(seedFile: string, provider: 'openstack' | 'proxmox'): Seed {
  const seed = parse(readFileSync(seedFile, 'utf8')) as Seed;
  if (seed.provider?.type !== provider || !seed.provider[provider]) throw new Error(`${seedFile}: provider.type is not ${provider}`);
  return seed;
}

/** Hosts, VIP, etcd and Kubernetes of the seed on the lab LAN, with the lab's releases. */
function labCluster(seed: Seed, o: LabOptions) {
  const at = (role: keyof typeof FIRST_OCTET, list: SeedNode[] | undefined) => (list ?? []).map((n, i) => {
    const { size, name } = n;
    return { name, ip: nodeAddress(o.layout, FIRST_OCTET[role] + i), ...(size ? { size } : {}) };
  });
  const vip = nodeAddress(o.layout, VIP_OCTET);
  const apiPort = seed.loadBalancer?.apiPort ?? 6443;
  return {
    apiVersion: 'mooring/v1',
    cluster: seed.cluster,
    loadBalancer: { ...seed.loadBalancer, vip, apiPort },
    gateways: at('gateways', seed.gateways),
    etcd: seed.etcd?.topology === 'external'
      ? { version: LAB_ETCD, topology: 'external', members: at('etcd', seed.etcd.members), binaries: { source: `${etcdCacheDir()}/{version}`, installDir: '/usr/local/sbin' } }
      : { version: LAB_ETCD, topology: 'stacked' },
    masters: at('masters', seed.masters),
    workers: at('workers', seed.workers),
    kubernetes: { ...seed.kubernetes, version: o.kubernetesVersion, controlPlaneEndpoint: `${vip}:${apiPort}`, kubeadmSkipPhases: [...BARE_SKIP_PHASES], addonRollout: labAddonRollout() },
  };
}

/** A seed's OpenStack inventory on the lab behind the OpenStack fake (startOpenStackLab). */
export function labInventoryFromSeed(seedFile: string, o: LabOptions): Record<string, unknown> {
  const seed = readSeed(seedFile, 'openstack');
  const os = seed.provider!.openstack!;
  const c = labCluster(seed, o);
  const openstack = { ...os };
  delete openstack.cloud; // credentials: the OS_* variables of the worker
  return {
    ...c,
    provider: {
      type: 'openstack',
      openstack: {
        ...openstack,
        network: { name: os.network.name, cidr: `${nodeAddress(o.layout, 0)}/24` },
        floatingNetwork: 'public',
        keyName: `${seed.cluster.name}-lab-operator`, publicKey: o.publicKey,
      },
    },
    ssh: {
      user: 'root', privateKeyPath: o.privateKeyPath, connectTimeoutSeconds: 10, hostKeySeed: o.hostKeySeed,
      ...(c.gateways.length ? { bastion: { host: `${o.layout.loopback}.${FIRST_OCTET.gateways}`, port: 22 } } : {}),
    },
  };
}

/**
 * A seed's Proxmox inventory on the lab behind the Proxmox fake (startProxmoxLab): the fake's URL
 * and token, its storages and snippets directory; the first master is the SSH way in (its
 * loopback entry), pinned with the key Mooring derives for it (`bastionHostKey`).
 */
export function labProxmoxInventoryFromSeed(seedFile: string, o: LabOptions & {
  proxmox: { apiUrl: string; tokenId: string; tokenSecret: { env: string }; nodes: string[]; snippets: { storage: string; localDir: string } };
  bastionHostKey: string;
}): Record<string, unknown> {
  const seed = readSeed(seedFile, 'proxmox');
  const c = labCluster(seed, o);
  const px = { ...seed.provider!.proxmox! };
  delete px.fingerprint; // the fake speaks plain HTTP on loopback: no certificate to pin
  delete px.caFile;
  const gateway = nodeAddress(o.layout, 1);
  return {
    ...c,
    provider: {
      type: 'proxmox',
      proxmox: { ...px, ...o.proxmox, network: { cidr: `${nodeAddress(o.layout, 0)}/24`, gateway, nameservers: [gateway] }, publicKey: o.publicKey, agentTimeoutSeconds: 120 },
    },
    ssh: {
      user: 'root', privateKeyPath: o.privateKeyPath, connectTimeoutSeconds: 10, hostKeySeed: o.hostKeySeed,
      bastion: { host: `${o.layout.loopback}.${FIRST_OCTET.masters}`, port: 22, hostKey: o.bastionHostKey },
    },
  };
}
