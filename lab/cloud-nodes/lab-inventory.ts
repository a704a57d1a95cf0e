// SIMULATED lab: a seed's OpenStack inventory adapted to the lab behind the fake cloud (validate it with parseInventory). The shape
// stays the seed's (hosts, roles, names, flavors, floating IPs, bastion); what changes is what the
// lab must own: the private network is the lab LAN 10.77.<lan>.0/24 with each host at a fixed
// octet per role (gateways .2+, masters .11+, workers .21+, external etcd .31+, VIP .100), the
// bastion is gateway 1's floating IP (<loopback>.2, see openstack.ts), root logs in with the lab's
// operator key (imported as the key pair), and Kubernetes and etcd are releases the lab has built.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { etcdCacheDir } from '../../client/tools.js';
import { BARE_SKIP_PHASES } from '../netns/bare.js';
import { nodeAddress, VIP_OCTET, type NetnsLayout } from '../netns/topology.js';

const FIRST_OCTET = { gateways: 2, masters: 11, workers: 21, etcd: 31 } as const;
const LAB_ETCD = '3.6.16';

interface SeedNode { name: string; ip: string; size?: unknown }
/** The parts of a seed's inventory the adaptation reads; the result is validated by parseInventory. */
interface Seed {
  cluster: { name: string };
  provider?: { type?: string; openstack?: { network: { name: string }; cloud?: string } & Record<string, unknown> };
  loadBalancer?: { apiPort?: number } & Record<string, unknown>;
  gateways?: SeedNode[]; masters?: SeedNode[]; workers?: SeedNode[];
  etcd?: { topology?: string; members?: SeedNode[] };
  kubernetes?: Record<string, unknown>;
}

export function labInventoryFromSeed(seedFile: string, o: {
  layout: NetnsLayout;
  /** The lab operator's key: root's key on every machine (imported as provider.openstack.keyName). */
  privateKeyPath: string;
  publicKey: string;
  kubernetesVersion: string;
  /** The host-key seed's reference (a SecretRef), e.g. { env: 'MOORING_HOST_KEY_SEED' }. */
  hostKeySeed: { env: string } | { file: string };
}): Record<string, unknown> {
  const seed = parse(readFileSync(seedFile, 'utf8')) as Seed;
  const os = seed.provider?.openstack;
  if (seed.provider?.type !== 'openstack' || !os) throw new Error(`${seedFile}: provider.type is not openstack`);
  const at = (role: keyof typeof FIRST_OCTET, list: SeedNode[] | undefined) => (list ?? []).map((n, i) => {
    const { size, name } = n;
    return { name, ip: nodeAddress(o.layout, FIRST_OCTET[role] + i), ...(size ? { size } : {}) };
  });
  const gateways = at('gateways', seed.gateways);
  const vip = nodeAddress(o.layout, VIP_OCTET);
  const external = seed.etcd?.topology === 'external';
  const apiPort = seed.loadBalancer?.apiPort ?? 6443;
  const openstack = { ...os };
  delete openstack.cloud; // credentials: the OS_* variables of the worker
  return {
    apiVersion: 'mooring/v1',
    cluster: seed.cluster,
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
      ...(gateways.length ? { bastion: { host: `${o.layout.loopback}.${FIRST_OCTET.gateways}`, port: 22 } } : {}),
    },
    loadBalancer: { ...seed.loadBalancer, vip, apiPort },
    gateways,
    etcd: external
      ? { version: LAB_ETCD, topology: 'external', members: at('etcd', seed.etcd?.members), binaries: { source: `${etcdCacheDir()}/{version}`, installDir: '/usr/local/sbin' } }
      : { version: LAB_ETCD, topology: 'stacked' },
    masters: at('masters', seed.masters),
    workers: at('workers', seed.workers),
    kubernetes: {
      ...seed.kubernetes, version: o.kubernetesVersion, controlPlaneEndpoint: `${vip}:${apiPort}`,
      kubeadmSkipPhases: [...BARE_SKIP_PHASES],
    },
  };
}
