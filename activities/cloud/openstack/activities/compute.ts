// The compute half of the cloud phase: what a server boots from (image, flavors, key pair, checked
// before anything billable is made), server groups per role, the servers on their ports with
// cloud-init user data that pins their SSH host keys, and the wait for BUILD→ACTIVE.
import { ApplicationFailure } from '@temporalio/common';
import type { SecretRef } from '../../../../config/schema.js';
import { resolveKey256 } from '../../../secrets.js';
import { heartbeatWhile, lastHeartbeat, reportProgress } from '../../../heartbeat.js';
import { deriveHostKey } from '../../host-keys.js';
import { cloudInitUserData } from '../../cloud-init.js';
import type { CloudPlan, HostPlan } from '../plan/cloud-plan.js';
import { CloudInventoryError } from '../errors.js';
import { assertMayCreate } from '../ensure.js';
import { createKey } from '../plan/approved.js';
import { findImageByName } from '../image/images.js';
import { findFlavorByName } from '../compute/flavors.js';
import { getKeypair, importKeypair } from '../compute/keypairs.js';
import { createServerGroup, listServerGroups } from '../compute/server-groups.js';
import { createServer, deleteServer, getServer, listServersByName } from '../compute/servers.js';
import { externalNetworkId } from './network.js';
import { withCloud, type CloudTarget, type OpenStackDeps } from './context.js';

export interface BootRefs { imageId: string; flavorIds: Record<string, string>; externalNetworkId: string }

export interface ServerResult { id: string; created: boolean; hostKey: string }

export function createComputeActivities(deps: OpenStackDeps) {
  const pollMs = deps.pollMs ?? 2000;
  return {
    /** Everything a boot names must exist, found before the first billable create. */
    async resolveBootRefs(i: { target: CloudTarget; plan: Pick<CloudPlan, 'image' | 'hosts' | 'router' | 'keypair'> }): Promise<BootRefs> {
      return withCloud('image, flavors and external network', i.target, deps, async (c) => {
        const image = await findImageByName(c, i.plan.image, 'provider.openstack.image');
        const flavorIds: Record<string, string> = {};
        for (const h of i.plan.hosts) flavorIds[h.flavor] ??= (await findFlavorByName(c, h.flavor, h.flavorField)).id;
        const ext = await externalNetworkId(c, i.plan.router.externalNetwork, 'provider.openstack.floatingNetwork');
        if (!i.plan.keypair.publicKey && !(await getKeypair(c, i.plan.keypair.name))) {
          throw new CloudInventoryError(`provider.openstack.keyName: no key pair "${i.plan.keypair.name}" in cloud ${c.cloudName}: import it, or give provider.openstack.publicKey for Mooring to import`);
        }
        return { imageId: image.id, flavorIds, externalNetworkId: ext };
      });
    },

    async ensureKeypair(i: { target: CloudTarget; keypair: CloudPlan['keypair']; approved?: readonly string[] }): Promise<{ name: string; created: boolean }> {
      return withCloud(`key pair ${i.keypair.name}`, i.target, deps, async (c) => {
        const existing = await getKeypair(c, i.keypair.name);
        const want = i.keypair.publicKey?.split(/\s+/).slice(0, 2).join(' ');
        if (existing) {
          if (want && existing.public_key.split(/\s+/).slice(0, 2).join(' ') !== want) {
            throw new CloudInventoryError(`provider.openstack.publicKey: key pair ${i.keypair.name} exists with another key (${existing.fingerprint}): rename keyName or delete the old key pair`);
          }
          return { name: existing.name, created: false };
        }
        if (!i.keypair.publicKey) throw new CloudInventoryError(`provider.openstack.keyName: no key pair "${i.keypair.name}": import it, or give provider.openstack.publicKey`);
        assertMayCreate(i.approved, createKey('key pair', i.keypair.name));
        await importKeypair(c, i.keypair.name, i.keypair.publicKey);
        return { name: i.keypair.name, created: true };
      });
    },

    async ensureServerGroups(i: { target: CloudTarget; groups: CloudPlan['serverGroups']; approved?: readonly string[] }): Promise<Record<string, string>> {
      return withCloud('server groups', i.target, deps, async (c) => {
        const ids: Record<string, string> = {};
        let all = await listServerGroups(c);
        for (const g of i.groups) {
          const found = all.filter((x) => x.name === g.name);
          if (found.length > 1) throw new CloudInventoryError(`${found.length} server groups are named ${g.name}: delete the extra one`);
          if (!found[0]) assertMayCreate(i.approved, createKey('server group', g.name));
          const group = found[0] ?? await createServerGroup(c, g.name, g.policy);
          if (!found[0]) all = [...all, group];
          ids[g.role] = group.id;
        }
        return ids;
      });
    },

    /**
     * The server, booted on its port. The host key is derived here from the seed (never passed in,
     * never returned): the result carries only the public key. Found by name first, so a retry
     * after a create whose answer was lost does not boot a second server.
     */
    async ensureServer(i: {
      target: CloudTarget; tag: string; cluster: string; host: HostPlan; imageId: string; flavorId: string; portId: string; keyName: string;
      serverGroupId?: string; hostKeySeed: SecretRef; approved?: readonly string[];
    }): Promise<ServerResult> {
      return withCloud(`server ${i.host.server}`, i.target, deps, async (c) => {
        // 32 random bytes (raw, hex or base64), like every other key Mooring takes by reference.
        const seed = await resolveKey256(i.hostKeySeed, 'ssh.hostKeySeed');
        const key = deriveHostKey(seed, i.cluster, i.host.name);
        const found = await listServersByName(c, i.host.server);
        if (found.length > 1) throw new CloudInventoryError(`${found.length} servers are named ${i.host.server} (${found.map((s) => s.id).join(', ')}): delete the extra one`);
        if (found[0]) return { id: found[0].id, created: false, hostKey: key.publicKey };
        assertMayCreate(i.approved, createKey('server', i.host.server));
        const userData = Buffer.from(cloudInitUserData({ name: i.host.name, hostKey: key })).toString('base64');
        const s = await createServer(c, {
          name: i.host.server, imageRef: i.imageId, flavorRef: i.flavorId, key_name: i.keyName, user_data: userData, networks: [{ port: i.portId }],
          metadata: { 'mooring-cluster': i.cluster, 'mooring-role': i.host.role, 'mooring-host': i.host.name }, tags: [i.tag],
        }, i.serverGroupId);
        return { id: s.id, created: true, hostKey: key.publicKey };
      });
    },

    /**
     * Deletes a server and waits until Nova no longer lists it (heartbeating). Only a server that
     * carries the cluster's tag is deleted; one already gone is success, so a retry is harmless.
     */
    async deleteServerAndWait(i: { target: CloudTarget; tag: string; serverId: string; name: string; timeoutMs?: number }): Promise<{ deleted: boolean }> {
      return withCloud(`server ${i.name}`, i.target, deps, (c) => heartbeatWhile(`deleting ${i.name}`, async (signal) => {
        const first = await getServer(c, i.serverId);
        if (!first) return { deleted: false };
        if (!(first.tags ?? []).includes(i.tag)) throw new CloudInventoryError(`server ${i.name} (${i.serverId}) does not carry the tag ${i.tag}: Mooring deletes only what it made`);
        const prev = lastHeartbeat<{ deletingSince: number }>();
        const since = prev?.deletingSince ?? Date.now();
        reportProgress({ serverId: i.serverId, deletingSince: since }, { now: true });
        await deleteServer(c, i.serverId);
        for (;;) {
          const s = await getServer(c, i.serverId);
          if (!s) return { deleted: true };
          reportProgress({ status: s.status });
          if (Date.now() > since + (i.timeoutMs ?? 10 * 60_000)) throw ApplicationFailure.create({ type: 'OpenStackServerTimeout', nonRetryable: true, message: `server ${i.name} (${i.serverId}) still there (${s.status}) ${Math.round((Date.now() - since) / 1000)} s after its delete` });
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, pollMs);
            signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason as Error); }, { once: true });
          });
        }
      }, Math.max(200, Math.min(1000, pollMs))));
    },

    /**
     * BUILD→ACTIVE, heartbeating each read. A retry resumes the same deadline from the last beat.
     * ERROR fails without retry and shows Nova's fault message; the runbook decides what next.
     */
    async waitServerActive(i: { target: CloudTarget; serverId: string; name: string; timeoutMs?: number }): Promise<{ status: string; addresses: string[] }> {
      return withCloud(`server ${i.name}`, i.target, deps, (c) => heartbeatWhile(`waiting for ${i.name} to become ACTIVE`, async (signal) => {
        const prev = lastHeartbeat<{ waitingSince: number; polls: number }>();
        const since = prev?.waitingSince ?? Date.now();
        let polls = prev?.polls ?? 0;
        const deadline = since + (i.timeoutMs ?? 20 * 60_000);
        reportProgress({ serverId: i.serverId, waitingSince: since }, { now: true });
        for (;;) {
          const s = await getServer(c, i.serverId);
          polls += 1;
          if (!s) throw ApplicationFailure.create({ type: 'OpenStackServerGone', nonRetryable: true, message: `server ${i.name} (${i.serverId}) no longer exists: it was deleted while it built` });
          reportProgress({ status: s.status, polls });
          if (s.status === 'ACTIVE') return { status: s.status, addresses: Object.values(s.addresses).flat().map((a) => a.addr) };
          if (s.status === 'ERROR') {
            throw ApplicationFailure.create({ type: 'OpenStackServerError', nonRetryable: true, message: `server ${i.name} (${i.serverId}) went to ERROR: ${s.fault?.message ?? 'Nova gave no fault message'}`, details: [{ serverId: i.serverId, fault: s.fault?.message ?? null }] });
          }
          if (Date.now() > deadline) throw ApplicationFailure.create({ type: 'OpenStackServerTimeout', nonRetryable: true, message: `server ${i.name} (${i.serverId}) still ${s.status} after ${Math.round((Date.now() - since) / 1000)} s` });
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, pollMs);
            signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason as Error); }, { once: true });
          });
        }
      }, Math.max(200, Math.min(1000, pollMs))));
    },
  };
}
