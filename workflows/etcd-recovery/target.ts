// From the inventory to what the etcd activities need: SSH access (references only), etcd paths
// and ports, and a host reference per member. Pure.
import type { Inventory } from '../../config/schema.js';
import { etcdMembersOf } from '../../config/hosts.js';
import type { EtcdMemberRef, EtcdTarget } from '../../activities/etcd-recovery/context.js';
import type { HostRef } from '../../activities/ssh/access.js';

export function etcdTargetOf(inv: Inventory): EtcdTarget {
  const t = inv.etcd.tls;
  return {
    ssh: { user: inv.ssh.user, privateKeyPath: inv.ssh.privateKeyPath, connectTimeoutSeconds: inv.ssh.connectTimeoutSeconds, ...(inv.ssh.bastion ? { bastion: inv.ssh.bastion } : {}) },
    etcd: {
      tls: { caCert: t.caCert, clientCert: t.clientCert, clientKey: t.clientKey },
      serverCert: t.serverCert, serverKey: t.serverKey, peerCert: t.peerCert, peerKey: t.peerKey,
      ...(t.caKey ? { caKey: t.caKey } : {}),
      ...(inv.etcd.quotaBackendBytes !== undefined ? { quotaBackendBytes: inv.etcd.quotaBackendBytes } : {}),
      clientPort: inv.etcd.clientPort, peerPort: inv.etcd.peerPort, dataDir: inv.etcd.dataDir, configPath: inv.etcd.configPath,
    },
  };
}

export function memberRefsOf(inv: Inventory): EtcdMemberRef[] {
  return hostRefsOf(etcdMembersOf(inv), inv.etcd.topology === 'external' ? 'etcd.members' : 'masters');
}

/** The control-plane nodes as the activities reach them. */
export function masterRefsOf(inv: Inventory): HostRef[] {
  return hostRefsOf(inv.masters, 'masters');
}

/** Host references that name their place in the inventory (`where`), for error messages. */
function hostRefsOf(hosts: readonly { name: string; ip: string; sshPort: number; hostKey?: string | undefined }[], path: string): HostRef[] {
  return hosts.map((m, i) => ({ name: m.name, ip: m.ip, sshPort: m.sshPort, where: `${path}[${i}]`, ...(m.hostKey ? { hostKey: m.hostKey } : {}) }));
}

/**
 * A directory-name-safe tag for what a run leaves behind (moved-aside data dirs). Run IDs are
 * UUIDv7: their first characters are a timestamp shared by runs minutes apart, so the tag takes
 * the random tail.
 */
export function runTag(workflowId: string, runId: string): string {
  return `mooring-${workflowId.replace(/[^A-Za-z0-9-]/g, '-')}-${runId.replace(/-/g, '').slice(-12)}`;
}
