// SIMULATED kubelet (lab only): reads the static-pod manifests the way the kubelet's file source
// does: every regular file in the directory except hidden ones, YAML or JSON, one Pod each. A file
// that does not parse is reported and skipped, like the real kubelet, so a half-written manifest
// never stops the pods that are running.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface ProbeSpec {
  httpGet?: { host?: string; port: number | string; path?: string; scheme?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
  [k: string]: unknown;
}

export interface StaticPodManifest {
  apiVersion: string;
  kind: 'Pod';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: ContainerSpec[]; terminationGracePeriodSeconds?: number; hostNetwork?: boolean; [k: string]: unknown };
}

export interface StaticPod {
  /** The file it came from. */
  file: string;
  manifest: StaticPodManifest;
  /** What kubernetes.io/config.hash carries: changes exactly when the file's content changes. */
  hash: string;
  /** `<name>-<node>`, the mirror pod's name, as the real kubelet names it. */
  fullName: string;
  namespace: string;
}

/**
 * The config hash. The real kubelet hashes the decoded Pod with the node name and file name folded
 * in; hashing the file's bytes the same way changes exactly when kubeadm rewrites a manifest with
 * different content, which is what `kubeadm upgrade` waits for.
 */
export function configHash(nodeName: string, file: string, content: string): string {
  return createHash('md5').update(`${nodeName}\n${file}\n${content}`).digest('hex');
}

function validate(file: string, doc: unknown): StaticPodManifest {
  const pod = doc as StaticPodManifest;
  if (!pod || typeof pod !== 'object') throw new Error(`${file}: not a Pod object`);
  if (pod.kind !== 'Pod') throw new Error(`${file}: kind is ${JSON.stringify(pod.kind)}, a static pod manifest must be kind: Pod`);
  if (!pod.metadata?.name) throw new Error(`${file}: metadata.name is missing`);
  if (!Array.isArray(pod.spec?.containers) || pod.spec.containers.length === 0) throw new Error(`${file}: spec.containers is empty`);
  for (const [i, c] of pod.spec.containers.entries()) {
    if (!c.name || !c.image) throw new Error(`${file}: spec.containers[${i}] needs name and image`);
    if (!c.command?.length) throw new Error(`${file}: spec.containers[${i}].command is empty; this SIMULATED kubelet runs the command, it has no image entrypoints`);
  }
  return pod;
}

/** Every manifest in `dir` that parses, and the errors of those that do not. */
export function readStaticPods(dir: string, nodeName: string): { pods: StaticPod[]; errors: string[] } {
  const pods: StaticPod[] = [];
  const errors: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return { pods, errors: (e as NodeJS.ErrnoException).code === 'ENOENT' ? [] : [`${dir}: ${(e as Error).message}`] };
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      const content = readFileSync(file, 'utf8');
      const manifest = validate(file, parse(content));
      const namespace = manifest.metadata.namespace ?? 'default';
      pods.push({ file, manifest, hash: configHash(nodeName, file, content), fullName: `${manifest.metadata.name}-${nodeName}`, namespace });
    } catch (e) {
      // A file renamed away while being read (an editor's or sed's temporary file) is no error.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') errors.push((e as Error).message);
    }
  }
  return { pods, errors };
}
