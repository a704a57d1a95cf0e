// After the clone: cloud-init and size (config), the disk grown, the VM started, and the guest
// agent's report of the address. Each step reads before it writes, so a re-run changes nothing, and
// each task's UPID goes into the heartbeat details so a retry after a worker crash polls the task
// it already started.
import { ApplicationFailure } from '@temporalio/activity';
import type { SecretRef } from '../../../../config/schema.js';
import { resolveSecret } from '../../../secrets.js';
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../../../heartbeat.js';
import { deriveHostKey, publicKeyOnly } from '../../host-keys.js';
import { cloudInitUserData } from '../../cloud-init.js';
import { withProxmox, type PveApi } from '../client.js';
import type { ProxmoxTarget } from '../context.js';
import { parseEngineError } from '../errors.js';
import { diskSizeGiB, getConfig, putConfig, type VmConfig } from '../nodes/qemu-config.js';
import { startResize } from '../nodes/qemu-resize.js';
import { currentStatus, startVm } from '../nodes/qemu-status.js';
import { guestIPv4 } from '../nodes/agent.js';
import { taskStatus, waitTask, type TaskOutcome } from '../nodes/tasks.js';
import { snippetVolume, writeSnippet } from '../snippets.js';
import { cloneMarker } from './clone.js';

export interface VmRef { target: ProxmoxTarget; host: string; node: string; vmid: number }

export interface ConfigureInput extends VmRef {
  cluster: string;
  tag: string;
  cores: number;
  memoryMiB: number;
  ip: string;
  prefix: number;
  gateway: string;
  nameservers: string[];
  bridge: string;
  ciuser: string;
  publicKey: string;
  hostKeySeed: SecretRef;
  snippets: { storage: string; localDir: string };
}

/** PVE wants sshkeys percent-encoded (a '+' or a space in the raw key is refused). */
export function encodeSshKeys(keys: string[]): string {
  return encodeURIComponent(keys.join('\n'));
}

function withBridge(net0: string | number | undefined, bridge: string): string {
  const parts = String(net0 ?? 'virtio').split(',').filter((p) => !p.startsWith('bridge='));
  return [parts[0] ?? 'virtio', `bridge=${bridge}`, ...parts.slice(1)].join(',');
}

function tagsWith(current: string | number | undefined, tag: string): string {
  const tags = String(current ?? '').split(/[;, ]+/).filter(Boolean);
  return tags.includes(tag) ? tags.join(';') : [...tags, tag].join(';');
}

/** Runs (or, from the heartbeat, resumes) one task-returning call. */
async function runTask(api: PveApi, key: string, what: string, pollMs: number, signal: AbortSignal, start: () => Promise<string | undefined>, ok?: (exit: string) => boolean): Promise<TaskOutcome | undefined> {
  const beat = lastHeartbeat<Record<string, string>>();
  let upid = beat?.[key];
  if (upid) {
    const s = await taskStatus(api, upid).catch(() => undefined);
    if (s && s.status === 'stopped' && s.exitstatus !== 'OK' && !/^WARNINGS/.test(s.exitstatus ?? '') && !ok?.(s.exitstatus ?? '')) upid = undefined;
  }
  upid ??= await start();
  if (!upid) return undefined;
  reportProgress({ [key]: upid }, { now: true });
  try {
    return await waitTask(api, upid, what, { pollMs, signal });
  } catch (err) {
    const exit = (err as { exitstatus?: string }).exitstatus;
    if (exit !== undefined && ok?.(exit)) return { upid, exitstatus: exit, warnings: [] };
    throw err;
  }
}

export function createVmSteps(pollMs: number) {
  return {
    /** Cloud-init, size, NIC and tag; the host-key snippet written first. Returns the public host key. */
    async configureVm(i: ConfigureInput): Promise<{ hostKey: string; changed: string[] }> {
      const seed = await resolveSecret(i.hostKeySeed, 'ssh.hostKeySeed');
      const key = deriveHostKey(seed, i.cluster, i.host);
      const wrote = await writeSnippet(i.snippets.localDir, i.cluster, i.host, cloudInitUserData({ name: i.host, hostKey: key }));
      return withProxmox(`configuring ${i.host} (VM ${i.vmid})`, i.target, async (api) => {
        const cfg = await getConfig(api, i.node, i.vmid);
        const want: VmConfig = {
          tags: tagsWith(cfg.tags, i.tag),
          description: String(cfg.description ?? '').includes(cloneMarker(i.cluster, i.host)) ? String(cfg.description) : cloneMarker(i.cluster, i.host),
          cores: i.cores,
          memory: i.memoryMiB,
          agent: '1',
          net0: withBridge(cfg.net0, i.bridge),
          ciuser: i.ciuser,
          sshkeys: encodeSshKeys([i.publicKey]),
          ipconfig0: `ip=${i.ip}/${i.prefix},gw=${i.gateway}`,
          nameserver: i.nameservers.join(' '),
          cicustom: `vendor=${snippetVolume(i.snippets.storage, i.cluster, i.host)}`,
        };
        const changed = Object.entries(want).filter(([k, v]) => String(cfg[k] ?? '') !== String(v)).map(([k]) => k);
        if (changed.length) await putConfig(api, i.node, i.vmid, Object.fromEntries(changed.map((k) => [k, want[k] as string | number])));
        return { hostKey: publicKeyOnly(key.publicKey), changed: [...(wrote ? ['snippet'] : []), ...changed] };
      });
    },

    /** Grows the first disk to the inventory's size; a disk already that large is left alone. */
    async resizeVmDisk(i: VmRef & { diskGiB: number }): Promise<{ resized: boolean; warnings: string[] }> {
      const what = `disk resize of ${i.host}`;
      return withProxmox(what, i.target, (api) => heartbeatWhile(what, async (signal) => {
        const cfg = await getConfig(api, i.node, i.vmid);
        const disk = ['scsi0', 'virtio0', 'sata0', 'ide0'].find((d) => cfg[d] !== undefined && !String(cfg[d]).includes('cloudinit'));
        if (!disk) throw ApplicationFailure.nonRetryable(`${what}: VM ${i.vmid} has no scsi0/virtio0/sata0 disk (template provider.proxmox.templateVmid needs a boot disk)`, 'ProxmoxInventoryError');
        const have = diskSizeGiB(cfg[disk]);
        if (have !== undefined && have >= i.diskGiB && !lastHeartbeat<Record<string, string>>()?.resizeUpid) return { resized: false, warnings: [] };
        const out = await runTask(api, 'resizeUpid', what, pollMs, signal, () => startResize(api, i.node, i.vmid, disk, i.diskGiB));
        return { resized: true, warnings: out?.warnings ?? [] };
      }));
    },

    /** Starts the VM; one already running is a success. */
    async startVmTask(i: VmRef): Promise<{ started: boolean; warnings: string[] }> {
      const what = `start of ${i.host}`;
      return withProxmox(what, i.target, (api) => heartbeatWhile(what, async (signal) => {
        const resuming = Boolean(lastHeartbeat<Record<string, string>>()?.startUpid);
        if (!resuming && (await currentStatus(api, i.node, i.vmid)).status === 'running') return { started: false, warnings: [] };
        const out = await runTask(api, 'startUpid', what, pollMs, signal, () => startVm(api, i.node, i.vmid), (exit) => /already running/.test(exit));
        return { started: true, warnings: out?.warnings ?? [] };
      }));
    },

    /** Until the QEMU guest agent reports the host's address (500s while the guest boots are expected). */
    async waitGuestAddress(i: VmRef & { ip: string; timeoutSeconds: number }): Promise<{ addresses: string[] }> {
      const what = `guest agent of ${i.host}`;
      return withProxmox(what, i.target, (api) => heartbeatWhile(what, async (signal) => {
        const deadline = Date.now() + i.timeoutSeconds * 1000;
        let last = 'no answer yet';
        for (;;) {
          try {
            const addrs = await guestIPv4(api, i.node, i.vmid);
            if (addrs.includes(i.ip)) return { addresses: addrs };
            last = `reports ${addrs.join(', ') || 'no IPv4 address'}`;
          } catch (err) {
            const e = parseEngineError(err);
            if (!e || e.status !== 500) throw err;
            last = e.reason;
          }
          reportProgress({ agent: last });
          if (Date.now() > deadline) {
            throw ApplicationFailure.nonRetryable(`${i.host} (VM ${i.vmid} on ${i.node}): the QEMU guest agent did not report ${i.ip} within ${i.timeoutSeconds} s (last: ${last}): check that the template has qemu-guest-agent installed and enabled and that cloud-init applied ipconfig0 (the VM's console shows both)`, 'ProxmoxGuestAgentTimeout');
          }
          await new Promise((r, j) => { const t = setTimeout(r, pollMs); signal.addEventListener('abort', () => { clearTimeout(t); j(signal.reason as Error); }, { once: true }); });
        }
      }));
    },
  };
}
