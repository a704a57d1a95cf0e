// SIMULATED container runtime (lab only): configMap volumes as the kubelet materialises them, as
// files in a per-pod directory of the kubelet's state dir (<state-dir>/addon-pods/<pod>/volumes/<volume>/),
// read with the node's own credentials (the Node authorizer lets a node read a ConfigMap only
// when a pod bound to it references it). A process the runtime starts is pointed at these files
// instead of the container path (it has no mount namespace of its own).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../api-client.js';
import { refuse, type AddonPod, type Volume } from './pod.js';

export const podDir = (stateDir: string, p: AddonPod) => join(stateDir, 'addon-pods', `${p.metadata.namespace}_${p.metadata.name}_${p.metadata.uid}`);

export async function readConfigMap(api: ApiClient, namespace: string, name: string): Promise<Record<string, string>> {
  const cm = await api.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`);
  return cm.data ?? {};
}

/** The configMap volume's files (its items, or every key) under `dir`; returns whether any file changed. */
export async function writeConfigMapVolume(api: ApiClient, p: AddonPod, v: Volume, dir: string): Promise<boolean> {
  const data = await readConfigMap(api, p.metadata.namespace, v.configMap!.name);
  const items = v.configMap!.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
  mkdirSync(dir, { recursive: true });
  let changed = false;
  for (const it of items) {
    if (!/^[A-Za-z0-9._-]+$/.test(it.path) || it.path.startsWith('..')) refuse(p, `spec.volumes[${v.name}].configMap.items[${it.key}].path`, `${JSON.stringify(it.path)} is not a plain file name`);
    const text = data[it.key];
    if (text === undefined) refuse(p, `spec.volumes[${v.name}]`, `configMap ${p.metadata.namespace}/${v.configMap!.name} has no key ${JSON.stringify(it.key)}`);
    const file = join(dir, it.path);
    let before: string | undefined;
    try { before = readFileSync(file, 'utf8'); } catch { before = undefined; }
    if (before === text) continue;
    writeFileSync(`${file}.tmp`, text!);
    renameSync(`${file}.tmp`, file);
    changed = true;
  }
  return changed;
}
