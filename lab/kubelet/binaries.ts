// SIMULATED kubelet (lab only): the SIMULATED container runtime's "image pull". An image names a
// program built by scripts/build-kubernetes.sh or scripts/build-etcd.sh, and that program is run:
//   registry.k8s.io/kube-apiserver:v1.36.3 → <cache>/kubernetes/1.36.3/kube-apiserver when that
//     release is built next to --binaries (so `kubeadm upgrade` really runs the new release), else
//     --binaries/kube-apiserver (with a warning when the tag says another release);
//   registry.k8s.io/etcd:3.6.5-0 → --etcd-binaries/etcd, else the newest build of the same minor in
//     <cache>/etcd/3.6.*/etcd (kubeadm pins etcd patch releases this lab does not build).
import { basename, dirname, join } from 'node:path';
import { cachedEtcdBuilds, etcdCacheDir, isExecutable as executable } from '../../client/tools.js';

export interface ResolvedBinary { path: string; warning?: string }


/** `registry.k8s.io/kube-apiserver:v1.35.4` → { repo: 'kube-apiserver', tag: 'v1.35.4' }. */
export function splitImage(image: string): { repo: string; tag: string } {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const tag = colon > slash ? noDigest.slice(colon + 1) : 'latest';
  const path = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return { repo: path.slice(path.lastIndexOf('/') + 1), tag };
}

function etcdBinary(tag: string, etcdBinaries: string | undefined): ResolvedBinary {
  if (etcdBinaries) {
    const p = join(etcdBinaries, 'etcd');
    if (executable(p)) return { path: p };
    throw new Error(`image etcd:${tag}: --etcd-binaries ${etcdBinaries} has no executable etcd`);
  }
  const m = /^v?(\d+)\.(\d+)\./.exec(tag);
  if (!m) throw new Error(`image etcd:${tag}: the tag names no etcd release; pass --etcd-binaries DIR`);
  const minor = `${m[1]}.${m[2]}`;
  const dir = etcdCacheDir();
  const newest = cachedEtcdBuilds().find((d) => basename(d).startsWith(`${minor}.`) && executable(join(d, 'etcd')));
  if (!newest) throw new Error(`image etcd:${tag}: no etcd ${minor} build in ${dir}; run scripts/build-etcd.sh ${minor} or pass --etcd-binaries DIR`);
  return { path: join(newest, 'etcd') };
}

/** The program standing for `image`, or an Error saying which build is missing. */
export function binaryForImage(image: string, binaries: string, etcdBinaries?: string): ResolvedBinary {
  const { repo, tag } = splitImage(image);
  if (repo === 'etcd') return etcdBinary(tag, etcdBinaries);
  const release = /^v(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
  if (release && release !== basename(binaries)) {
    const sibling = join(dirname(binaries), release, repo);
    if (executable(sibling)) return { path: sibling };
  }
  const p = join(binaries, repo);
  if (!executable(p)) throw new Error(`image ${image}: no executable ${p}; build it with scripts/build-kubernetes.sh or fix --binaries`);
  const warning = release && release !== basename(binaries)
    ? `image ${image}: release ${release} is not built next to ${binaries}; running ${p} instead`
    : undefined;
  return warning ? { path: p, warning } : { path: p };
}
