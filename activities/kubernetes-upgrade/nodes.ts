// A node during a hop, through the real apiserver (kubectl on a master) and on the node itself:
// cordon (marked as this run's, so a later run knows whose it is), drain with kubectl's own
// eviction loop (PodDisruptionBudgets respected, a time limit), uncordon only what this run (or an
// earlier upgrade run) cordoned, the kubelet restarted, the node Ready on the release.
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { CORDONED_BY } from './context.js';
import { kubectlCommand, kubectlJson } from './kubectl.js';
import type { NodeObject } from './preflight-checks.js';

export interface NodeState { name: string; ready: boolean; kubelet?: string; unschedulable: boolean; cordonedBy?: string }

export async function nodeState(s: SshSession, node: string, signal: AbortSignal): Promise<NodeState> {
  const n = await kubectlJson<NodeObject>(s, ['get', 'node', node], signal);
  const by = n.metadata.annotations?.[CORDONED_BY];
  return {
    name: node,
    ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    unschedulable: n.spec?.unschedulable === true,
    ...(n.status?.nodeInfo?.kubeletVersion ? { kubelet: n.status.nodeInfo.kubeletVersion.replace(/^v/, '') } : {}),
    ...(by ? { cordonedBy: by } : {}),
  };
}

/** Cordons `node` for `run`; a node someone else cordoned is left theirs (and stays cordoned after). */
export async function cordon(s: SshSession, node: string, run: string, signal: AbortSignal): Promise<{ cordoned: boolean; byOthers: boolean }> {
  const st = await nodeState(s, node, signal);
  if (st.unschedulable && !st.cordonedBy) return { cordoned: false, byOthers: true };
  // The mark first: a crash between the two leaves a mark on a schedulable node, harmless.
  await s.run(kubectlCommand(['annotate', '--overwrite', 'node', node, `${CORDONED_BY}=${run}`]), { timeoutMs: 60_000, signal });
  await s.run(kubectlCommand(['cordon', node]), { timeoutMs: 60_000, signal });
  return { cordoned: true, byOthers: false };
}

/** Uncordons `node` if an upgrade run cordoned it; a node cordoned by someone else stays so. */
export async function uncordon(s: SshSession, node: string, signal: AbortSignal): Promise<{ uncordoned: boolean; leftCordoned: boolean }> {
  const st = await nodeState(s, node, signal);
  if (!st.cordonedBy) return { uncordoned: false, leftCordoned: st.unschedulable };
  if (st.unschedulable) await s.run(kubectlCommand(['uncordon', node]), { timeoutMs: 60_000, signal });
  await s.run(kubectlCommand(['annotate', 'node', node, `${CORDONED_BY}-`]), { timeoutMs: 60_000, signal });
  return { uncordoned: st.unschedulable, leftCordoned: false };
}

/**
 * Why the apiserver refused evictions, one line per pod and reason, from kubectl drain's retry
 * lines (`error when evicting pods/"P" -n "NS" (will retry after 5s): REASON`). kubectl's last
 * lines only say "global timeout reached": without these the person asked to retry or skip would
 * not learn that a PodDisruptionBudget is what holds the drain.
 */
export function evictionRefusals(lines: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of lines) {
    const m = /error when evicting pods\/"([^"]+)" -n "([^"]+)" \(will retry after [^)]*\): (.+)$/.exec(l);
    if (m) out.add(`${m[2]}/${m[1]}: ${m[3]!.trim()}`);
  }
  return [...out];
}

/**
 * `kubectl drain`: evictions (never deletions past a budget), DaemonSet pods ignored, emptyDir
 * data deleted with its pod, at most `timeoutSeconds`. Resolves with kubectl's last lines and the
 * evictions the apiserver refused, either way: the workflow holds on a drain that did not finish.
 */
export async function drain(s: SshSession, node: string, timeoutSeconds: number, signal: AbortSignal, onOutput: (line: string) => void): Promise<{ drained: boolean; output: string; refused: string[] }> {
  const r = await s.exec(kubectlCommand(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${timeoutSeconds}s`], `${Math.min(timeoutSeconds, 60)}s`), {
    timeoutMs: (timeoutSeconds + 60) * 1000, signal,
    onOutput: (chunk) => { const l = chunk.trim().split('\n').at(-1); if (l) onOutput(l.slice(0, 300)); },
  });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  // kubectl repeats the eviction error every 5 s: keep each distinct line once.
  const output = [...new Set(lines)].slice(-8).join('\n');
  return { drained: r.code === 0, output, refused: r.code === 0 ? [] : evictionRefusals(lines) };
}

/** Restarts the kubelet unit so it runs the installed release (daemon-reload first, as kubeadm's docs say). */
export async function restartKubelet(s: SshSession, signal: AbortSignal): Promise<void> {
  await s.run(sh`systemctl daemon-reload && systemctl restart kubelet`, { timeoutMs: 120_000, signal });
}
