// The addon activities of the host phase: apply one addon's manifest on the first master (diff
// first; a re-run changes nothing and says so), and wait until the addons' workloads run. Built
// by a factory like the other host-phase activities; spread into createHostPhaseActivities.
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile, reportProgress } from '../heartbeat.js';
import type { SshDeps } from '../ssh/access.js';
import { onHost } from '../host/session.js';
import { poll } from '../host/poll.js';
import type { HostStep } from '../host/index.js';
import { ADDONS, LOCAL_PATH, type AddonName } from './catalog.js';
import type { AddonApplyResult, AddonRolloutResult } from './context.js';
import { addonManifest } from './manifests.js';
import { applyManifest } from './apply.js';
import { liveWorkloads, storageClassExists, workloadPodsNotReady, workloadState, type WorkloadState } from './rollout.js';

export function createAddonActivities(deps: SshDeps = {}) {
  return {
    /** One addon (the CNI, or local-path storage) applied on `host` (the first master) unless the cluster has it as rendered. */
    async applyAddon(i: HostStep & { addon: AddonName }): Promise<AddonApplyResult> {
      if (!ADDONS.includes(i.addon)) throw ApplicationFailure.nonRetryable(`addon: ${JSON.stringify(i.addon)} is none of ${ADDONS.join(', ')}`, 'InvalidInput');
      const m = await addonManifest(i.inventory, i.addon);
      return heartbeatWhile(`${m.title} on ${i.host}`, async (signal) => ({
        host: i.host, addon: i.addon, title: m.title,
        changed: await onHost(deps, i, i.host, signal, (s) => applyManifest(s, m.title, m.text, m.facts, signal)),
      }));
    },

    /**
     * Every DaemonSet of the addons' manifests on each of `names` and ready, every Deployment
     * available, local-path's StorageClass there; polled within the attempt. On timeout the pods
     * that are not ready are named with their phase and reason.
     */
    async waitAddonsRollout(i: HostStep & { names: string[]; timeoutSeconds?: number }): Promise<AddonRolloutResult> {
      const manifests = await Promise.all(ADDONS.map(async (a) => ({ addon: a, ...(await addonManifest(i.inventory, a)) })));
      if (i.inventory.kubernetes.addonRollout === 'none-simulated') {
        return { lines: manifests.map((m) => `${m.title}: applied; rollout not checked (kubernetes.addonRollout: none-simulated: the lab's SIMULATED kubelet runs no addon pods)`) };
      }
      const timeoutMs = (i.timeoutSeconds ?? 300) * 1000;
      return heartbeatWhile('addons rolled out', async (signal) => {
        let states: { addon: AddonName; title: string; states: WorkloadState[] }[] = [];
        const probe = async () => {
          const live = await onHost(deps, i, i.host, signal, (s) => liveWorkloads(s, signal));
          states = manifests.map((m) => ({ addon: m.addon, title: m.title, states: m.facts.workloads.map((w) => workloadState(w, live.get(`${w.kind}/${w.namespace}/${w.name}`), i.names.length)) }));
          reportProgress({ notReady: states.flatMap((a) => a.states.filter((s) => !s.ready).map((s) => s.line)) });
          return states.every((a) => a.states.every((s) => s.ready)) ? states : undefined;
        };
        try {
          await poll('the addons rolled out', timeoutMs, signal, probe);
        } catch (err) {
          if (signal.aborted) throw err;
          const waiting = states.flatMap((a) => a.states.filter((s) => !s.ready).map((s) => ({ title: a.title, ...s })));
          const pods = await onHost(deps, i, i.host, signal, async (s) => (await Promise.all(waiting.map((w) => workloadPodsNotReady(s, w.workload, signal)))).flat()).catch(() => [] as string[]);
          const what = waiting.length ? waiting.map((w) => `${w.title}: ${w.line}`).join('; ') : (err as Error).message;
          throw ApplicationFailure.retryable(`addons not rolled out in ${Math.round(timeoutMs / 1000)} s: ${what}${pods.length ? `; pods not ready: ${pods.slice(0, 10).join('; ')}${pods.length > 10 ? `; and ${pods.length - 10} more` : ''}` : ''}`, 'AddonNotReady');
        }
        const sc = await onHost(deps, i, i.host, signal, (s) => storageClassExists(s, LOCAL_PATH.storageClass, signal));
        if (!sc) throw ApplicationFailure.retryable(`${LOCAL_PATH.title}: StorageClass ${LOCAL_PATH.storageClass} not found after the apply`, 'AddonNotReady');
        return {
          lines: states.map((a) => (a.addon === 'local-path'
            ? `${a.title}: provisioner available (${a.states.map((s) => s.line).join(', ')}), StorageClass ${LOCAL_PATH.storageClass}`
            : `${a.title}: ${a.states.map((s) => s.line).join(', ') || 'no DaemonSet or Deployment in its manifest'}`)),
        };
      });
    },
  };
}

export type AddonActivities = ReturnType<typeof createAddonActivities>;
