// Which Kubernetes release `mooring lab up --kubernetes 1.N` runs: one of the releases
// scripts/build-kubernetes.sh pins, found built in ~/.cache/mooring/kubernetes/<version>/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isExecutable, kubernetesCacheDir, PROJECT_ROOT } from '../client/tools.js';

export const KUBERNETES_PROGRAMS = ['kubeadm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export interface KubernetesBuild { version: string; binDir: string }

export function pinnedKubernetes(): string[] {
  const script = readFileSync(join(PROJECT_ROOT, 'scripts/build-kubernetes.sh'), 'utf8');
  const m = /^KUBERNETES_PINNED_VERSIONS=\(([^)]*)\)/m.exec(script);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

/** '1.35', 'v1.35' or '1.35.4' → the pinned, built release; an Error saying how to get it otherwise. */
export function resolveKubernetes(request: string): KubernetesBuild {
  const pinned = pinnedKubernetes();
  const m = /^v?(1\.\d+)(\.\d+)?$/.exec(request.trim());
  if (!m) throw new Error(`--kubernetes "${request}" must be a release such as 1.35 or 1.35.4 (the lab builds ${pinned.join(', ')})`);
  const version = pinned.find((v) => (m[2] ? v === `${m[1]}${m[2]}` : v.startsWith(`${m[1]}.`)));
  if (!version) throw new Error(`--kubernetes ${request}: the lab builds ${pinned.join(', ')}; pick one of those minors`);
  const binDir = join(kubernetesCacheDir(), version);
  for (const p of KUBERNETES_PROGRAMS) {
    if (!isExecutable(join(binDir, p))) {
      throw new Error(`--kubernetes ${request}: ${join(binDir, p)} is not built yet: run \`bash scripts/build-kubernetes.sh ${version}\` (10-20 minutes once; \`npm run setup\` builds every pinned release)`);
    }
  }
  return { version, binDir };
}
