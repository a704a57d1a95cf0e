// The Kubernetes versions on one node, read over SSH the way an operator would: kubelet,
// kubeadm and kubectl from their own --version, the control-plane components from the image tags
// of the static-pod manifests kubeadm wrote (what the kubelet runs, whether or not it is up).
// Read-only. A program that is not installed is left out, not an error.
import { withSession, type HostRef, type SshAccess, type SshDeps } from '../ssh/access.js';

/** What the observation saw on one Kubernetes node; an absent field is "not installed there". */
export interface NodeVersions {
  name: string;
  role: 'master' | 'worker';
  reachable: boolean;
  kubelet?: string;
  kubeadm?: string;
  kubectl?: string;
  /** Control-plane components (masters), as their static-pod manifests run them. */
  apiserver?: string;
  controllerManager?: string;
  scheduler?: string;
}

const MANIFESTS = '/etc/kubernetes/manifests';
const COMPONENTS = { 'kube-apiserver': 'apiserver', 'kube-controller-manager': 'controllerManager', 'kube-scheduler': 'scheduler' } as const;

export const VERSIONS_COMMAND = [
  'echo "kubelet=$(kubelet --version 2>/dev/null)"',
  'echo "kubeadm=$(kubeadm version -o short 2>/dev/null)"',
  'echo "kubectl=$(kubectl version --client -o json 2>/dev/null | grep -o \'"gitVersion": *"[^"]*"\' | head -n 1)"',
  ...Object.keys(COMPONENTS).map((c) => `f=${MANIFESTS}/${c}.yaml; if [ -f "$f" ]; then echo "${c}=$(grep -o 'image: *[^ ]*${c}:[^ ]*' "$f" | head -n 1)"; fi`),
].join('; ');

/** Lines `name=<whatever the tool printed>` → the vX.Y.Z in each. */
export function parseVersionsOutput(text: string): Omit<NodeVersions, 'name' | 'role' | 'reachable'> {
  const out: Omit<NodeVersions, 'name' | 'role' | 'reachable'> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at < 0) continue;
    const key = line.slice(0, at);
    const v = /v?(\d+\.\d+\.\d+)/.exec(line.slice(at + 1))?.[1];
    if (!v) continue;
    if (key === 'kubelet' || key === 'kubeadm' || key === 'kubectl') out[key] = v;
    else if (key in COMPONENTS) out[COMPONENTS[key as keyof typeof COMPONENTS]] = v;
  }
  return out;
}

/** A node counts as unreachable only after this many tries: one slow handshake is not a node down. */
const TRIES = 3;

export async function nodeVersions(deps: SshDeps, ssh: SshAccess, node: HostRef, role: NodeVersions['role'], signal: AbortSignal): Promise<NodeVersions> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withSession(deps, ssh, node, signal, async (s) => ({
        name: node.name, role, reachable: true, ...parseVersionsOutput(await s.run(VERSIONS_COMMAND, { timeoutMs: 30_000, signal })),
      }));
    } catch (err) {
      // A wrong host key or a refused key must stop the run, not look like a node that is down.
      if ((err as Error).name === 'ApplicationFailure' && /HostKeyMismatch|AuthenticationFailed|InvalidInput/.test(String((err as { type?: string }).type))) throw err;
      if (attempt >= TRIES || signal.aborted) return { name: node.name, role, reachable: false };
      await new Promise((r) => setTimeout(r, 2000 * attempt));
    }
  }
}
