// Certificates for etcd and for kube-apiserver's connection to it. Seed 001 lost days to etcd
// refusing hand-made OpenSSL certificates; its lessons are encoded here, once, in PROFILES and in
// the SAN lists, so no caller can get them wrong again.
import type { InventoryNode } from '../../config/schema.js';
import {
  type CertificateAndKey,
  type Usages,
  signCertificateAuthority,
  signLeaf,
  validateDnsName,
  validateIp,
  validateIps,
} from './sign.js';

export type { CertificateAndKey } from './sign.js';
export type CertificateAuthority = CertificateAndKey;
export type IssuedCertificate = CertificateAndKey;
export type CertificateKind = 'server' | 'peer' | 'client';

export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** kube-apiserver's identity towards etcd: the CN kubeadm itself gives this certificate. */
export const APISERVER_ETCD_CLIENT_CN = 'kube-apiserver-etcd-client';

// keyEncipherment because with RSA key exchange the client encrypts the premaster secret to the
// server's key; etcd's Go TLS checks the extended usages: serverAuth on whatever it presents as a
// listener, clientAuth on whatever a client (or a peer dialing in) presents. A peer is both.
const PROFILES: Record<CertificateKind, Usages> = {
  server: { keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['serverAuth'] },
  client: { keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['clientAuth'] },
  peer: { keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['serverAuth', 'clientAuth'] },
};

export interface CertificateRequest {
  kind: CertificateKind;
  commonName: string;
  organization?: string;
  /** Every IPv4 address the holder is reached at (server and peer). */
  ips?: readonly string[];
  /** Every host name the holder is reached by (server and peer). */
  dnsNames?: readonly string[];
  validityDays?: number;
}

export function createCertificateAuthority(spec: { commonName: string; validityDays?: number }): Promise<CertificateAuthority> {
  return signCertificateAuthority({ commonName: spec.commonName, validityDays: spec.validityDays ?? CA_VALIDITY_DAYS });
}

export async function issueCertificate(ca: CertificateAuthority, req: CertificateRequest): Promise<IssuedCertificate> {
  const ips = req.ips ?? [];
  const dnsNames = req.dnsNames ?? [];
  // Go (etcd, kube-apiserver) matches host names against SANs only and ignores the CN, so a
  // listener certificate without SANs cannot be verified by anyone.
  if (req.kind !== 'client' && ips.length === 0 && dnsNames.length === 0) {
    throw new Error(`ips: a ${req.kind} certificate needs every address it is reached at in ips or dnsNames`);
  }
  return signLeaf(ca, {
    ...PROFILES[req.kind],
    commonName: req.commonName,
    ...(req.organization !== undefined ? { organization: req.organization } : {}),
    ips,
    dnsNames,
    validityDays: req.validityDays ?? LEAF_VALIDITY_DAYS,
  });
}

export type EtcdMember = Pick<InventoryNode, 'name' | 'ip'>;

/** What one etcd member keeps in /etc/etcd/ssl/. */
export interface EtcdCertificateSet {
  caCertPem: string;
  server: IssuedCertificate;
  peer: IssuedCertificate;
  /** For etcdctl on the member itself (health, snapshots, member changes); never the peer pair. */
  client: IssuedCertificate;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/**
 * A member listens on its own address and on loopback (where etcdctl on the host reaches it), and
 * may be reached at extra addresses (a floating IP, a second interface): all of them go in the SANs.
 */
export async function etcdCertificateSet(
  ca: CertificateAuthority,
  member: EtcdMember,
  extraIps: readonly string[] = [],
  options: { validityDays?: number } = {},
): Promise<EtcdCertificateSet> {
  validateDnsName(member.name, 'member.name');
  validateIp(member.ip, 'member.ip');
  validateIps(extraIps, 'extraIps');
  const clientCn = `${member.name}-client`;
  // The client CN carries a suffix and X.520 caps a CN at 64 characters.
  if (clientCn.length > 64) throw new Error(`member.name: ${JSON.stringify(member.name)} is too long for a certificate name: use at most 57 characters`);
  const ips = unique([member.ip, '127.0.0.1', ...extraIps]);
  const dnsNames = unique([member.name, 'localhost']);
  const common = { ips, dnsNames, ...(options.validityDays !== undefined ? { validityDays: options.validityDays } : {}) };
  const [server, peer, client] = await Promise.all([
    issueCertificate(ca, { kind: 'server', commonName: member.name, ...common }),
    issueCertificate(ca, { kind: 'peer', commonName: member.name, ...common }),
    issueCertificate(ca, {
      kind: 'client',
      commonName: clientCn,
      ...(options.validityDays !== undefined ? { validityDays: options.validityDays } : {}),
    }),
  ]);
  return { caCertPem: ca.certPem, server, peer, client };
}

/** The client certificate kube-apiserver presents to an external etcd (kubeadm's apiserver-etcd-client). */
export function apiserverEtcdClient(ca: CertificateAuthority, options: { validityDays?: number } = {}): Promise<IssuedCertificate> {
  return issueCertificate(ca, {
    kind: 'client',
    commonName: APISERVER_ETCD_CLIENT_CN,
    ...(options.validityDays !== undefined ? { validityDays: options.validityDays } : {}),
  });
}
