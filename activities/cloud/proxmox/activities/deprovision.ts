// Deprovisioning: only VMs in the reserved range that are the cluster's are touched: those carrying
// its tag, and (when the cluster is named) those whose description holds Mooring's clone marker,
// so a clone whose configuration never ran (no tag yet) is not left behind. Before destroying,
// the VM's own config is read again and must still say it is the cluster's (the VMID may have been
// reused since the look-up); each is stopped, then destroyed with its disks, and its host-key
// snippet removed. Both tasks' UPIDs go into the heartbeat details: a retry after a worker crash
// follows the task the killed attempt started (and reports the VM destroyed) instead of finding a
// VM half gone. A VM already gone is a success, so a re-run is harmless.
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../../../heartbeat.js';
import { withProxmox, type PveApi } from '../client.js';
import type { ProxmoxTarget, PveVm, VmidRange } from '../context.js';
import { parseEngineError } from '../errors.js';
import { listVms } from '../cluster/resources.js';
import { getConfig } from '../nodes/qemu-config.js';
import { currentStatus, stopVm } from '../nodes/qemu-status.js';
import { startDestroy } from '../nodes/qemu-destroy.js';
import { taskStatus, waitTask } from '../nodes/tasks.js';
import { removeSnippet } from '../snippets.js';
import { cloneMarker } from './clone.js';

const gone = (err: unknown) => /does not exist/.test(parseEngineError(err)?.reason ?? '');

type DestroyBeat = { stopUpid?: string; destroyUpid?: string };

/** A task a killed attempt started that is running or ended well: worth following, not repeating. */
async function resumable(api: PveApi, upid: string | undefined): Promise<string | undefined> {
  if (!upid) return undefined;
  const s = await taskStatus(api, upid).catch(() => undefined);
  return s && (s.status === 'running' || s.exitstatus === 'OK' || /^WARNINGS: \d+$/.test(s.exitstatus ?? '')) ? upid : undefined;
}

/** Whether a VM's own config says it is the cluster's: its tag, or the clone marker for its name. */
async function isClusterVm(api: PveApi, vm: PveVm, tag: string, cluster: string): Promise<boolean> {
  const cfg = await getConfig(api, vm.node, vm.vmid);
  const tags = String(cfg.tags ?? '').split(/[;, ]+/);
  return !cfg.template && (tags.includes(tag) || String(cfg.description ?? '').includes(cloneMarker(cluster, String(cfg.name ?? vm.name))));
}

export function createDeprovisionSteps(pollMs: number) {
  return {
    /** The cluster's VMs in its range: tagged, or (given `cluster`) carrying the clone marker. */
    async listClusterVms(i: { target: ProxmoxTarget; tag: string; range: VmidRange; cluster?: string }): Promise<PveVm[]> {
      return withProxmox('listing the cluster\'s VMs', i.target, async (api) => {
        const inRange = (await listVms(api)).filter((v) => v.vmid >= i.range.first && v.vmid <= i.range.last && !v.template);
        const out: PveVm[] = [];
        for (const v of inRange) {
          if (v.tags.includes(i.tag)) out.push(v);
          else if (i.cluster !== undefined) {
            try { if (await isClusterVm(api, v, i.tag, i.cluster)) out.push(v); } catch (err) { if (!gone(err)) throw err; }
          }
        }
        return out;
      });
    },

    /**
     * Stops and destroys one VM. With `tag`, its config is checked first: a VM that no longer says
     * it is the cluster's is left alone (`notOurs`).
     */
    async destroyVm(i: { target: ProxmoxTarget; vm: PveVm; cluster: string; snippetsDir?: string; tag?: string }): Promise<{ destroyed: boolean; notOurs?: boolean }> {
      const what = `removal of ${i.vm.name} (VM ${i.vm.vmid})`;
      const r = await withProxmox(what, i.target, (api) => heartbeatWhile(what, async (signal) => {
        const beat = lastHeartbeat<DestroyBeat>() ?? {};
        const destroying = await resumable(api, beat.destroyUpid);
        if (destroying) {
          reportProgress({ ...beat, resumed: destroying }, { now: true });
          await waitTask(api, destroying, what, { pollMs, signal });
          return { destroyed: true };
        }
        const stopping = await resumable(api, beat.stopUpid);
        if (stopping) await waitTask(api, stopping, what, { pollMs, signal });
        let status: string;
        try {
          if (i.tag !== undefined && !(await isClusterVm(api, i.vm, i.tag, i.cluster))) return { destroyed: false, notOurs: true };
          status = (await currentStatus(api, i.vm.node, i.vm.vmid)).status;
        } catch (err) {
          if (gone(err)) return { destroyed: false };
          throw err;
        }
        if (status === 'running') {
          const stopUpid = await stopVm(api, i.vm.node, i.vm.vmid);
          reportProgress({ stopUpid }, { now: true });
          await waitTask(api, stopUpid, what, { pollMs, signal });
        }
        const destroyUpid = await startDestroy(api, i.vm.node, i.vm.vmid);
        reportProgress({ destroyUpid }, { now: true });
        await waitTask(api, destroyUpid, what, { pollMs, signal });
        return { destroyed: true };
      }));
      if (i.snippetsDir && !r.notOurs) await removeSnippet(i.snippetsDir, i.cluster, i.vm.name);
      return r;
    },
  };
}
