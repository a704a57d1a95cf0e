// SIMULATED container runtime (lab only): which images the SIMULATED kubelet runs for pods other
// than static pods, keyed by the exact name:tag of the vendored addon manifests
// (addons/flannel/v0.28.10/kube-flannel.yml, addons/local-path-storage/v0.0.30/local-path-storage.yaml).
// A pod with any other image stays Pending, as before; a pod of a known kind whose spec differs
// from what that kind does is refused (runtime/pod.ts), never run half-understood.
import type { AddonPod } from './pod.js';

export const FLANNEL_IMAGE = 'ghcr.io/flannel-io/flannel:v0.28.10';
export const FLANNEL_CNI_PLUGIN_IMAGE = 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3';
export const LOCAL_PATH_IMAGE = 'rancher/local-path-provisioner:v0.0.30';
/** The helper pods' image, from the provisioner's ConfigMap (helperPod.yaml). */
export const HELPER_IMAGE = 'busybox';
/** The provisioner's helper pods are named helper-pod-<action>-<pv name> (provisioner.go createHelperPod). */
export const HELPER_POD_NAME = /^helper-pod-(create|delete)-[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export type AddonKind = 'flannel' | 'local-path-provisioner' | 'local-path-helper';

const images = (p: AddonPod) => [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => c.image);

/** The kind of addon pod, or undefined for a pod this runtime does not run (it stays Pending). */
export function addonKind(p: AddonPod): AddonKind | undefined {
  const all = images(p);
  if (all.some((i) => i === FLANNEL_IMAGE || i === FLANNEL_CNI_PLUGIN_IMAGE)) return 'flannel';
  if (all.includes(LOCAL_PATH_IMAGE)) return 'local-path-provisioner';
  // Named as the provisioner names its helpers: checked strictly (helper-pod.ts), Failed if wrong.
  if (/^helper-pod-(create|delete)-/.test(p.metadata.name)) return 'local-path-helper';
  return undefined;
}
