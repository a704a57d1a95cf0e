// The vendored addon manifests (addons/<addon>/<version>/<file>, committed by the addons work), read
// as documents. Until they are in the tree, a copy in .addon-fixtures/<file> (not committed; fetch
// them as docs/kubelet-standin.md says) is used; `undefined` when neither is there.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../activities/local/tools.js';

export const LOCAL_PATH_MANIFEST = 'addons/local-path-storage/v0.0.30/local-path-storage.yaml';
export const FLANNEL_MANIFEST = 'addons/flannel/v0.28.10/kube-flannel.yml';

export function addonManifestPath(rel: string): string | undefined {
  return [join(PROJECT_ROOT, rel), join(PROJECT_ROOT, '.addon-fixtures', basename(rel))].find((p) => existsSync(p));
}

export interface K8sObject { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }

export function addonObjects(rel: string): K8sObject[] | undefined {
  const p = addonManifestPath(rel);
  if (!p) return undefined;
  return parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS() as K8sObject).filter((o) => o && o.kind);
}
