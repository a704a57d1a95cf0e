// SIMULATED container runtime (lab only): the parts of a Pod the SIMULATED kubelet reads for the
// addons' pods it runs (lab/kubelet/runtime/), and the strict checks every kind shares. A spec the
// stand-in does not understand exactly is refused with a message naming the field, never run
// half-understood: this is the issue's "strict stand-in that checks every argument and file".
import { posix } from 'node:path';

export interface EnvVar { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; [k: string]: unknown } }
export interface VolumeMount { name: string; mountPath: string; readOnly?: boolean; subPath?: string }
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
}
export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  projected?: { sources: Record<string, unknown>[] };
  [k: string]: unknown;
}
export interface AddonPod {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    initContainers?: ContainerSpec[];
    containers: ContainerSpec[];
    volumes?: Volume[];
  };
  status?: { phase?: string };
}

/** A pod spec the SIMULATED runtime will not run; the message names the field and what it expected. */
export class SpecRefused extends Error {}

export const refuse = (pod: AddonPod, field: string, why: string): never => {
  throw new SpecRefused(`pod ${pod.metadata.namespace}/${pod.metadata.name}: ${field}: ${why}`);
};

export const same = (a: readonly string[] | undefined, b: readonly string[]) => (a ?? []).length === b.length && b.every((x, i) => a![i] === x);
const show = (v: unknown) => JSON.stringify(v ?? null);

/** `field` must equal `want` exactly. */
export function expectList(pod: AddonPod, field: string, got: readonly string[] | undefined, want: readonly string[]): void {
  if (!same(got, want)) refuse(pod, field, `is ${show(got)}, expected ${show(want)}`);
}

/**
 * The service-account admission plugin adds a projected volume `kube-api-access-<suffix>` (token,
 * kube-root-ca.crt, namespace) to every pod with a service account, mounted read-only here.
 */
export const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const isApiAccess = (v: Volume) => /^kube-api-access-[a-z0-9]+$/.test(v.name) && !!v.projected;

/**
 * The pod's volumes must be exactly `want` (name → hostPath path or configMap name), plus the
 * admission plugin's kube-api-access volume; anything else (emptyDir, secret, another path) is refused.
 */
export function expectVolumes(pod: AddonPod, want: Record<string, { hostPath: string; type?: string } | { configMap: string }>): void {
  const vols = pod.spec.volumes ?? [];
  for (const v of vols) {
    if (isApiAccess(v)) continue;
    const w = want[v.name];
    if (!w) return refuse(pod, `spec.volumes[${v.name}]`, `is not a volume this pod kind has (expected ${Object.keys(want).join(', ')})`);
    if ('hostPath' in w) {
      if (!v.hostPath || v.hostPath.path !== w.hostPath || (v.hostPath.type ?? '') !== (w.type ?? '')) {
        refuse(pod, `spec.volumes[${v.name}]`, `is ${show(v)}, expected hostPath ${w.hostPath}${w.type ? ` (type ${w.type})` : ''}`);
      }
    } else if (!v.configMap || v.configMap.name !== w.configMap) {
      refuse(pod, `spec.volumes[${v.name}]`, `is ${show(v)}, expected configMap ${w.configMap}`);
    }
  }
  for (const name of Object.keys(want)) if (!vols.some((v) => v.name === name)) refuse(pod, 'spec.volumes', `has no volume ${name}`);
}

/** The container's mounts must be exactly `want` (volume → mountPath), plus the service-account token's. */
export function expectMounts(pod: AddonPod, c: ContainerSpec, want: Record<string, string>): void {
  const mounts = (c.volumeMounts ?? []).filter((m) => !(m.mountPath === SA_MOUNT && /^kube-api-access-/.test(m.name)));
  const got = Object.fromEntries(mounts.map((m) => [m.name, m.mountPath]));
  if (mounts.some((m) => m.subPath)) refuse(pod, `containers[${c.name}].volumeMounts`, 'subPath is not supported by the SIMULATED runtime');
  if (mounts.length !== Object.keys(want).length || Object.entries(want).some(([k, v]) => got[k] !== v)) {
    refuse(pod, `containers[${c.name}].volumeMounts`, `are ${show(got)}, expected ${show(want)}`);
  }
}

/**
 * Where a path inside the container comes from: a hostPath volume (the node's own path) or a key
 * of a configMap volume; undefined when no mount covers it.
 */
export function resolveInContainer(pod: AddonPod, c: ContainerSpec, path: string):
  { hostPath: string } | { configMap: string; volume: string; key: string } | undefined {
  const p = posix.normalize(path);
  const mounts = [...(c.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const m of mounts) {
    const base = m.mountPath.replace(/\/+$/, '') || '/';
    if (p !== base && !p.startsWith(`${base}/`)) continue;
    const rest = p.slice(base.length).replace(/^\//, '');
    const v = (pod.spec.volumes ?? []).find((x) => x.name === m.name);
    if (v?.hostPath) return { hostPath: rest ? posix.join(v.hostPath.path, rest) : v.hostPath.path };
    if (v?.configMap) {
      const item = v.configMap.items ? v.configMap.items.find((i) => i.path === rest) : { key: rest, path: rest };
      if (!item || !rest || rest.includes('/')) return undefined;
      return { configMap: v.configMap.name, volume: v.name, key: item.key };
    }
    return undefined;
  }
  return undefined;
}

/** The env a kubelet would give: literal values and the downward API's metadata fields; anything else refused. */
export function resolveEnv(pod: AddonPod, c: ContainerSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    if (v.value !== undefined) { env[v.name] = v.value; continue; }
    const f = v.valueFrom?.fieldRef?.fieldPath;
    if (f === 'metadata.namespace') env[v.name] = pod.metadata.namespace;
    else if (f === 'metadata.name') env[v.name] = pod.metadata.name;
    else if (f === 'spec.nodeName' && pod.spec.nodeName) env[v.name] = pod.spec.nodeName;
    else refuse(pod, `containers[${c.name}].env[${v.name}]`, `valueFrom ${show(v.valueFrom)} is not resolved by the SIMULATED kubelet (literal values and fieldRef metadata.name/metadata.namespace/spec.nodeName only)`);
  }
  return env;
}
