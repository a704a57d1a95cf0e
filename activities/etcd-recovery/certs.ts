// Laying down a replaced node's etcd certificates: the CA certificate is read from a healthy
// member (what the cluster trusts now), the CA key is resolved from its reference (etcd.tls.caKey)
// and must belong to that certificate, and a fresh server, peer and client set is issued for the
// node's name and address and written atomically at the inventory's paths.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { dirname } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { etcdCertificateSet } from '../pki/certificates.js';
import { CERT_MODE, KEY_MODE } from '../pki/layout.js';
import { resolveSecret } from '../secrets.js';
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import type { EtcdMemberRef, EtcdSettings } from './context.js';

/** The CA (certificate from the cluster, key from its reference), checked to be one pair. */
export async function clusterCa(etcd: EtcdSettings, viaSession: SshSession, signal: AbortSignal): Promise<{ certPem: string; keyPem: string }> {
  if (!etcd.caKey) {
    throw ApplicationFailure.nonRetryable('the node has no etcd certificates and etcd.tls.caKey is not set: add the CA key by reference ({ file: /path/ca.key } or { env: NAME }) so Mooring can issue them, or copy them there by hand', 'PreconditionFailed');
  }
  const certPem = await viaSession.run(sh`cat ${etcd.tls.caCert}`, { timeoutMs: 15_000, signal });
  const keyPem = (await resolveSecret(etcd.caKey, 'etcd.tls.caKey')).toString('utf8');
  let matches = false;
  try {
    const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
    matches = spki(new X509Certificate(certPem).publicKey).equals(spki(createPublicKey(createPrivateKey(keyPem))));
  } catch {
    matches = false;
  }
  if (!matches) throw ApplicationFailure.nonRetryable(`etcd.tls.caKey is not the key of the CA the cluster trusts (${etcd.tls.caCert} on ${viaSession.target.name}): fix the reference`, 'InvalidInput');
  return { certPem, keyPem };
}

/** Issues and writes the node's certificate set; returns the paths written. */
export async function layDownCerts(s: SshSession, etcd: EtcdSettings, ca: { certPem: string; keyPem: string }, host: EtcdMemberRef, signal: AbortSignal): Promise<string[]> {
  const set = await etcdCertificateSet(ca, { name: host.name, ip: host.ip });
  const files = [
    { path: etcd.tls.caCert, contents: set.caCertPem, mode: CERT_MODE },
    { path: etcd.serverCert, contents: set.server.certPem, mode: CERT_MODE },
    { path: etcd.serverKey, contents: set.server.keyPem, mode: KEY_MODE },
    { path: etcd.peerCert, contents: set.peer.certPem, mode: CERT_MODE },
    { path: etcd.peerKey, contents: set.peer.keyPem, mode: KEY_MODE },
    { path: etcd.tls.clientCert, contents: set.client.certPem, mode: CERT_MODE },
    { path: etcd.tls.clientKey, contents: set.client.keyPem, mode: KEY_MODE },
  ];
  const dirs = [...new Set(files.map((f) => dirname(f.path)))];
  await s.run(sh`mkdir -p ${dirs}`, { timeoutMs: 15_000, signal });
  // Keys last: a crash in between leaves certificates without keys, which the presence check
  // reports as absent, so a retry issues the whole set again.
  for (const f of [...files].sort((a, b) => Number(a.mode === KEY_MODE) - Number(b.mode === KEY_MODE))) {
    await s.upload(f.path, f.contents, { mode: f.mode, timeoutMs: 15_000, signal });
  }
  return files.map((f) => f.path);
}
