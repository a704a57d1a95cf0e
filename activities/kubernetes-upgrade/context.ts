// Types shared by the upgrade workflow's Kubernetes hops and their activities (below both).
import type { HostRef, SshAccess } from '../ssh/access.js';

export interface KubeNodeRef extends HostRef { role: 'master' | 'worker' }

/** Where each release's files are on the nodes, and where they are installed. */
export interface KubernetesBinaries { source: string; installDir: string }

/** What every Kubernetes upgrade activity needs to reach the cluster. */
export interface KubeAccess {
  ssh: SshAccess;
  /** The master whose /etc/kubernetes/admin.conf kubectl uses (through the control plane endpoint). */
  via: HostRef;
}

/** The packages of a release, as the upgrade installs them on a node. */
export type KubePackage = 'kubeadm' | 'kubelet' | 'kubectl';

/** A node annotation saying this run cordoned the node (and so may uncordon it). */
export const CORDONED_BY = 'mooring.io/cordoned-by';

export interface PreflightInput extends KubeAccess {
  /** Every node of the inventory (masters and workers). */
  nodes: KubeNodeRef[];
  from: string;
  to: string;
  /** The worker batches the hop will drain, in order. */
  batches: string[][];
  etcd: 'stacked' | 'external';
  certificateMinDays: number;
}

export interface PreflightResult {
  /** Each a sentence naming what fails and how to fix it; empty when the hop may start. */
  problems: string[];
  /** Seen, not blocking. */
  notes: string[];
}
