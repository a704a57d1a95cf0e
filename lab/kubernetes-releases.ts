// The SIMULATED Kubernetes package source of the labs (kubernetes.binaries.source): one directory
// per built release holding what its packages would install. kubeadm is a link into the build
// cache (scripts/build-kubernetes.sh), kubectl the machine's one build (within one minor of every
// pinned release), kubelet the SIMULATED kubelet's shim at that version (docs/kubelet-standin.md).
// The upgrade's "package install" copies that directory's files onto the node.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, isExecutable, kubernetesCacheDir } from '../client/tools.js';
import { pinnedKubernetes } from './kubernetes-versions.js';
import { kubeletShim } from './kubelet/install.js';

/** Writes `<dir>/<version>/{kubeadm,kubectl,kubelet}` for every pinned release that is built; returns the `{version}` pattern. */
export function writeKubernetesReleases(dir: string): string {
  const kubectl = findTool('kubectl', 'MOORING_KUBECTL');
  for (const v of pinnedKubernetes()) {
    const built = join(kubernetesCacheDir(), v);
    if (!isExecutable(join(built, 'kubeadm'))) continue;
    const release = join(dir, v);
    mkdirSync(release, { recursive: true });
    for (const [name, target] of [['kubeadm', join(built, 'kubeadm')], ['kubectl', kubectl]] as const) {
      rmSync(join(release, name), { force: true });
      symlinkSync(target, join(release, name));
    }
    writeFileSync(join(release, 'kubelet'), kubeletShim(`v${v}`), { mode: 0o755 });
  }
  return join(dir, '{version}');
}
