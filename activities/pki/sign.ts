// The one place a certificate is assembled and signed. It takes usages as given: which usages an
// etcd certificate needs is decided once, in certificates.ts. Only tests call this directly, to
// build the deliberately wrong certificates that prove etcd refuses them.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { isIPv4 } from '../../config/net.js';

/** PEM-encoded certificate and its PKCS#8 private key. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

export interface Usages {
  keyUsage: readonly KeyUsage[];
  extKeyUsage: readonly ExtKeyUsage[];
}

export interface LeafSpec extends Usages {
  commonName: string;
  organization?: string;
  ips: readonly string[];
  dnsNames: readonly string[];
  validityDays: number;
}

// RFC 1123 host names, lowercase like the inventory's names; no wildcards, a member is one host.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DAY_MS = 24 * 60 * 60 * 1000;
// Hosts whose clocks lag the worker's would otherwise see a certificate that is not valid yet.
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_VALIDITY_DAYS = 100 * 365;

const generateRsaKeyPair = promisify(generateKeyPair);

// Node generates the key natively on the thread pool: pure-JS RSA generation would stall the
// worker's event loop (and its heartbeats) for seconds.
async function newRsaKey(): Promise<{ publicKey: forge.pki.rsa.PublicKey; keyPem: string }> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey), keyPem: privateKey };
}

// A DER INTEGER is signed and minimal: clearing the top bit keeps the serial positive, setting the
// next one keeps a leading zero byte (non-minimal encoding, rejected by strict parsers) away.
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

export function validateValidityDays(days: number, field = 'validityDays'): void {
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new Error(`${field}: ${JSON.stringify(days)} must be a whole number of days between 1 and ${MAX_VALIDITY_DAYS}`);
  }
}

export function validateCommonName(cn: string, field = 'commonName'): void {
  // X.520 caps a common name at 64 characters; longer ones are rejected by some TLS stacks.
  if (cn.trim() === '' || cn.length > 64) {
    throw new Error(`${field}: ${JSON.stringify(cn)} must be 1 to 64 characters`);
  }
}

export function validateIp(ip: string, field: string): void {
  if (!isIPv4(ip)) throw new Error(`${field}: ${JSON.stringify(ip)} is not an IPv4 address`);
}

export function validateIps(ips: readonly string[], field = 'ips'): void {
  ips.forEach((ip, i) => validateIp(ip, `${field}[${i}]`));
}

export function validateDnsName(name: string, field: string): void {
  if (!DNS_NAME.test(name)) {
    throw new Error(`${field}: ${JSON.stringify(name)} is not a host name: use lowercase letters, digits, '-' and '.'`);
  }
}

export function validateDnsNames(names: readonly string[], field = 'dnsNames'): void {
  names.forEach((n, i) => validateDnsName(n, `${field}[${i}]`));
}

function validityWindow(days: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

function subject(commonName: string, organization?: string): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [{ shortName: 'CN', value: commonName }];
  if (organization !== undefined) attrs.push({ shortName: 'O', value: organization });
  return attrs;
}

function flags(names: readonly string[]): Record<string, true> {
  return Object.fromEntries(names.map((n) => [n, true]));
}

export async function signCertificateAuthority(spec: { commonName: string; validityDays: number }): Promise<CertificateAndKey> {
  validateCommonName(spec.commonName);
  validateValidityDays(spec.validityDays);
  const { publicKey, keyPem } = await newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  Object.assign(cert.validity, validityWindow(spec.validityDays));
  cert.setSubject(subject(spec.commonName));
  cert.setIssuer(subject(spec.commonName));
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

interface LoadedCa {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

// Catch a mismatched or non-CA pair here: otherwise every certificate it signs fails later, on
// the hosts, with an error far from its cause.
function loadCa(ca: CertificateAndKey): LoadedCa {
  let cert: forge.pki.Certificate;
  let key: forge.pki.rsa.PrivateKey;
  try {
    cert = forge.pki.certificateFromPem(ca.certPem);
  } catch (e) {
    throw new Error(`ca.certPem: not a PEM certificate forge can read (${(e as Error).message})`);
  }
  try {
    key = forge.pki.privateKeyFromPem(ca.keyPem);
  } catch (e) {
    throw new Error(`ca.keyPem: not an RSA private key in PEM (${(e as Error).message})`);
  }
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (bc?.cA !== true) throw new Error('ca.certPem: is not a CA certificate (basicConstraints cA is not true)');
  const pub = cert.publicKey as forge.pki.rsa.PublicKey;
  if (!pub.n || pub.n.compareTo(key.n) !== 0) throw new Error('ca.keyPem: does not belong to ca.certPem');
  return { cert, key };
}

function authorityKeyId(caCert: forge.pki.Certificate): string {
  const ski = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ski?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : caCert.generateSubjectKeyIdentifier().getBytes();
}

export async function signLeaf(ca: CertificateAndKey, spec: LeafSpec): Promise<CertificateAndKey> {
  validateCommonName(spec.commonName);
  if (spec.organization !== undefined) validateCommonName(spec.organization, 'organization');
  validateIps(spec.ips);
  validateDnsNames(spec.dnsNames);
  validateValidityDays(spec.validityDays);
  if (spec.keyUsage.length === 0) throw new Error('keyUsage: a leaf certificate needs at least one key usage');
  const issuer = loadCa(ca);
  const window = validityWindow(spec.validityDays);
  // A leaf that outlives its CA stops verifying when the CA expires, silently, on every host.
  if (window.notAfter > issuer.cert.validity.notAfter) {
    throw new Error(`validityDays: ${spec.validityDays} days would outlive the CA (valid until ${issuer.cert.validity.notAfter.toISOString()}): shorten validityDays or rotate the CA`);
  }

  const { publicKey, keyPem } = await newRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  Object.assign(cert.validity, window);
  cert.setSubject(subject(spec.commonName, spec.organization));
  cert.setIssuer(issuer.cert.subject.attributes);
  const altNames = [
    ...spec.ips.map((ip) => ({ type: 7, ip })),
    ...spec.dnsNames.map((value) => ({ type: 2, value })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, ...flags(spec.keyUsage) },
    ...(spec.extKeyUsage.length > 0 ? [{ name: 'extKeyUsage', ...flags(spec.extKeyUsage) }] : []),
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId(issuer.cert) },
  ]);
  cert.sign(issuer.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
