// SIMULATED kubelet (lab only), but the protocol is the real one: the kubelet's TLS bootstrap that
// `kubeadm join` relies on. With the bootstrap token from bootstrap-kubelet.conf it creates a
// CertificateSigningRequest for system:node:<name> (O=system:nodes, signer
// kubernetes.io/kube-apiserver-client-kubelet), waits until kube-controller-manager's csrapproving
// controller approves it (kubeadm's RBAC allows the bootstrap token's group to) and csrsigning
// issues the certificate, then writes /var/lib/kubelet/pki/kubelet-client-<time>.pem (certificate
// and key), points kubelet-client-current.pem at it and writes kubelet.conf using it, as the
// kubelet does. RSA 2048 rather than the kubelet's ECDSA P-256: node-forge (already a dependency)
// signs CSRs with RSA only; the approver accepts both.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { ApiClient } from './api-client.js';
import { readKubeconfig, renderKubeletKubeconfig } from './kubeconfig.js';

interface Csr {
  metadata: { name: string };
  status?: { certificate?: string; conditions?: { type: string; message?: string }[] };
}

export function nodeCsrPem(nodeName: string, keyPem: string): string {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'organizationName', value: 'system:nodes' }, { name: 'commonName', value: `system:node:${nodeName}` }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

const writeAtomic = (file: string, text: string, mode = 0o600) => {
  writeFileSync(`${file}.tmp`, text, { mode });
  renameSync(`${file}.tmp`, file);
};

export interface BootstrapOptions {
  nodeName: string;
  bootstrapKubeconfig: string;
  kubeconfig: string;
  stateDir: string;
  log: (m: string) => void;
  /** Stop waiting (the kubelet is shutting down). */
  cancelled: () => boolean;
}

export async function tlsBootstrap(o: BootstrapOptions): Promise<void> {
  const creds = readKubeconfig(o.bootstrapKubeconfig);
  const api = new ApiClient(creds);
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const request = Buffer.from(nodeCsrPem(o.nodeName, privateKey)).toString('base64');
    const csr = await api.post<Csr>('/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'node-csr-' },
      spec: { request, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'key encipherment', 'client auth'] },
    });
    o.log(`TLS bootstrap: CertificateSigningRequest ${csr.metadata.name} for system:node:${o.nodeName} created; waiting for approval and signing`);
    let cert: string | undefined;
    while (!cert) {
      if (o.cancelled()) throw new Error('TLS bootstrap cancelled');
      await new Promise((r) => setTimeout(r, 1000));
      const now = await api.get<Csr>(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${csr.metadata.name}`);
      const refused = now.status?.conditions?.find((c) => c.type === 'Denied' || c.type === 'Failed');
      if (refused) throw new Error(`TLS bootstrap: ${csr.metadata.name} ${refused.type}: ${refused.message ?? ''}`);
      if (now.status?.certificate) cert = Buffer.from(now.status.certificate, 'base64').toString('utf8');
    }
    const pki = join(o.stateDir, 'pki');
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
    const pem = join(pki, `kubelet-client-${stamp}.pem`);
    writeAtomic(pem, `${cert.trimEnd()}\n${privateKey}`);
    const current = join(pki, 'kubelet-client-current.pem');
    rmSync(`${current}.tmp`, { force: true });
    symlinkSync(pem, `${current}.tmp`);
    renameSync(`${current}.tmp`, current);
    writeAtomic(o.kubeconfig, renderKubeletKubeconfig(creds.server, creds.ca, current));
    o.log(`TLS bootstrap: certificate issued; wrote ${current} and ${o.kubeconfig}`);
  } finally {
    api.close();
  }
}
