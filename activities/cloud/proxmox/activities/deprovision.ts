// Deprovisioning: only VMs in the reserved range that carry the cluster's tag are touched; each is
// stopped, then destroyed with its disks (tasks resumed from the heartbeat like the others), and its
// host-key snippet removed. A VM already gone is a success, so a re-run is harmless.
import { heartbeatWhile } from '../../../heartbeat.js';
import { withProxmox } from '../client.js';
import type { ProxmoxTarget, PveVm, VmidRange } from '../context.js';
import { parseEngineError } from '../errors.js';
import { listVms } from '../cluster/resources.js';
import { currentStatus, stopVm } from '../nodes/qemu-status.js';
import { startDestroy } from '../nodes/qemu-destroy.js';
import { waitTask } from '../nodes/tasks.js';
import { removeSnippet } from '../snippets.js';

export function createDeprovisionSteps(pollMs: number) {
  return {
    async listClusterVms(i: { target: ProxmoxTarget; tag: string; range: VmidRange }): Promise<PveVm[]> {
      return withProxmox('listing the cluster\'s VMs', i.target, async (api) =>
        (await listVms(api)).filter((v) => v.vmid >= i.range.first && v.vmid <= i.range.last && v.tags.includes(i.tag) && !v.template));
    },

    async destroyVm(i: { target: ProxmoxTarget; vm: PveVm; cluster: string; snippetsDir?: string }): Promise<{ destroyed: boolean }> {
      const what = `removal of ${i.vm.name} (VM ${i.vm.vmid})`;
      const r = await withProxmox(what, i.target, (api) => heartbeatWhile(what, async (signal) => {
        let status: string;
        try {
          status = (await currentStatus(api, i.vm.node, i.vm.vmid)).status;
        } catch (err) {
          if (/does not exist/.test(parseEngineError(err)?.reason ?? '')) return { destroyed: false };
          throw err;
        }
        if (status === 'running') await waitTask(api, await stopVm(api, i.vm.node, i.vm.vmid), what, { pollMs, signal });
        await waitTask(api, await startDestroy(api, i.vm.node, i.vm.vmid), what, { pollMs, signal });
        return { destroyed: true };
      }));
      if (i.snippetsDir) await removeSnippet(i.snippetsDir, i.cluster, i.vm.name);
      return r;
    },
  };
}
