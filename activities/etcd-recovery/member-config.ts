// The etcd member config file (/etc/etcd/etcd.conf.yaml), generated from a typed structure so the
// seed's misspellings (`initial-cluster-state:exisiting`) cannot happen. Keys are etcd's config
// file keys (etcd --config-file), as in seed 001. Only keys that etcd 3.4, 3.5 and 3.6 all take
// (3.6 dropped `enable-v2` and renamed the `experimental-*` ones: none is written here;
// `quota-backend-bytes` has kept its name and meaning from 3.4 to 3.6).
import { stringify } from 'yaml';
import type { EtcdSettings } from './context.js';
import { clientUrl, peerUrl } from './etcdctl.js';

export interface MemberConfigInput {
  name: string;
  ip: string;
  /** Every member the new member must know, itself included. */
  initialCluster: { name: string; ip: string }[];
  state: 'new' | 'existing';
  /** Only meaningful for a new cluster; a restore uses a fresh one so old members cannot rejoin. */
  clusterToken: string;
}

export function renderMemberConfig(etcd: EtcdSettings, m: MemberConfigInput): string {
  const config = {
    name: m.name,
    'data-dir': etcd.dataDir,
    'listen-client-urls': `${clientUrl(m.ip, etcd.clientPort)}`,
    'advertise-client-urls': clientUrl(m.ip, etcd.clientPort),
    'listen-peer-urls': peerUrl(m.ip, etcd.peerPort),
    'initial-advertise-peer-urls': peerUrl(m.ip, etcd.peerPort),
    'initial-cluster': m.initialCluster.map((x) => `${x.name}=${peerUrl(x.ip, etcd.peerPort)}`).join(','),
    'initial-cluster-token': m.clusterToken,
    'initial-cluster-state': m.state,
    // Every member gets the same quota, a restored or re-added one included: a member whose quota
    // is below the data it holds raises NOSPACE and the cluster refuses writes.
    ...(etcd.quotaBackendBytes !== undefined ? { 'quota-backend-bytes': etcd.quotaBackendBytes } : {}),
    'client-transport-security': {
      'cert-file': etcd.serverCert, 'key-file': etcd.serverKey, 'trusted-ca-file': etcd.tls.caCert, 'client-cert-auth': true,
    },
    'peer-transport-security': {
      'cert-file': etcd.peerCert, 'key-file': etcd.peerKey, 'trusted-ca-file': etcd.tls.caCert, 'client-cert-auth': true,
    },
  };
  return `# Written by Mooring (${m.state === 'new' ? 'new cluster' : 'joining an existing cluster'}); do not edit by hand.\n${stringify(config)}`;
}
