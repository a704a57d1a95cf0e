// Where certificates live on a host, and writing them there. The paths are the single source for
// the etcd config (/etc/etcd/etcd.conf.yaml) and kubeadm's ClusterConfiguration etcd.external, so
// the files written and the files referenced cannot drift apart.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { EtcdCertificateSet, IssuedCertificate } from './certificates.js';

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;

/** An etcd member's TLS files, as seed 001's etcd.conf.yaml names them. */
export const ETCD_TLS_PATHS = {
  trustedCaFile: '/etc/etcd/ssl/ca.crt',
  serverCertFile: '/etc/etcd/ssl/server.crt',
  serverKeyFile: '/etc/etcd/ssl/server.key',
  peerCertFile: '/etc/etcd/ssl/peer.crt',
  peerKeyFile: '/etc/etcd/ssl/peer.key',
  clientCertFile: '/etc/etcd/ssl/client.crt',
  clientKeyFile: '/etc/etcd/ssl/client.key',
} as const;

/** kubeadm's etcd.external caFile/certFile/keyFile, at the paths kubeadm's HA guide uses. */
export const KUBEADM_EXTERNAL_ETCD_PATHS = {
  caFile: '/etc/kubernetes/pki/etcd/ca.crt',
  certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
  keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
} as const;

export interface PlannedFile {
  /** Absolute path on the host. */
  path: string;
  contents: string;
  mode: typeof KEY_MODE | typeof CERT_MODE;
}

export interface FileOwner {
  uid: number;
  gid: number;
}

export function etcdMemberFiles(set: EtcdCertificateSet): PlannedFile[] {
  const p = ETCD_TLS_PATHS;
  return [
    { path: p.trustedCaFile, contents: set.caCertPem, mode: CERT_MODE },
    { path: p.serverCertFile, contents: set.server.certPem, mode: CERT_MODE },
    { path: p.serverKeyFile, contents: set.server.keyPem, mode: KEY_MODE },
    { path: p.peerCertFile, contents: set.peer.certPem, mode: CERT_MODE },
    { path: p.peerKeyFile, contents: set.peer.keyPem, mode: KEY_MODE },
    { path: p.clientCertFile, contents: set.client.certPem, mode: CERT_MODE },
    { path: p.clientKeyFile, contents: set.client.keyPem, mode: KEY_MODE },
  ];
}

export function kubeadmExternalEtcdFiles(etcdCaCertPem: string, client: IssuedCertificate): PlannedFile[] {
  const p = KUBEADM_EXTERNAL_ETCD_PATHS;
  return [
    { path: p.caFile, contents: etcdCaCertPem, mode: CERT_MODE },
    { path: p.certFile, contents: client.certPem, mode: CERT_MODE },
    { path: p.keyFile, contents: client.keyPem, mode: KEY_MODE },
  ];
}

// Written beside the target and renamed over it, so a crash mid-write (the activity is retried)
// never leaves etcd a truncated key; created 0600 so a key is never readable by others, not even
// before the final mode is set. Modes are set explicitly because the process umask would mask them.
async function writeAtomically(target: string, file: PlannedFile, owner: FileOwner | undefined): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', KEY_MODE);
  try {
    await fh.writeFile(file.contents);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(file.mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Writes the planned files under `root` (`/` on a host, a temporary directory in tests) and
 * returns the paths written. `owner` is for daemons that do not run as root (Debian's etcd runs as
 * user etcd and must be able to read its 0600 keys).
 */
export async function writePlannedFiles(root: string, files: readonly PlannedFile[], owner?: FileOwner): Promise<string[]> {
  if (!isAbsolute(root)) throw new Error(`root: ${JSON.stringify(root)} must be an absolute directory such as / or /tmp/node-1`);
  files.forEach((f, i) => {
    if (!isAbsolute(f.path) || f.path.split('/').includes('..')) {
      throw new Error(`files[${i}].path: ${JSON.stringify(f.path)} must be absolute without '..'`);
    }
  });
  const written: string[] = [];
  for (const f of files) {
    const target = join(root, f.path);
    await writeAtomically(target, f, owner);
    written.push(target);
  }
  return written;
}

export function writeEtcdMemberFiles(root: string, set: EtcdCertificateSet, owner?: FileOwner): Promise<string[]> {
  return writePlannedFiles(root, etcdMemberFiles(set), owner);
}

export function writeKubeadmExternalEtcdFiles(root: string, etcdCaCertPem: string, client: IssuedCertificate): Promise<string[]> {
  return writePlannedFiles(root, kubeadmExternalEtcdFiles(etcdCaCertPem, client));
}
