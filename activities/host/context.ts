// The contract between the cloud phases (OpenStack, Proxmox) and the host phase they share.
// A cloud phase ends with a list of hosts that exist, answer on their fixed addresses and carry
// the SSH host key Mooring gave them; the host phase takes that list and makes a cluster of it.
// Types only: imported by workflows and activities alike (no I/O, no Temporal imports).
import type { Inventory } from '../../config/schema.js';
import type { Role } from '../../config/hosts.js';

/** A host the cloud phase made (or found), ready for the host phase. */
export interface ProvisionedHost {
  /** The inventory's host name. */
  name: string;
  /** Every role of the host (a stacked master is also an etcd member). */
  roles: Role[];
  /** The fixed address the inventory gives it (what the cluster uses). */
  address: string;
  /** The host's SSH host public key as Mooring generated it ("ssh-ed25519 AAAA..."), pinned from first contact. */
  hostKey: string;
  /** The cloud's id of the machine (OpenStack server id, Proxmox "node/vmid"). */
  machineId: string;
  /** A floating or public address the host is also reached at, when the topology gives one. */
  publicAddress?: string;
}

/** What a cloud phase child workflow (provisionCloud, provisionProxmox) returns. */
export interface CloudPhaseResult {
  /** The plan's lines, as `--plan` shows them. */
  plan: string[];
  /** What this run created (empty on a re-run of a finished cluster). */
  created?: string[];
  /** The hosts, in inventory order; absent when only the plan was asked for. */
  hosts?: ProvisionedHost[];
}

/** Input of the host phase child workflow `provisionHosts`. */
export interface HostPhaseInput {
  inventory: Inventory;
  hosts: ProvisionedHost[];
}

export interface HostPhaseNode { name: string; ready: boolean; kubeletVersion: string }

/** What `provisionHosts` returns: never a secret (the kubeconfig stays on disk, only its path is here). */
export interface HostPhaseResult {
  /** https://<vip>:<port> */
  apiEndpoint: string;
  /** Where the admin kubeconfig was written on the worker's machine (its content never enters history). */
  kubeconfigPath: string;
  nodes: HostPhaseNode[];
  /** One line per smoke check with its outcome. */
  smoke: string[];
  /** What this run changed (empty on a re-run of a finished cluster). */
  changed: string[];
}
