// The lab's real etcd 3.4 cluster: TLS on client and peer URLs with certificates from Mooring's
// own PKI, configs from the same generator the runbooks use, started through each node's
// SIMULATED systemctl inside the node's own filesystem view.
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apiserverEtcdClient, createCertificateAuthority, etcdCertificateSet, type CertificateAuthority } from '../activities/pki/certificates.js';
import { etcdMemberFiles, KUBEADM_EXTERNAL_ETCD_PATHS, writeKubeadmExternalEtcdFiles, writePlannedFiles } from '../activities/pki/layout.js';
import { renderMemberConfig } from '../activities/etcd-recovery/member-config.js';
import type { EtcdSettings } from '../activities/etcd-recovery/context.js';
import { nodeRoot } from './node-view.js';
import { alive } from './processes.js';

const run = promisify(execFile);
export const LAB_CLUSTER_TOKEN = 'mooring-lab';

export interface LabMember { name: string; ip: string; nodeDir: string; sshdPid: number }

export async function ensureCa(labDir: string): Promise<CertificateAuthority> {
  const dir = join(labDir, 'pki');
  const crt = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  if (existsSync(crt) && existsSync(key)) return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority({ commonName: 'mooring-lab-etcd-ca' });
  writeFileSync(crt, ca.certPem, { mode: 0o644 });
  writeFileSync(key, ca.keyPem, { mode: 0o600 });
  return ca;
}

/** Certificates and config are written once; later runs (and recoveries) own them afterwards. */
export async function ensureMemberFiles(ca: CertificateAuthority, etcd: EtcdSettings, m: LabMember, all: LabMember[]): Promise<void> {
  const root = nodeRoot(m.nodeDir);
  if (!existsSync(join(root, etcd.serverCert))) {
    await writePlannedFiles(root, etcdMemberFiles(await etcdCertificateSet(ca, { name: m.name, ip: m.ip })));
  }
  const config = join(root, etcd.configPath);
  if (!existsSync(config)) {
    writeFileSync(config, renderMemberConfig(etcd, { name: m.name, ip: m.ip, initialCluster: all.map((x) => ({ name: x.name, ip: x.ip })), state: 'new', clusterToken: LAB_CLUSTER_TOKEN }));
    chmodSync(config, 0o644);
  }
}

/** A master's client certificate for the API server, where kubeadm's etcd.external expects it. */
export async function ensureMasterFiles(ca: CertificateAuthority, nodeDir: string): Promise<void> {
  const root = nodeRoot(nodeDir);
  if (existsSync(join(root, KUBEADM_EXTERNAL_ETCD_PATHS.certFile))) return;
  await writeKubeadmExternalEtcdFiles(root, ca.certPem, await apiserverEtcdClient(ca));
}

/** The pid of the node's running etcd (from the SIMULATED systemctl's pid file), checked to be etcd still. */
export function etcdPid(nodeDir: string): number | undefined {
  const f = join(nodeDir, 'etcd.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (!alive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'etcd' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the node's SIMULATED systemctl inside its filesystem view (lab plumbing, not SSH). */
export async function nodeSystemctl(m: LabMember, ...args: string[]): Promise<void> {
  await run('nsenter', ['-t', String(m.sshdPid), '-m', '--', 'env', `MOORING_LAB_NODE_DIR=${m.nodeDir}`, '/usr/local/sbin/systemctl', ...args]);
}

/** etcdctl from the host with a member's client certificate (read from its node view). */
export async function hostEtcdctl(etcd: EtcdSettings, m: LabMember, endpoints: string[], args: string[], timeoutSeconds = 3): Promise<string> {
  const root = nodeRoot(m.nodeDir);
  const { stdout } = await run('etcdctl', [
    `--endpoints=${endpoints.join(',')}`, `--cacert=${join(root, etcd.tls.caCert)}`, `--cert=${join(root, etcd.tls.clientCert)}`, `--key=${join(root, etcd.tls.clientKey)}`,
    `--dial-timeout=${timeoutSeconds}s`, `--command-timeout=${timeoutSeconds}s`, ...args,
  ], { env: { ...process.env, ETCDCTL_API: '3' } });
  return stdout;
}

export const clientEndpoint = (etcd: EtcdSettings, m: { ip: string }) => `https://${m.ip}:${etcd.clientPort}`;

export async function memberHealthy(etcd: EtcdSettings, m: LabMember): Promise<boolean> {
  try {
    await hostEtcdctl(etcd, m, [clientEndpoint(etcd, m)], ['endpoint', 'health'], 2);
    return true;
  } catch {
    return false;
  }
}

/** The member that leads, as the live members report it. */
export async function findLeader(etcd: EtcdSettings, members: LabMember[]): Promise<LabMember | undefined> {
  for (const m of members) {
    try {
      const out = await hostEtcdctl(etcd, m, [clientEndpoint(etcd, m)], ['endpoint', 'status', '-w', 'json'], 2);
      const leader = /"leader":(\d+)/.exec(out)?.[1];
      const self = /"member_id":(\d+)/.exec(out)?.[1];
      if (leader && self && leader === self) return m;
    } catch { /* dead member */ }
  }
  return undefined;
}
