// The quota check before the approval: which of the plan's resources are missing (looked up by
// name, as the ensure activities look them up), what they would take, and what Nova's /limits and
// Neutron's quota details say is left. Read-only: it never creates anything.
import type { CloudPlan } from '../plan/cloud-plan.js';
import type { QuotaCheck, QuotaRow } from '../plan/quota.js';
import { getAbsoluteLimits } from '../compute/limits.js';
import { listFlavorDetails } from '../compute/flavors.js';
import { getKeypair } from '../compute/keypairs.js';
import { listServerGroups } from '../compute/server-groups.js';
import { listServersByName } from '../compute/servers.js';
import { getNetworkQuotaDetails, type NetworkQuotaName } from '../network/quotas.js';
import { listNetworks } from '../network/networks.js';
import { listSubnets } from '../network/subnets.js';
import { listRouters } from '../network/routers.js';
import { listSecurityGroups } from '../network/security-groups.js';
import { listPorts } from '../network/ports.js';
import { listFloatingIps } from '../network/floating-ips.js';
import { CloudInventoryError } from '../errors.js';
import { ipv4InCidr as inCidr } from '../../../../config/net.js';
import { withCloud, type CloudTarget, type OpenStackDeps } from './context.js';

/** Neutron gives every new security group two egress rules (IPv4, IPv6): they count against the rule quota. */
const DEFAULT_RULES_PER_GROUP = 2;

export function createQuotaActivities(deps: OpenStackDeps) {
  return {
    async checkCloudQuota(i: { target: CloudTarget; plan: CloudPlan }): Promise<QuotaCheck> {
      return withCloud('quota check', i.target, deps, async (c) => {
        const p = i.plan;
        const missing: string[] = [];
        const has = async <T extends { name: string }>(what: string, name: string, list: () => Promise<T[]>): Promise<T | undefined> => {
          const found = (await list()).find((x) => x.name === name);
          if (!found) missing.push(`${what} ${name}`);
          return found;
        };
        if (p.keypair.publicKey && !(await getKeypair(c, p.keypair.name))) missing.push(`key pair ${p.keypair.name}`);
        const net = await has('network', p.network.name, () => listNetworks(c, { name: p.network.name }));
        const sub = net ? await has('subnet', p.subnet.name, () => listSubnets(c, { name: p.subnet.name, network_id: net.id })) : (missing.push(`subnet ${p.subnet.name}`), undefined);
        const router = await has('router', p.router.name, () => listRouters(c, { name: p.router.name }));
        const groups = await listSecurityGroups(c, {});
        let sgNew = 0;
        let rulesNeeded = 0;
        for (const g of p.securityGroups) {
          const found = groups.find((x) => x.name === g.name);
          if (!found) { missing.push(`security group ${g.name}`); sgNew += 1; rulesNeeded += g.rules.length + DEFAULT_RULES_PER_GROUP; continue; }
          rulesNeeded += Math.max(0, g.rules.length - found.security_group_rules.filter((r) => r.direction === 'ingress').length);
        }
        const serverGroups = await listServerGroups(c);
        const sgroupsNew = p.serverGroups.filter((g) => !serverGroups.some((x) => x.name === g.name));
        for (const g of sgroupsNew) missing.push(`server group ${g.name}`);
        const portNames = [...(p.vip ? [p.vip.port] : []), ...p.hosts.map((h) => h.port)];
        const ports = net ? await listPorts(c, { network_id: net.id }) : [];
        // Contradictions only the cloud reveals, refused before anything is created: an existing
        // subnet on another range, an inventory address another port holds (the VIP taken).
        if (sub && sub.cidr !== p.subnet.cidr) {
          const outside = [...(p.vip ? [{ field: 'loadBalancer.vip', ip: p.vip.ip }] : []), ...p.hosts.map((h) => ({ field: h.ipField, ip: h.ip }))].find((x) => !inCidr(x.ip, sub.cidr));
          throw new CloudInventoryError(`${outside ? `${outside.field}: ${outside.ip} is outside the existing subnet ${p.subnet.name} (${sub.cidr}); ` : ''}provider.openstack.network.cidr: subnet ${p.subnet.name} exists with ${sub.cidr}, not ${p.subnet.cidr}: fix the inventory or delete the subnet`);
        }
        const addresses = [...(p.vip ? [{ field: 'loadBalancer.vip', ip: p.vip.ip, port: p.vip.port }] : []), ...p.hosts.map((h) => ({ field: h.ipField, ip: h.ip, port: h.port }))];
        for (const want of addresses) {
          const other = ports.find((x) => x.name !== want.port && x.fixed_ips.some((f) => f.ip_address === want.ip));
          if (other) throw new CloudInventoryError(`${want.field}: ${want.ip} is already held by port ${other.id}${other.name ? ` (${other.name})` : ''}${other.device_owner ? `, owner ${other.device_owner}` : ''}: free that address or give ${want.field} another`);
        }
        const portsMissing = portNames.filter((n) => !ports.some((x) => x.name === n));
        for (const n of portsMissing) missing.push(`port ${n}`);
        // Neutron's own ports count against the project's quota too: the DHCP port a new subnet
        // gets and the router's interface on it.
        const systemPorts = (sub ? 0 : 1) + (router && sub && ports.some((x) => x.device_id === router.id) ? 0 : 1);
        const fipPorts = [...p.hosts.filter((h) => h.floatingIp).map((h) => h.port), ...(p.vip?.floatingIp ? [p.vip.port] : [])];
        const fipIds = fipPorts.map((n) => ports.find((x) => x.name === n)?.id).filter((id): id is string => id !== undefined);
        const fips = fipIds.length ? await listFloatingIps(c, { port_id: fipIds }) : [];
        const fipsMissing = fipPorts.filter((n) => { const id = ports.find((x) => x.name === n)?.id; return !id || !fips.some((f) => f.port_id === id); });
        for (const n of fipsMissing) missing.push(`floating IP for ${n}`);
        const serversMissing = [];
        for (const h of p.hosts) if (!(await listServersByName(c, h.server)).length) { serversMissing.push(h); missing.push(`server ${h.server}`); }
        const flavors = await listFlavorDetails(c);
        const flavor = (name: string, field: string) => {
          const f = flavors.find((x) => x.name === name);
          if (!f) throw new CloudInventoryError(`${field}: no flavor named "${name}" in cloud ${c.cloudName} (flavors: ${flavors.map((x) => x.name).join(', ')})`);
          return f;
        };
        const cores = serversMissing.reduce((a, h) => a + flavor(h.flavor, h.flavorField).vcpus, 0);
        const ram = serversMissing.reduce((a, h) => a + flavor(h.flavor, h.flavorField).ram, 0);

        const lim = await getAbsoluteLimits(c);
        const rows: QuotaRow[] = [
          { service: 'compute', quota: 'instances', needed: serversMissing.length, used: lim.totalInstancesUsed, limit: lim.maxTotalInstances },
          { service: 'compute', quota: 'cores', needed: cores, used: lim.totalCoresUsed, limit: lim.maxTotalCores },
          { service: 'compute', quota: 'ram', needed: ram, used: lim.totalRAMUsed, limit: lim.maxTotalRAMSize },
        ];
        if (lim.maxServerGroups !== undefined) rows.push({ service: 'compute', quota: 'server_groups', needed: sgroupsNew.length, used: lim.totalServerGroupsUsed ?? 0, limit: lim.maxServerGroups });
        const projectId = await c.projectId();
        if (!projectId) throw new CloudInventoryError(`cloud ${c.cloudName}: the token is not scoped to a project, so its quotas cannot be read: scope the credentials to the project`);
        const q = await getNetworkQuotaDetails(c, projectId);
        const want: [NetworkQuotaName, number][] = [
          ['network', net ? 0 : 1], ['subnet', sub ? 0 : 1], ['router', router ? 0 : 1], ['security_group', sgNew], ['security_group_rule', rulesNeeded],
          ['port', portsMissing.length + systemPorts], ['floatingip', fipsMissing.length],
        ];
        for (const [name, needed] of want) {
          const d = q[name];
          if (!d) continue; // an extension this cloud does not have: nothing to check
          rows.push({ service: 'network', quota: name, needed, used: d.used + Number(d.reserved || 0), limit: d.limit });
        }
        return { rows, missing };
      });
    },
  };
}
