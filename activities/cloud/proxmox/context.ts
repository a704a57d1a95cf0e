// Types shared by the Proxmox workflow and its activities (no I/O, no Temporal imports).
import type { SecretRef } from '../../../config/schema.js';
import type { Role } from '../../../config/hosts.js';

/** Which Proxmox VE API and how to trust and authenticate to it (references only: history-safe). */
export interface ProxmoxTarget {
  apiUrl: string;
  tokenId: string;
  tokenSecret: SecretRef;
  caFile?: string;
  fingerprint?: string;
}

export interface VmidRange { first: number; last: number }

/** A VM of the cluster's range as the API lists it. */
export interface PveVm { vmid: number; node: string; name: string; status: string; tags: string[]; template: boolean; lock?: string }

/** What the read-only inspection found: everything placement and the VMID choice depend on. */
export interface ProxmoxFacts {
  onlineNodes: string[];
  offlineNodes: string[];
  template: { vmid: number; node: string; name: string };
  /** VMs in the range (the cluster's own, carrying its tag, and anyone else's). */
  inRange: PveVm[];
}

/** One VM the plan wants. */
export interface VmPlan {
  host: string;
  role: 'master' | 'worker' | 'gateway' | 'etcd';
  roles: Role[];
  ip: string;
  node: string;
  /** The VM's VMID when it exists; otherwise the candidate the clone tries first. */
  vmid: number;
  exists: boolean;
  cores: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface ProxmoxPlan {
  cluster: string;
  tag: string;
  range: VmidRange;
  template: { vmid: number; node: string };
  storage: string;
  bridge: string;
  full: boolean;
  clonesPerStorage: number;
  vms: VmPlan[];
  lines: string[];
}

/** What the nodes that get new VMs have left (bytes), read just before the first clone. */
export interface ProxmoxCapacity {
  nodes: { node: string; memoryTotal: number; memoryFree: number; cpus: number }[];
  /** The clone storage as each of those nodes sees it (full clones only). */
  storages: { node: string; storage: string; total: number; avail: number; shared: boolean }[];
}
