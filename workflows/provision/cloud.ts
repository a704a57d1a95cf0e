// The OpenStack cloud phase as a child workflow of `provision`: the plan (pure, shown before
// anything is made), then the resources in dependency order, hosts in parallel where the order
// allows. Every step is an idempotent activity (look up by name, then create), so a re-run, or a
// run resumed after the worker died, finds what exists and creates only what is missing. Secrets
// never pass through here: credentials and the host-key seed are references the activities resolve.
import { proxyActivities, setCurrentDetails, ApplicationFailure } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { OpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import { planCloud, planLines, type CloudPlan } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { OPENSTACK_NON_RETRYABLE } from '../../activities/cloud/openstack/plan/failure-types.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: OPENSTACK_NON_RETRYABLE } as const;

const cloud = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '2 minutes', retry });
const waits = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '25 minutes', heartbeatTimeout: '30 seconds', retry });

export interface ProvisionCloudInput {
  inventory: Inventory;
  /** Only compute and return the plan: nothing is looked up or created. */
  planOnly?: boolean;
}

export interface CloudHost { name: string; role: string; ip: string; serverId: string; portId: string; hostKey: string; floatingIp?: string }

export interface ProvisionCloudResult {
  plan: string[];
  created?: string[];
  resources?: Record<string, string>;
  hosts?: CloudHost[];
}

function details(plan: CloudPlan, done: string[]): void {
  setCurrentDetails(`**Cloud phase of ${plan.cluster}**\n\n${done.map((d) => `- ${d}`).join('\n')}`);
}

export async function provisionCloud(input: ProvisionCloudInput): Promise<ProvisionCloudResult> {
  let plan: CloudPlan;
  try {
    plan = planCloud(input.inventory);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(String((err as Error).message), 'InvalidInput');
  }
  const lines = planLines(plan);
  if (input.planOnly) return { plan: lines };
  if (!input.inventory.ssh.hostKeySeed) throw ApplicationFailure.nonRetryable('ssh.hostKeySeed: required to pin the created hosts\' SSH keys', 'InvalidInput');
  const hostKeySeed = input.inventory.ssh.hostKeySeed;
  const target = { ...(plan.cloud ? { cloud: plan.cloud } : {}), region: plan.region };
  const tag = plan.tag;
  const done: string[] = [];
  const created: string[] = [];
  const note = (what: string, c: boolean) => { done.push(`${what}${c ? ' (created)' : ' (found)'}`); if (c) created.push(what); details(plan, done); };

  // Everything a boot names must exist before the first billable create.
  const refs = await cloud.resolveBootRefs({ target, plan });
  done.push(`image, ${Object.keys(refs.flavorIds).length} flavor(s), external network found`);
  const kp = await cloud.ensureKeypair({ target, keypair: plan.keypair });
  note(`key pair ${kp.name}`, kp.created);
  const net = await cloud.ensureNetwork({ target, tag, network: plan.network });
  note(`network ${plan.network.name}`, net.created);
  const sub = await cloud.ensureSubnet({ target, tag, networkId: net.id, subnet: plan.subnet });
  note(`subnet ${plan.subnet.name}`, sub.created);
  const [router, sgs, groups] = await Promise.all([
    cloud.ensureRouter({ target, tag, router: plan.router, subnetId: sub.id }),
    cloud.ensureSecurityGroups({ target, tag, groups: plan.securityGroups }),
    cloud.ensureServerGroups({ target, groups: plan.serverGroups }),
  ]);
  note(`router ${plan.router.name}`, router.created);
  note(`${plan.securityGroups.length} security groups (${sgs.rulesCreated} rules added)`, sgs.rulesCreated > 0);
  done.push(`${plan.serverGroups.length} server groups`);

  const vipRole = plan.hosts.find((h) => plan.vip?.allowedOn.includes(h.port))?.role ?? 'master';
  const vip = plan.vip ? await cloud.ensureVipPort({ target, tag, vip: plan.vip, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids[vipRole]! }) : undefined;
  const ports = await Promise.all(plan.hosts.map((h) => cloud.ensureHostPort({
    target, tag, host: h, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids[h.role]!, ...(plan.vip?.allowedOn.includes(h.port) ? { vipIp: plan.vip.ip } : {}),
  })));
  done.push(`${ports.length} host ports${vip ? ' and the VIP port' : ''}`);
  details(plan, done);

  const fipTargets: { key: string; name: string; portId: string }[] = plan.hosts.flatMap((h, i) => (h.floatingIp ? [{ key: h.name, name: h.floatingIp, portId: ports[i]!.id }] : []));
  if (plan.vip?.floatingIp && vip) fipTargets.push({ key: 'vip', name: plan.vip.floatingIp, portId: vip.id });
  const fips = await Promise.all(fipTargets.map((f) => cloud.ensureFloatingIp({ target, tag, name: f.name, portId: f.portId, externalNetworkId: router.externalNetworkId })));
  const fipOf = Object.fromEntries(fipTargets.map((f, i) => [f.key, fips[i]!.address]));

  const servers = await Promise.all(plan.hosts.map((h, i) => cloud.ensureServer({
    target, tag, cluster: plan.cluster, host: h, imageId: refs.imageId, flavorId: refs.flavorIds[h.flavor]!, portId: ports[i]!.id, keyName: kp.name,
    serverGroupId: groups[h.role]!, hostKeySeed,
  })));
  servers.forEach((s, i) => { if (s.created) created.push(`server ${plan.hosts[i]!.server}`); });
  done.push(`${servers.length} servers (${servers.filter((s) => s.created).length} booted)`);
  details(plan, done);
  await Promise.all(plan.hosts.map((h, i) => waits.waitServerActive({ target, serverId: servers[i]!.id, name: h.server })));
  done.push('every server ACTIVE');
  details(plan, done);

  return {
    plan: lines,
    created,
    resources: { network: net.id, subnet: sub.id, router: router.id, ...(vip ? { vipPort: vip.id } : {}), ...(fipOf.vip ? { vipFloatingIp: fipOf.vip } : {}) },
    hosts: plan.hosts.map((h, i) => ({
      name: h.name, role: h.role, ip: h.ip, serverId: servers[i]!.id, portId: ports[i]!.id, hostKey: servers[i]!.hostKey, ...(fipOf[h.name] ? { floatingIp: fipOf[h.name] } : {}),
    })),
  };
}
