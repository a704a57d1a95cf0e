// The loopback lab's masters with a REAL kube-apiserver (opt-in: `new Lab({ kubernetes: '1.35' })`),
// so the etcd recoveries can be checked against Kubernetes data: a ConfigMap written through the
// apiserver before a failure must be read back through it after the recovery, and a majority
// restore must end with Mooring's restartControlPlane restarting it and probing its /readyz.
//
// What runs on a master: the SIMULATED kubelet (lab/kubelet/, standalone: no kubeconfig, so no Node
// and no mirror pods) with one static pod, kube-apiserver of the pinned release, against the lab's
// external TLS etcd; its crictl (backed by the kubelet's processes) replaces lab/crictl-standin.sh
// on that master. The certificates are what kubeadm's certs phase writes (Kubernetes CA, apiserver
// serving and kubelet-client, front-proxy CA and client, service-account keys), made by Mooring's
// PKI code; the manifest carries the flags kubeadm's control-plane phase writes for etcd.external.
// They are written by the lab, not by kubeadm, because kubeadm replaces a loopback advertise address
// with the address of the machine's default route (or refuses it), and the loopback lab's nodes
// only have loopback addresses. Two flags differ from kubeadm's, both because every node of this lab
// shares the machine's network namespace: --bind-address (kubeadm binds every address) and
// --endpoint-reconciler-type=none (the `kubernetes` Service's Endpoints refuse loopback addresses,
// so the default reconciler would log a failure every 10 s).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../activities/pki/certificates.js';
import { CERT_MODE, KEY_MODE, KUBEADM_EXTERNAL_ETCD_PATHS, writePlannedFiles, type PlannedFile } from '../activities/pki/layout.js';
import { CLUSTER_CA } from '../activities/control-plane/readyz.js';
import { findTool } from '../client/tools.js';
import { cidrRange } from '../config/net.js';
import { intToIp } from './fakes/ipam.js';
import { installKubelet } from './kubelet/install.js';
import { freePorts } from './ports.js';
import { execFileP, runningAs, startDetached, waitFor } from './processes.js';
import { inNodeView, nodeRoot } from './node-view.js';

const PKI = '/etc/kubernetes/pki';
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
/** kubeadm's default Networking.DNSDomain, in the service-account issuer and the serving SANs. */
const DNS_DOMAIN = 'cluster.local';

export interface LabMaster { name: string; ip: string; nodeDir: string }

export interface ApiserverSpec {
  /** The pinned release, e.g. 1.35.4: the image tag the SIMULATED kubelet resolves to the built binary. */
  version: string;
  etcdServers: string[];
  serviceSubnet: string;
  /** The VIP: in the serving certificate, as kubeadm puts controlPlaneEndpoint there. */
  vip: string;
}

/** The cluster's Kubernetes CA (kubeadm's ca.crt/ca.key), once per lab, next to the etcd CA. */
export async function ensureKubernetesCa(labDir: string): Promise<CertificateAuthority> {
  const crt = join(labDir, 'pki', 'kubernetes-ca.crt');
  const key = join(labDir, 'pki', 'kubernetes-ca.key');
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  mkdirSync(join(labDir, 'pki'), { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority({ commonName: 'kubernetes' });
  writeFileSync(crt, ca.certPem, { mode: 0o644 });
  writeFileSync(key, ca.keyPem, { mode: 0o600 });
  return ca;
}

/** The first address of the service range: the `kubernetes` Service's cluster IP, in the serving SANs. */
export const firstServiceIp = (serviceSubnet: string): string => intToIp(cidrRange(serviceSubnet)[0] + 1);

const cert = (path: string, contents: string): PlannedFile => ({ path, contents, mode: CERT_MODE });
const key = (path: string, contents: string): PlannedFile => ({ path, contents, mode: KEY_MODE });

/** kubeadm's certs phase for one master (the parts kube-apiserver reads), written once. */
export async function ensureApiserverPki(ca: CertificateAuthority, master: LabMaster, spec: ApiserverSpec): Promise<void> {
  const root = nodeRoot(master.nodeDir);
  if (existsSync(join(root, PKI, 'apiserver.crt'))) return;
  const dnsNames = [master.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${DNS_DOMAIN}`];
  const [serving, kubeletClient, frontProxyCa] = await Promise.all([
    issueCertificate(ca, { kind: 'server', commonName: 'kube-apiserver', ips: [firstServiceIp(spec.serviceSubnet), master.ip, spec.vip], dnsNames }),
    issueCertificate(ca, { kind: 'client', commonName: 'kube-apiserver-kubelet-client', organization: 'kubeadm:cluster-admins' }),
    createCertificateAuthority({ commonName: 'front-proxy-ca' }),
  ]);
  const frontProxyClient = await issueCertificate(frontProxyCa, { kind: 'client', commonName: 'front-proxy-client' });
  // The service-account token signing key pair (kubeadm: RSA 2048, sa.key and sa.pub).
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  await writePlannedFiles(root, [
    cert(CLUSTER_CA, ca.certPem), key(join(PKI, 'ca.key'), ca.keyPem),
    cert(join(PKI, 'apiserver.crt'), serving.certPem), key(join(PKI, 'apiserver.key'), serving.keyPem),
    cert(join(PKI, 'apiserver-kubelet-client.crt'), kubeletClient.certPem), key(join(PKI, 'apiserver-kubelet-client.key'), kubeletClient.keyPem),
    cert(join(PKI, 'front-proxy-ca.crt'), frontProxyCa.certPem), key(join(PKI, 'front-proxy-ca.key'), frontProxyCa.keyPem),
    cert(join(PKI, 'front-proxy-client.crt'), frontProxyClient.certPem), key(join(PKI, 'front-proxy-client.key'), frontProxyClient.keyPem),
    cert(join(PKI, 'sa.pub'), sa.publicKey), key(join(PKI, 'sa.key'), sa.privateKey),
  ]);
}

/** kube-apiserver's static pod as kubeadm's control-plane phase writes it for etcd.external (two flags differ: see the header). */
export function apiserverManifest(master: LabMaster, spec: ApiserverSpec): string {
  const flags: Record<string, string> = {
    'advertise-address': master.ip,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'bind-address': master.ip,
    'client-ca-file': CLUSTER_CA,
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    'endpoint-reconciler-type': 'none',
    'etcd-cafile': KUBEADM_EXTERNAL_ETCD_PATHS.caFile,
    'etcd-certfile': KUBEADM_EXTERNAL_ETCD_PATHS.certFile,
    'etcd-keyfile': KUBEADM_EXTERNAL_ETCD_PATHS.keyFile,
    'etcd-servers': spec.etcdServers.join(','),
    'kubelet-client-certificate': join(PKI, 'apiserver-kubelet-client.crt'),
    'kubelet-client-key': join(PKI, 'apiserver-kubelet-client.key'),
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': join(PKI, 'front-proxy-client.crt'),
    'proxy-client-key-file': join(PKI, 'front-proxy-client.key'),
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': join(PKI, 'front-proxy-ca.crt'),
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': '6443',
    'service-account-issuer': `https://kubernetes.default.svc.${DNS_DOMAIN}`,
    'service-account-key-file': join(PKI, 'sa.pub'),
    'service-account-signing-key-file': join(PKI, 'sa.key'),
    'service-cluster-ip-range': spec.serviceSubnet,
    'tls-cert-file': join(PKI, 'apiserver.crt'),
    'tls-private-key-file': join(PKI, 'apiserver.key'),
  };
  const probe = (path: string, o: Record<string, number>) => ({ httpGet: { host: master.ip, path, port: 6443, scheme: 'HTTPS' }, ...o });
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${master.ip}:6443` },
      labels: { component: 'kube-apiserver', tier: 'control-plane' },
      name: 'kube-apiserver',
      namespace: 'kube-system',
    },
    spec: {
      containers: [{
        name: 'kube-apiserver',
        image: `registry.k8s.io/kube-apiserver:v${spec.version}`,
        command: ['kube-apiserver', ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`)],
        livenessProbe: probe('/livez', { failureThreshold: 8, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 }),
        readinessProbe: probe('/readyz', { failureThreshold: 3, periodSeconds: 1, timeoutSeconds: 15 }),
        startupProbe: probe('/livez', { failureThreshold: 24, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 }),
      }],
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
    },
  });
}

/** Writes the manifest (only when its content changes: a rewrite restarts the apiserver) and "installs" the SIMULATED kubelet and its crictl. */
export function ensureApiserverManifest(master: LabMaster, spec: ApiserverSpec): void {
  const root = nodeRoot(master.nodeDir);
  const file = join(root, APISERVER_MANIFEST);
  const text = apiserverManifest(master, spec);
  mkdirSync(join(root, '/etc/kubernetes/manifests'), { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text, { mode: 0o600 });
  installKubelet(root, `v${spec.version}`);
}

/** The SIMULATED kubelet's command line on a lab master (standalone: its kubeconfigs do not exist). */
export function kubeletCommand(master: LabMaster, binDir: string, healthzPort: number): string[] {
  return ['/usr/local/sbin/kubelet', `--node-name=${master.name}`, '--manifests=/etc/kubernetes/manifests',
    '--kubeconfig=/etc/kubernetes/kubelet.conf', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
    '--state-dir=/var/lib/kubelet', `--binaries=${binDir}`, `--node-ip=${master.ip}`, `--healthz-port=${healthzPort}`, '--stop-pods-on-exit'];
}

/** An admin kubeconfig for this machine (kubeadm's admin.conf: a client certificate of the cluster-admins group). */
export async function writeAdminKubeconfig(file: string, ca: CertificateAuthority, server: string): Promise<void> {
  if (existsSync(file)) return;
  // system:masters: bound to cluster-admin by the apiserver itself, so no RBAC object needs creating first.
  const admin = await issueCertificate(ca, { kind: 'client', commonName: 'kubernetes-admin', organization: 'system:masters' });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'kubernetes-admin@lab',
    clusters: [{ name: 'lab', cluster: { server, 'certificate-authority-data': b64(ca.certPem) } }],
    users: [{ name: 'kubernetes-admin', user: { 'client-certificate-data': b64(admin.certPem), 'client-key-data': b64(admin.keyPem) } }],
    contexts: [{ name: 'kubernetes-admin@lab', context: { cluster: 'lab', user: 'kubernetes-admin' } }],
  }), { mode: 0o600 });
}

/** Real kubectl (set-up's, or $MOORING_KUBECTL) with `kubeconfig`. */
export function kubectlWith(kubeconfig: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileP(findTool('kubectl', 'MOORING_KUBECTL'), ['--kubeconfig', kubeconfig, '--request-timeout=10s', ...args], { maxBuffer: 16 << 20 });
}

export interface RunningApiserver { version: string; kubeletPid: number; healthzPort: number }

/**
 * Brings a master's apiserver up: PKI and manifest (once), the SIMULATED kubelet in the node's
 * filesystem view (unless the one on record still runs), the admin kubeconfig; returns once
 * kubectl gets 200 from /readyz, so a test starts on an apiserver that serves.
 */
export async function upApiserver(o: {
  labDir: string; master: LabMaster; spec: ApiserverSpec; binDir: string; kubeconfig: string; running?: RunningApiserver; log: (m: string) => void;
}): Promise<RunningApiserver> {
  const ca = await ensureKubernetesCa(o.labDir);
  await ensureApiserverPki(ca, o.master, o.spec);
  ensureApiserverManifest(o.master, o.spec);
  await writeAdminKubeconfig(o.kubeconfig, ca, `https://${o.master.ip}:6443`);
  let running = o.running;
  if (!running || !runningAs(running.kubeletPid, `--node-name=${o.master.name}`)) {
    const [healthzPort] = (await freePorts(1)) as [number];
    const { cmd, args } = inNodeView(o.master.nodeDir, kubeletCommand(o.master, o.binDir, healthzPort));
    running = { version: o.spec.version, kubeletPid: startDetached(cmd, args, join(o.master.nodeDir, 'kubelet.log')), healthzPort };
    o.log(`${o.master.name}: SIMULATED kubelet (pid ${running.kubeletPid}) running kube-apiserver v${o.spec.version} on ${o.master.ip}:6443`);
  }
  const pid = running.kubeletPid;
  await waitFor(`kube-apiserver on ${o.master.name} to answer /readyz (see ${join(o.master.nodeDir, 'kubelet.log')} and /var/lib/kubelet/pods of the node)`, async () => {
    if (!runningAs(pid, `--node-name=${o.master.name}`)) throw new Error(`the SIMULATED kubelet on ${o.master.name} exited: see ${join(o.master.nodeDir, 'kubelet.log')}`);
    return kubectlWith(o.kubeconfig, ['get', '--raw', '/readyz']).then(() => true, () => false);
  }, 90_000, 500);
  return running;
}
