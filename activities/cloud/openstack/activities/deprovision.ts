// Deprovision's activities: find what carries the cluster's tag (and the server groups and key
// pair Mooring named for it, which cannot carry tags), and delete one resource at a time. Every
// delete checks the tag on the resource itself first and takes "already gone" as done, so a
// retry, a second run or a run resumed after a crash deletes nothing twice and nothing else.
import type { CloudPlan } from '../plan/cloud-plan.js';
import { CloudInventoryError } from '../errors.js';
import { listServersByTag } from '../compute/servers.js';
import { deleteServerGroup, listServerGroups } from '../compute/server-groups.js';
import { deleteKeypair, getKeypair } from '../compute/keypairs.js';
import { listNetworks } from '../network/networks.js';
import { listSubnets } from '../network/subnets.js';
import { listRouters } from '../network/routers.js';
import { listSecurityGroups } from '../network/security-groups.js';
import { listPorts } from '../network/ports.js';
import { listFloatingIps } from '../network/floating-ips.js';
import { clearRouterGateway, deleteNeutron, getNeutron, removeRouterInterface } from '../network/delete.js';
import type { ClusterResource, ClusterResources } from '../plan/resources.js';
import { withCloud, type CloudTarget, type OpenStackDeps } from './context.js';

export function createDeprovisionActivities(deps: OpenStackDeps) {
  return {
    /** Read-only: every resource with the cluster's tag, plus the untaggable ones Mooring named for it. */
    async findClusterResources(i: { target: CloudTarget; tag: string; plan: Pick<CloudPlan, 'cluster' | 'serverGroups' | 'keypair'> }): Promise<ClusterResources> {
      return withCloud('cluster resources', i.target, deps, async (c) => {
        const tags = i.tag;
        const r = (kind: ClusterResource['kind']) => (x: { id: string; name?: string; description?: string; floating_ip_address?: string }) => ({ kind, id: x.id, name: x.name || x.floating_ip_address || x.description || x.id });
        const ports = (await listPorts(c, { tags }))
          // A router's interface goes with the router (Neutron refuses to delete it as a port).
          .filter((p) => p.device_owner !== 'network:router_interface' && p.device_owner !== 'network:dhcp');
        const groups = await listServerGroups(c);
        const sgNames = new Set(i.plan.serverGroups.map((g) => g.name));
        // The key pair goes only when Mooring named it for this cluster; a key pair the inventory
        // names (keyName: ansible-master) may serve other machines and is kept.
        const kp = i.plan.keypair.name.startsWith(`${i.plan.cluster}-`) && i.plan.keypair.publicKey ? await getKeypair(c, i.plan.keypair.name) : undefined;
        return {
          servers: (await listServersByTag(c, tags)).map(r('servers')),
          floatingIps: (await listFloatingIps(c, { tags })).map(r('floatingips')),
          ports: ports.map(r('ports')),
          routers: (await listRouters(c, { tags })).map(r('routers')),
          subnets: (await listSubnets(c, { tags })).map(r('subnets')),
          networks: (await listNetworks(c, { tags })).map(r('networks')),
          securityGroups: (await listSecurityGroups(c, { tags })).map(r('security-groups')),
          serverGroups: groups.filter((g) => sgNames.has(g.name)).map(r('server-groups')),
          keypairs: kp ? [{ kind: 'keypairs', id: kp.name, name: kp.name }] : [],
        };
      });
    },

    /** One Neutron resource, tag checked on the resource itself; a router loses its interfaces and gateway first. */
    async deleteNetworkResource(i: { target: CloudTarget; tag: string; resource: ClusterResource }): Promise<{ deleted: boolean }> {
      const { kind, id, name } = i.resource;
      return withCloud(`${kind} ${name}`, i.target, deps, async (c) => {
        if (kind === 'servers' || kind === 'server-groups' || kind === 'keypairs') throw new CloudInventoryError(`${kind} ${name}: not a network resource`);
        const r = await getNeutron(c, kind, id);
        if (!r) return { deleted: false };
        if (!(r.tags ?? []).includes(i.tag)) throw new CloudInventoryError(`${kind} ${name} (${id}) does not carry the tag ${i.tag}: Mooring deletes only what it made`);
        if (kind === 'routers') {
          for (const p of await listPorts(c, { device_id: id })) {
            if (p.device_owner !== 'network:router_interface') continue;
            for (const f of p.fixed_ips) await removeRouterInterface(c, id, f.subnet_id);
          }
          await clearRouterGateway(c, id);
        }
        await deleteNeutron(c, kind, id);
        return { deleted: true };
      });
    },

    /** A server group or key pair Mooring named for the cluster (neither can carry a tag). */
    async deleteNamedComputeResource(i: { target: CloudTarget; resource: ClusterResource; cluster: string }): Promise<{ deleted: boolean }> {
      const { kind, id, name } = i.resource;
      return withCloud(`${kind} ${name}`, i.target, deps, async (c) => {
        if (!name.startsWith(`${i.cluster}-`)) throw new CloudInventoryError(`${kind} ${name}: not named for cluster ${i.cluster}: Mooring deletes only what it made`);
        if (kind === 'server-groups') {
          const g = (await listServerGroups(c)).find((x) => x.id === id);
          if (!g) return { deleted: false };
          if (g.members.length) throw new CloudInventoryError(`server group ${name} still has members (${g.members.join(', ')}): their servers must go first`);
          await deleteServerGroup(c, id);
          return { deleted: true };
        }
        if (kind === 'keypairs') {
          if (!(await getKeypair(c, id))) return { deleted: false };
          await deleteKeypair(c, id);
          return { deleted: true };
        }
        throw new CloudInventoryError(`${kind} ${name}: not a server group or key pair`);
      });
    },
  };
}
