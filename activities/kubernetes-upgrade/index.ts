// Activities of the upgrade runbook's Kubernetes hops. Every one heartbeats, opens its SSH session
// itself, reads before it acts (a retry after a crash skips what is done) and returns what it found
// or did, for the run's history.
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile, reportProgress } from '../heartbeat.js';
import { withSession, type HostRef, type SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import type { KubeAccess, KubePackage, KubernetesBinaries, PreflightInput, PreflightResult } from './context.js';
import { preflight } from './preflight.js';
import { installPackages } from './packages.js';
import { upgradeApply, upgradeNode, upgradePlan } from './kubeadm.js';
import { cordon, drain, nodeState, restartKubelet, uncordon } from './nodes.js';

export type { KubeNodeRef, KubernetesBinaries, PreflightResult } from './context.js';

interface OnNode { ssh: KubeAccess['ssh']; host: HostRef }

export function createKubernetesUpgradeActivities(deps: SshDeps) {
  const on = <T>(what: string, input: OnNode, fn: (s: SshSession, signal: AbortSignal) => Promise<T>) =>
    heartbeatWhile(what, (signal) => withSession(deps, input.ssh, input.host, signal, (s) => fn(s, signal)));
  const via = <T>(what: string, input: KubeAccess, fn: (s: SshSession, signal: AbortSignal) => Promise<T>) => on(what, { ssh: input.ssh, host: input.via }, fn);

  return {
    /** Reads only; the workflow stops the hop on any problem. */
    async kubernetesPreflight(input: PreflightInput): Promise<PreflightResult> {
      return heartbeatWhile(`preflight of ${input.from} → ${input.to}`, (signal) => preflight(deps, input, signal));
    },

    async installKubernetesPackages(input: OnNode & { binaries: KubernetesBinaries; version: string; packages: KubePackage[] }) {
      return on(`install ${input.packages.join(', ')} ${input.version} on ${input.host.name}`, input, (s, signal) => installPackages(s, input.binaries, input.version, input.packages, signal));
    },

    async kubeadmUpgradePlan(input: OnNode & { version: string; ignorePreflightErrors: string[] }) {
      return on(`kubeadm upgrade plan on ${input.host.name}`, input, (s, signal) => upgradePlan(s, input.version, input.ignorePreflightErrors, signal));
    },

    async kubeadmUpgradeApply(input: OnNode & { version: string; ignorePreflightErrors: string[] }) {
      return on(`kubeadm upgrade apply v${input.version} on ${input.host.name}`, input, (s, signal) => upgradeApply(s, input.version, input.ignorePreflightErrors, signal));
    },

    async kubeadmUpgradeNode(input: OnNode & { version: string; role: 'master' | 'worker'; ignorePreflightErrors: string[] }) {
      return on(`kubeadm upgrade node on ${input.host.name}`, input, (s, signal) => upgradeNode(s, input.version, input.role, input.ignorePreflightErrors, signal));
    },

    /** Restarts the node's kubelet unless the apiserver already sees it Ready on `version`. */
    async restartKubeletAt(input: OnNode & { via: HostRef; version: string }) {
      const st = await on(`state of ${input.host.name}`, { ssh: input.ssh, host: input.via }, (s, signal) => nodeState(s, input.host.name, signal));
      if (st.ready && st.kubelet === input.version) return { restarted: false };
      await on(`restart the kubelet on ${input.host.name}`, input, (s, signal) => restartKubelet(s, signal));
      return { restarted: true };
    },

    /** Ready with the kubelet on `version`, else a retryable failure: the retry policy is the wait. */
    async expectNodeReadyAt(input: KubeAccess & { node: string; version: string }) {
      return via(`${input.node} Ready on ${input.version}`, input, async (s, signal) => {
        const st = await nodeState(s, input.node, signal);
        if (st.ready && st.kubelet === input.version) return st;
        throw ApplicationFailure.retryable(`${input.node} is ${st.ready ? 'Ready' : 'not Ready'} with kubelet ${st.kubelet ?? 'unknown'}, waiting for ${input.version}`, 'NodeNotBack');
      });
    },

    async nodeUpgradeState(input: KubeAccess & { node: string }) {
      return via(`state of ${input.node}`, input, (s, signal) => nodeState(s, input.node, signal));
    },

    async cordonNode(input: KubeAccess & { node: string; run: string }) {
      return via(`cordon ${input.node}`, input, (s, signal) => cordon(s, input.node, input.run, signal));
    },

    async uncordonNode(input: KubeAccess & { node: string }) {
      return via(`uncordon ${input.node}`, input, (s, signal) => uncordon(s, input.node, signal));
    },

    /** A drain that does not finish in its time is not an error: the workflow holds and asks. */
    async drainNode(input: KubeAccess & { node: string; timeoutSeconds: number }) {
      return via(`drain ${input.node}`, input, (s, signal) => drain(s, input.node, input.timeoutSeconds, signal, (line) => reportProgress({ last: line })));
    },
  };
}
