// What every etcd activity needs to reach a member: SSH access (references only) and the
// member's etcd settings from the inventory. Built by the workflow from the inventory.
import type { HostRef, SshAccess } from '../ssh/access.js';
import type { EtcdTls } from './etcdctl.js';
import type { SecretRef } from '../secrets.js';

export interface EtcdSettings {
  tls: EtcdTls;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  configPath: string;
  /** Server and peer certificate paths, for the config file. */
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
  /** etcd's quota-backend-bytes (inventory etcd.quotaBackendBytes); unset keeps etcd's default. */
  quotaBackendBytes?: number;
  /** The CA key by reference (inventory etcd.tls.caKey), when certificates may be issued. */
  caKey?: SecretRef;
}

/** An etcd member as the activities reach it (a host reference). */
export type EtcdMemberRef = HostRef;

export interface EtcdTarget {
  ssh: SshAccess;
  etcd: EtcdSettings;
}

/** One member as seen from its own host: what observeEtcd returns and the assessments read. */
export interface MemberView {
  name: string;
  ip: string;
  /** SSH to the host worked. */
  reachable: boolean;
  /** `etcdctl endpoint health` on this member succeeded. */
  healthy: boolean;
  isLeader: boolean;
  raftTerm?: number;
  /** Hex member ID as etcd reports it. */
  memberId?: string;
  /** Hex cluster ID this member believes it belongs to. */
  clusterId?: string;
  revision?: number;
  /** The member answered `endpoint status` with leader 0 (observed with leaderlessAtOnce): up, but without a leader. */
  noLeader?: boolean;
}
