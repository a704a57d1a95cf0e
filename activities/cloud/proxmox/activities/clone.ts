// The clone of one host's VM, idempotent and resumable:
// - a VM in the range with the host's name and Mooring's marker in its description is this host's
//   (found again on a retry, or after proxmox-api's own silent retry of the POST): no second clone;
// - a UPID in the last heartbeat's details is the clone task a killed attempt started: polled again
//   (the lookup before the clone sends no heartbeat, so the UPID is this attempt's first one);
// - each candidate VMID is checked free first; "config file already exists" (the VMID race: someone
//   took it between the check and the clone) moves on to the next ID of the range.
import { Context } from '@temporalio/activity';
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../../../heartbeat.js';
import { withProxmox, type PveApi } from '../client.js';
import type { ProxmoxTarget, PveVm, VmidRange, VmPlan } from '../context.js';
import { ProxmoxInventoryError, parseEngineError } from '../errors.js';
import { isVmidFree } from '../cluster/nextid.js';
import { listVms } from '../cluster/resources.js';
import { startClone } from '../nodes/qemu-clone.js';
import { getConfig } from '../nodes/qemu-config.js';
import { currentStatus } from '../nodes/qemu-status.js';
import { taskStatus, waitTask } from '../nodes/tasks.js';

export interface CloneInput {
  target: ProxmoxTarget;
  cluster: string;
  range: VmidRange;
  template: { vmid: number; node: string };
  storage: string;
  full: boolean;
  vm: Pick<VmPlan, 'host' | 'node' | 'vmid'>;
}

export interface CloneResult { vmid: number; node: string; created: boolean; upid?: string; warnings: string[] }

type CloneBeat = { upid?: string; vmid?: number; node?: string };

/** Written into the clone's description: how a retry recognises the VM before it carries the tag. */
export function cloneMarker(cluster: string, host: string): string {
  return `mooring:${cluster}/${host}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function isOurs(api: PveApi, v: PveVm, i: CloneInput): Promise<boolean> {
  if (v.name !== i.vm.host || v.template || v.vmid < i.range.first || v.vmid > i.range.last) return false;
  const cfg = await getConfig(api, v.node, v.vmid);
  return String(cfg.description ?? '').includes(cloneMarker(i.cluster, i.vm.host));
}

async function findOurs(api: PveApi, i: CloneInput): Promise<PveVm | undefined> {
  for (const v of await listVms(api)) if (await isOurs(api, v, i)) return v;
  return undefined;
}

/** A clone found by lookup may still be copying: wait until PVE lifts its "clone" lock. */
async function untilUnlocked(api: PveApi, v: PveVm, pollMs: number): Promise<void> {
  for (;;) {
    const s = await currentStatus(api, v.node, v.vmid);
    if (s.lock !== 'clone') return;
    reportProgress({ waitingForLock: `VM ${v.vmid} is still being cloned` });
    await sleep(pollMs);
  }
}

export async function ensureClone(i: CloneInput, pollMs: number): Promise<CloneResult> {
  const what = `clone of ${i.vm.host}`;
  return withProxmox(what, i.target, async (api) => {
    const beat = lastHeartbeat<CloneBeat>();
    if (beat?.upid && beat.vmid !== undefined) {
      // A previous attempt started this task: follow it rather than clone again. A task that has
      // since failed left no VM, so this attempt starts over below.
      const { upid, vmid } = beat;
      const s = await taskStatus(api, upid);
      if (s.status === 'running' || s.exitstatus === 'OK' || /^WARNINGS: \d+$/.test(s.exitstatus ?? '')) {
        return heartbeatWhile(what, async (signal) => {
          reportProgress({ resumed: upid }, { now: true });
          const done = await waitTask(api, upid, what, { pollMs, signal });
          return { vmid, node: beat.node ?? i.vm.node, created: true, upid, warnings: done.warnings };
        });
      }
    }
    const found = await findOurs(api, i);
    if (found) return heartbeatWhile(what, async () => { await untilUnlocked(api, found, pollMs); return { vmid: found.vmid, node: found.node, created: false, warnings: [] }; });
    const taken = new Set((await listVms(api)).map((v) => v.vmid));
    for (let id = i.vm.vmid; id <= i.range.last; id++) {
      if (taken.has(id) || !(await isVmidFree(api, id))) continue;
      let upid: string;
      try {
        upid = await startClone(api, { templateNode: i.template.node, templateVmid: i.template.vmid, newid: id, name: i.vm.host, target: i.vm.node, full: i.full, ...(i.full ? { storage: i.storage } : {}), description: cloneMarker(i.cluster, i.vm.host) });
      } catch (err) {
        const e = parseEngineError(err);
        if (e?.status === 500 && /config file already exists/i.test(e.reason)) {
          // Our own POST repeated by proxmox-api after a lost answer, or the VMID race.
          const mine = await findOurs(api, i);
          if (mine) return heartbeatWhile(what, async () => { await untilUnlocked(api, mine, pollMs); return { vmid: mine.vmid, node: mine.node, created: true, warnings: [] }; });
          continue;
        }
        throw err;
      }
      // The first heartbeat of this attempt carries the UPID: the SDK sends a first heartbeat at once
      // (later ones are throttled to 80 % of the heartbeat timeout), so a worker killed a moment
      // later has already left the UPID for the retry.
      const details: CloneBeat = { upid, vmid: id, node: i.vm.node };
      Context.current().heartbeat({ ...details, what });
      return heartbeatWhile(what, async (signal) => {
        reportProgress(details, { now: true });
        const done = await waitTask(api, upid, what, { pollMs, signal });
        return { vmid: id, node: i.vm.node, created: true, upid, warnings: done.warnings };
      });
    }
    throw new ProxmoxInventoryError(`provider.proxmox.vmids: no free VMID left in ${i.range.first}–${i.range.last} for ${i.vm.host}: widen the range`);
  });
}
