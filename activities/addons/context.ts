// Types of the addon steps, shared by the host-phase workflow and the addon activities (no I/O,
// no Temporal imports).
import type { AddonName } from './catalog.js';

/** An object a manifest creates that the rollout wait watches. */
export interface Workload {
  kind: 'DaemonSet' | 'Deployment';
  namespace: string;
  name: string;
  /** spec.selector.matchLabels: how its pods are found when they are not ready. */
  selector: Record<string, string>;
}

/** What a manifest holds that the apply and the rollout need to know, read from its own documents. */
export interface ManifestFacts {
  /** Every object, as Kind/namespace/name (namespace "" for cluster-scoped ones). */
  objects: string[];
  /** Namespaces the manifest itself creates. */
  namespaces: string[];
  /** Kinds of the CustomResourceDefinitions the manifest itself creates. */
  crdKinds: string[];
  workloads: Workload[];
}

/** What `applyAddon` did: `changed` is empty when the cluster already had the manifest as rendered. */
export interface AddonApplyResult {
  host: string;
  addon: AddonName;
  /** e.g. "CNI flannel v0.28.10" */
  title: string;
  changed: string[];
}

/** What `waitAddonsRollout` saw: one line per addon, for the smoke test. */
export interface AddonRolloutResult {
  lines: string[];
}
