// External etcd on its own hosts (seed 001's `etcd-implementation` role), before kubeadm init:
// the release's binaries at the inventory's version, a systemd unit, the member certificates from
// Mooring's PKI, the member config of a new cluster (every member in initial-cluster), and
// kube-apiserver's client certificate at kubeadm's paths on the masters. Every part checks
// before it acts. What it reuses: the etcd upgrade's installRelease (binaries), the recoveries'
// layDownCerts and renderMemberConfig (certificates, etcd.conf.yaml), activities/pki (the CA, the
// apiserver-etcd-client certificate and kubeadm's paths for it).
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Inventory } from '../../config/schema.js';
import type { EtcdMemberRef, EtcdSettings } from '../etcd-recovery/context.js';
import { layDownCerts } from '../etcd-recovery/certs.js';
import { renderMemberConfig } from '../etcd-recovery/member-config.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseMemberList, peerUrl } from '../etcd-recovery/etcdctl.js';
import { etcdActive } from '../etcd-recovery/host-ops.js';
import { installRelease } from '../etcd-upgrade/binaries.js';
import { statuses } from '../etcd-upgrade/cluster.js';
import { apiserverEtcdClient, createCertificateAuthority, type CertificateAuthority } from '../pki/certificates.js';
import { CERT_MODE, KEY_MODE, kubeadmExternalEtcdFiles, KUBEADM_EXTERNAL_ETCD_PATHS, writePlannedFiles } from '../pki/layout.js';
import { resolveSecret } from '../secrets.js';
import { sh } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';
import { ensureRemoteFile } from './remote-file.js';

export const ETCD_UNIT = '/etc/systemd/system/etcd.service';

/** The etcd members of an external topology, as the etcd activities reach them. */
export function externalMembers(inv: Inventory): EtcdMemberRef[] {
  return inv.etcd.members.map((m, i) => ({ name: m.name, ip: m.ip, sshPort: m.sshPort, where: `etcd.members[${i}]` }));
}

/** The binaries' locations, or an error naming the field (checked by the workflow before anything is touched). */
export function etcdBinariesOf(inv: Inventory) {
  const b = inv.etcd.binaries;
  if (!b) throw ApplicationFailure.nonRetryable('etcd.binaries.source: external etcd is installed from the release\'s binaries staged on the etcd hosts: set e.g. /opt/etcd/{version}', 'InvalidInput');
  return b;
}

/** The unit etcd runs under; Type=notify: etcd tells systemd when it serves (a new member once the cluster has a leader). */
export function etcdUnit(installDir: string, configPath: string): string {
  return [
    '# Written by Mooring; do not edit by hand.',
    '[Unit]',
    'Description=etcd key-value store',
    'Documentation=https://etcd.io/docs/',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=notify',
    `ExecStart=${installDir}/etcd --config-file ${configPath}`,
    'Restart=on-failure',
    'RestartSec=5',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The cluster token of the cluster Mooring forms: fixed per cluster, so a re-run renders the same config. */
export const etcdClusterToken = (cluster: string) => `${cluster}-etcd`;

const caFiles = (stateDir: string, cluster: string) => ({ cert: join(stateDir, 'clusters', cluster, 'etcd-ca.crt'), key: join(stateDir, 'clusters', cluster, 'etcd-ca.key') });

function samePair(certPem: string, keyPem: string): boolean {
  try {
    const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
    return spki(new X509Certificate(certPem).publicKey).equals(spki(createPublicKey(createPrivateKey(keyPem))));
  } catch {
    return false;
  }
}

/**
 * The etcd CA: the key from `etcd.tls.caKey` when the inventory gives it (its certificate kept
 * beside the admin kubeconfig, or read from an etcd host that has it), else one Mooring made for
 * the cluster and keeps in the state directory (0600). `hostCas` are the CA certificates the etcd
 * hosts already hold: a host trusting another CA is refused, never overwritten.
 */
export async function etcdCa(stateDir: string, inv: Inventory, hostCas: { host: string; certPem: string }[], mayCreate: boolean): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const files = caFiles(stateDir, inv.cluster.name);
  let certPem = await readFile(files.cert, 'utf8').catch(() => undefined);
  let keyPem = inv.etcd.tls.caKey ? (await resolveSecret(inv.etcd.tls.caKey, 'etcd.tls.caKey')).toString('utf8') : await readFile(files.key, 'utf8').catch(() => undefined);
  let created = false;
  if (!certPem && keyPem) {
    // The key is the inventory's, the certificate on a host: kept here for the member steps.
    certPem = hostCas.find((h) => samePair(h.certPem, keyPem!))?.certPem;
    if (certPem) await writePlannedFiles('/', [{ path: files.cert, contents: certPem, mode: CERT_MODE }]);
  }
  if (!certPem || !keyPem) {
    if (inv.etcd.tls.caKey) throw ApplicationFailure.nonRetryable(`etcd.tls.caKey: no CA certificate for this key is in ${files.cert} or on an etcd host (${inv.etcd.tls.caCert}): put it there, or remove etcd.tls.caKey to let Mooring make the CA`, 'PreconditionFailed');
    // Only the workflow's one CA step makes it: parallel member steps making one each would disagree.
    if (!mayCreate) throw ApplicationFailure.nonRetryable(`${files.cert}: the cluster's etcd CA is not on this worker's machine (a worker with another MOORING_STATE_DIR?): set etcd.tls.caKey so every worker holds the key`, 'PreconditionFailed');
    if (hostCas.length) throw ApplicationFailure.nonRetryable(`${hostCas.map((h) => h.host).join(', ')}: already trust(s) an etcd CA (${inv.etcd.tls.caCert}) whose key Mooring does not hold: set etcd.tls.caKey to that key's reference; nothing was changed`, 'PreconditionFailed');
    const ca = await createCertificateAuthority({ commonName: `${inv.cluster.name}-etcd-ca` });
    // The cluster's directory only for this user, as for the admin kubeconfig beside it.
    await mkdir(dirname(files.key), { recursive: true, mode: 0o700 });
    await writePlannedFiles('/', [{ path: files.key, contents: ca.keyPem, mode: KEY_MODE }, { path: files.cert, contents: ca.certPem, mode: CERT_MODE }]);
    ({ certPem, keyPem } = ca);
    created = true;
  }
  if (!samePair(certPem, keyPem)) throw ApplicationFailure.nonRetryable(`etcd.tls.caKey: not the key of the CA certificate ${files.cert}: fix the reference`, 'InvalidInput');
  const other = hostCas.filter((h) => h.certPem.trim() !== certPem!.trim()).map((h) => h.host);
  if (other.length) throw ApplicationFailure.nonRetryable(`${other.join(', ')}: trust(s) another etcd CA (${inv.etcd.tls.caCert}) than the cluster's (${files.cert}): a host of another cluster? Nothing was changed`, 'PreconditionFailed');
  return { ca: { certPem, keyPem }, created };
}

/** The CA certificate a host holds at `path`, if any. */
export async function hostCaCert(s: SshSession, path: string, signal: AbortSignal): Promise<string | undefined> {
  const r = await s.exec(sh`cat ${path}`, { timeoutMs: 15_000, signal });
  return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
}

/** Are the CA certificate (equal to `caPem`) and every other file present and non-empty? */
async function filesInPlace(s: SshSession, caPath: string, caPem: string, others: string[], signal: AbortSignal): Promise<boolean> {
  if ((await hostCaCert(s, caPath, signal))?.trim() !== caPem.trim()) return false;
  return (await s.exec(others.map((p) => sh`test -s ${p}`).join(' && '), { timeoutMs: 15_000, signal })).code === 0;
}

/** Binaries, unit, certificates on one etcd host; returns what changed. */
export async function prepareEtcdHost(s: SshSession, inv: Inventory, etcd: EtcdSettings, ca: CertificateAuthority, member: EtcdMemberRef, signal: AbortSignal): Promise<string[]> {
  const changed: string[] = [];
  const b = etcdBinariesOf(inv);
  const installed = await installRelease(s, b, inv.etcd.version, signal);
  if (!installed.alreadyInstalled) changed.push(`etcd ${inv.etcd.version} installed in ${b.installDir}`);
  if (await ensureRemoteFile(s, ETCD_UNIT, etcdUnit(b.installDir, etcd.configPath), 0o644, signal)) {
    await s.run('systemctl daemon-reload', { timeoutMs: 60_000, signal });
    changed.push(`${ETCD_UNIT} written`);
  }
  const certs = [etcd.serverCert, etcd.serverKey, etcd.peerCert, etcd.peerKey, etcd.tls.clientCert, etcd.tls.clientKey];
  if (!await filesInPlace(s, etcd.tls.caCert, ca.certPem, certs, signal)) {
    await layDownCerts(s, etcd, ca, member, signal);
    changed.push('etcd server, peer and client certificates issued');
  }
  return changed;
}

const memberListMatches = (text: string, etcd: EtcdSettings, members: readonly EtcdMemberRef[]) => {
  const want = members.map((m) => `${m.name}=${peerUrl(m.ip, etcd.peerPort)}`).sort().join(',');
  const have = parseMemberList(text).members.map((m) => `${m.name}=${m.peerURLs.join('+')}${m.isLearner ? '(learner)' : ''}`).sort().join(',');
  return want === have;
};

/**
 * Configures and starts one member of a new cluster (initial-cluster of every member, state new).
 * A member that is healthy in a cluster of exactly the inventory's members is left alone; one that
 * runs from the config Mooring renders is waiting for its peers and is left alone too. A member
 * that runs from another config, or whose data dir holds data while its config differs, belongs
 * to another cluster: refused, nothing touched (a data dir is never deleted).
 */
export async function startEtcdMember(s: SshSession, inv: Inventory, etcd: EtcdSettings, member: EtcdMemberRef, members: readonly EtcdMemberRef[], signal: AbortSignal): Promise<string[]> {
  const config = renderMemberConfig(etcd, { name: member.name, ip: member.ip, initialCluster: members.map((m) => ({ name: m.name, ip: m.ip })), state: 'new', clusterToken: etcdClusterToken(inv.cluster.name) });
  const own = [clientUrl(member.ip, etcd.clientPort)];
  const hasOurConfig = async () => {
    const current = await s.exec(sh`cat ${etcd.configPath}`, { timeoutMs: 15_000, signal });
    return current.code === 0 && current.stdout === config;
  };
  if (await etcdActive(s, signal)) {
    const health = await s.exec(etcdctl(etcd.tls, own, ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
    const list = health.code === 0 ? await s.exec(etcdctl(etcd.tls, own, ['member', 'list', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal }) : undefined;
    if (list?.code === 0 && memberListMatches(list.stdout, etcd, members)) return [];
    if (await hasOurConfig()) return [];
    throw ApplicationFailure.nonRetryable(`${member.name}: etcd runs there from another config than ${etcd.configPath} would be, and not as a healthy member of ${members.map((m) => m.name).join(', ')}: nothing was changed; if it belongs to another cluster, take this host out of etcd.members, else stop that etcd and run provision again`, 'PreconditionFailed');
  }
  const hasData = (await s.exec(sh`test -d ${`${etcd.dataDir}/member`}`, { timeoutMs: 15_000, signal })).code === 0;
  const wrote = hasData ? false : await ensureRemoteFile(s, etcd.configPath, config, 0o644, signal);
  if (hasData && !(await hasOurConfig())) {
    throw ApplicationFailure.nonRetryable(`${member.name}: ${etcd.dataDir} holds etcd data but ${etcd.configPath} is not this cluster's member config, so the host may belong to another cluster; nothing was changed (a data dir is never deleted): move that data dir aside yourself if it is not needed, then run provision again`, 'PreconditionFailed');
  }
  // daemon-reload: the unit may have been written by an attempt that died before reloading.
  // --no-block: with Type=notify a new member's start returns only once the cluster has a leader,
  // which needs the other members started too (they are started in parallel by the workflow).
  await s.run('systemctl daemon-reload && systemctl enable etcd && systemctl start --no-block etcd', { timeoutMs: 60_000, signal });
  return [...(wrote ? [`${etcd.configPath} written (new cluster of ${members.length})`] : []), 'etcd started'];
}

export interface EtcdClusterView { clusterId: string; leader: string; versions: Record<string, string> }

/**
 * Every member healthy, reporting one cluster ID and one leader, and the member list exactly the
 * inventory's members (all started, none a learner); undefined while it is not so (read only).
 */
export async function etcdClusterFormed(s: SshSession, etcd: EtcdSettings, members: readonly EtcdMemberRef[], signal: AbortSignal): Promise<{ view?: EtcdClusterView; problem: string }> {
  const endpoints = members.map((m) => clientUrl(m.ip, etcd.clientPort));
  const health = await Promise.all(endpoints.map(async (e) => {
    const r = await s.exec(etcdctl(etcd.tls, [e], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: 3 }), { timeoutMs: 15_000, signal });
    try { return parseEndpointHealth(r.stdout)[0]?.healthy === true; } catch { return false; }
  }));
  const unhealthy = members.filter((_, i) => !health[i]).map((m) => m.name);
  if (unhealthy.length) return { problem: `not healthy: ${unhealthy.join(', ')}` };
  const st = await statuses(s, etcd, members, signal);
  const ids = new Set([...st.values()].map((x) => x.clusterId));
  const leaders = new Set([...st.values()].map((x) => x.leaderId));
  if (st.size !== members.length || ids.size !== 1 || leaders.size !== 1) return { problem: `status: ${[...st].map(([n, x]) => `${n} cluster ${x.clusterId} leader ${x.leaderId}`).join(', ')}` };
  const list = await s.run(etcdctl(etcd.tls, endpoints, ['member', 'list', '-w', 'json']), { timeoutMs: 20_000, signal });
  if (!memberListMatches(list, etcd, members)) return { problem: `member list is not ${members.map((m) => m.name).join(', ')}: ${parseMemberList(list).members.map((m) => m.name || m.id).join(', ')}` };
  const first = [...st.values()][0]!;
  return {
    problem: '',
    view: { clusterId: first.clusterId, leader: [...st].find(([, x]) => x.memberId === first.leaderId)?.[0] ?? first.leaderId, versions: Object.fromEntries([...st].map(([n, x]) => [n, x.version])) },
  };
}

/** kube-apiserver's client certificate for the external etcd and the etcd CA, at kubeadm's paths on a master. */
export async function apiserverEtcdClientFiles(s: SshSession, ca: CertificateAuthority, signal: AbortSignal): Promise<string[]> {
  const p = KUBEADM_EXTERNAL_ETCD_PATHS;
  if (await filesInPlace(s, p.caFile, ca.certPem, [p.certFile, p.keyFile], signal)) return [];
  const files = kubeadmExternalEtcdFiles(ca.certPem, await apiserverEtcdClient(ca));
  await s.run(sh`mkdir -p ${[...new Set(files.map((f) => dirname(f.path)))]}`, { timeoutMs: 15_000, signal });
  // The CA last: until it is in place, a retry finds the set incomplete and issues it again.
  for (const f of [...files].sort((a, b) => Number(a.path === p.caFile) - Number(b.path === p.caFile))) await s.upload(f.path, f.contents, { mode: f.mode, timeoutMs: 15_000, signal });
  return [`apiserver-etcd-client certificate and etcd CA at ${p.certFile}, ${p.caFile}`];
}
