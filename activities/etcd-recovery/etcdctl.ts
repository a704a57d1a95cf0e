// etcdctl (API v3) as run on a member host: the command line with the member's client TLS files,
// and parsers for its JSON output. IDs are uint64 in etcd's JSON, beyond what a JS number holds,
// so they are turned into hex strings (etcdctl's own table format) before parsing.
import { sh } from '../ssh/quote.js';

export interface EtcdTls {
  caCert: string;
  clientCert: string;
  clientKey: string;
}

export interface Member {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  clusterId: string;
  leaderId: string;
  revision: number;
  raftTerm: number;
  raftIndex: number;
  version: string;
  dbSize: number;
  /** What the member itself reports as wrong, e.g. "etcdserver: no leader" or an alarm. */
  errors: string[];
}

export interface EndpointHealth {
  endpoint: string;
  healthy: boolean;
  error?: string;
}

/** `ETCDCTL_API=3 etcdctl --endpoints … <args>`, every value quoted. */
export function etcdctl(tls: EtcdTls, endpoints: readonly string[], args: readonly string[], opts: { timeoutSeconds?: number; commandTimeoutSeconds?: number } = {}): string {
  const timeout = `${opts.timeoutSeconds ?? 5}s`;
  // The command timeout may be longer than the dial timeout: a long transfer (snapshot save) from a member that answers at once.
  const command = `${opts.commandTimeoutSeconds ?? opts.timeoutSeconds ?? 5}s`;
  return sh`ETCDCTL_API=3 etcdctl --endpoints=${endpoints.join(',')} --cacert=${tls.caCert} --cert=${tls.clientCert} --key=${tls.clientKey} --dial-timeout=${timeout} --command-timeout=${command} ${args}`;
}

export const clientUrl = (ip: string, port: number) => `https://${ip}:${port}`;
export const peerUrl = (ip: string, port: number) => `https://${ip}:${port}`;

const ID_KEYS = ['ID', 'cluster_id', 'member_id', 'leader'];

/** JSON.parse with etcd's uint64 IDs turned into lowercase hex strings. */
export function parseEtcdJson(text: string): unknown {
  const re = new RegExp(`"(${ID_KEYS.join('|')})":(\\d+)`, 'g');
  return JSON.parse(text.replace(re, (_m, key: string, digits: string) => `"${key}":"${BigInt(digits).toString(16)}"`));
}

interface RawMember { ID: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }

export function parseMemberList(text: string): { clusterId: string; members: Member[] } {
  const j = parseEtcdJson(text) as { header: { cluster_id: string }; members?: RawMember[] };
  return {
    clusterId: j.header.cluster_id,
    members: (j.members ?? []).map((m) => ({
      // A member added but not yet started has no name.
      id: m.ID, name: m.name ?? '', peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: m.isLearner === true,
    })),
  };
}

export function parseMemberAdd(text: string): { id: string; members: Member[] } {
  const j = parseEtcdJson(text) as { member: RawMember };
  return { id: j.member.ID, members: parseMemberList(text).members };
}

export function parseEndpointStatus(text: string): EndpointStatus[] {
  const j = parseEtcdJson(text) as { Endpoint: string; Status: { header: { cluster_id: string; member_id: string; revision: number; raft_term: number }; version: string; dbSize: number; leader: string; raftIndex: number; raftTerm: number; errors?: string[] } }[];
  return j.map((e) => ({
    endpoint: e.Endpoint, memberId: e.Status.header.member_id, clusterId: e.Status.header.cluster_id, leaderId: e.Status.leader,
    revision: e.Status.header.revision ?? 0, raftTerm: e.Status.raftTerm, raftIndex: e.Status.raftIndex, version: e.Status.version, dbSize: e.Status.dbSize,
    errors: e.Status.errors ?? [],
  }));
}

export function parseEndpointHealth(text: string): EndpointHealth[] {
  const j = JSON.parse(text) as { endpoint: string; health: boolean; error?: string }[];
  return j.map((e) => ({ endpoint: e.endpoint, healthy: e.health, ...(e.error ? { error: e.error } : {}) }));
}
