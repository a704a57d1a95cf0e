// The OpenStack cloud phase as a child workflow of `provision`: the plan (pure, shown before
// anything is made), then the resources in dependency order, hosts in parallel where the order
// allows. Every step is an idempotent activity (look up by name, then create), so a re-run, or a
// run resumed after the worker died, finds what exists and creates only what is missing. Secrets
// never pass through here: credentials and the host-key seed are references the activities resolve.
// A server that goes to ERROR is deleted and booted once more; a second ERROR fails the phase with
// Nova's fault messages (type OpenStackServerError) and the runbook holds and asks.
import { proxyActivities, setCurrentDetails, ApplicationFailure } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { OpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import type { CloudPhaseResult, ProvisionedHost } from '../../activities/host/context.js';
import { planCloud, planLines, type CloudPlan, type HostPlan } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { OPENSTACK_NON_RETRYABLE } from '../../activities/cloud/openstack/plan/failure-types.js';
import { createKey } from '../../activities/cloud/openstack/plan/approved.js';
import { rootCause } from '../runbook/runbook.js';
import { reportToParent, type PhaseStep } from './progress.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: OPENSTACK_NON_RETRYABLE } as const;

const cloud = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '2 minutes', retry });
const waits = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '25 minutes', heartbeatTimeout: '30 seconds', retry });

export interface ProvisionCloudInput {
  inventory: Inventory;
  /** Only compute and return the plan: nothing is looked up or created. */
  planOnly?: boolean;
  /**
   * What the approval covered: the check's missing resources ("server x", …). Anything else found
   * missing is refused at its create (OpenStackUnapprovedCreate) and the runbook asks again.
   * Undefined (the phase started on its own, or by a run from before the list): no such limit.
   */
  approvedCreates?: string[];
}

export interface CloudHost { name: string; role: string; ip: string; serverId: string; portId: string; hostKey: string; floatingIp?: string }

/** The shared cloud-phase result, plus what only OpenStack has (resource ids, ports). */
export interface ProvisionCloudResult extends CloudPhaseResult {
  resources?: Record<string, string>;
  cloudHosts?: CloudHost[];
  /** Servers that went to ERROR once and were booted again, with Nova's fault message. */
  rebooted?: { host: string; fault: string }[];
}

export const SERVER_ERROR = 'OpenStackServerError';

function details(plan: CloudPlan, done: string[]): void {
  setCurrentDetails(`**Cloud phase of ${plan.cluster}**\n\n${done.map((d) => `- ${d}`).join('\n')}`);
}

/** A stacked master is also an etcd member: the host phase needs every role. */
function rolesOf(inv: Inventory, h: HostPlan): ProvisionedHost['roles'] {
  return h.role === 'master' && inv.etcd.topology === 'stacked' ? ['master', 'etcd'] : [h.role];
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
  const approved = input.approvedCreates ? { approved: input.approvedCreates } : {};
  const done: string[] = [];
  const created: string[] = [];
  const step = async (id: string, title: string, detail: string, status: PhaseStep['status'] = 'done') => {
    done.push(`${title}: ${detail}`);
    details(plan, done);
    await reportToParent([{ id: `cloud:${id}`, title, status, detail }]);
  };
  const found = (c: boolean) => (c ? 'created' : 'found');
  const note = (what: string, c: boolean) => { if (c) created.push(what); return found(c); };

  // Everything a boot names must exist before the first billable create.
  const refs = await cloud.resolveBootRefs({ target, plan });
  await step('refs', 'Image, flavors, external network', `${Object.keys(refs.flavorIds).length} flavor(s) found`);
  const kp = await cloud.ensureKeypair({ target, keypair: plan.keypair, ...approved });
  await step('keypair', `Key pair ${kp.name}`, note(`key pair ${kp.name}`, kp.created));
  const net = await cloud.ensureNetwork({ target, tag, network: plan.network, ...approved });
  await step('network', `Network ${plan.network.name}`, note(`network ${plan.network.name}`, net.created));
  const sub = await cloud.ensureSubnet({ target, tag, networkId: net.id, subnet: plan.subnet, ...approved });
  await step('subnet', `Subnet ${plan.subnet.name}`, note(`subnet ${plan.subnet.name}`, sub.created));
  const [router, sgs, groups] = await Promise.all([
    cloud.ensureRouter({ target, tag, router: plan.router, subnetId: sub.id, ...approved }),
    cloud.ensureSecurityGroups({ target, tag, groups: plan.securityGroups, ...approved }),
    cloud.ensureServerGroups({ target, groups: plan.serverGroups, ...approved }),
  ]);
  await step('router', `Router ${plan.router.name}`, note(`router ${plan.router.name}`, router.created));
  if (sgs.rulesCreated > 0) created.push(`${sgs.rulesCreated} security group rules`);
  await step('security-groups', `${plan.securityGroups.length} security groups`, `${sgs.rulesCreated} rules added`);
  await step('server-groups', `${plan.serverGroups.length} server groups`, plan.serverGroups.map((g) => g.policy).join(', '));

  const vipRole = plan.hosts.find((h) => plan.vip?.allowedOn.includes(h.port))?.role ?? 'master';
  const vip = plan.vip ? await cloud.ensureVipPort({ target, tag, vip: plan.vip, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids[vipRole]!, ...approved }) : undefined;
  const ports = await Promise.all(plan.hosts.map((h) => cloud.ensureHostPort({
    target, tag, host: h, networkId: net.id, subnetId: sub.id, securityGroupId: sgs.ids[h.role]!, ...(plan.vip?.allowedOn.includes(h.port) ? { vipIp: plan.vip.ip } : {}), ...approved,
  })));
  await step('ports', `${ports.length} host ports${vip ? ' and the VIP port' : ''}`, plan.hosts.map((h) => `${h.name} ${h.ip}`).join(', '));

  const fipTargets: { key: string; name: string; portId: string; portName: string }[] = plan.hosts.flatMap((h, i) => (h.floatingIp ? [{ key: h.name, name: h.floatingIp, portId: ports[i]!.id, portName: h.port }] : []));
  if (plan.vip?.floatingIp && vip) fipTargets.push({ key: 'vip', name: plan.vip.floatingIp, portId: vip.id, portName: plan.vip.port });
  const fips = await Promise.all(fipTargets.map((f) => cloud.ensureFloatingIp({
    target, tag, name: f.name, portId: f.portId, externalNetworkId: router.externalNetworkId, ...(input.approvedCreates ? { portName: f.portName, approved: input.approvedCreates } : {}),
  })));
  fips.forEach((f, i) => { if (f.created) created.push(`floating IP ${fipTargets[i]!.name}`); });
  const fipOf = Object.fromEntries(fipTargets.map((f, i) => [f.key, fips[i]!.address]));
  if (fips.length) await step('floating-ips', `${fips.length} floating IPs`, fipTargets.map((f) => `${f.key} ${fipOf[f.key]}`).join(', '));

  // One chain per host: boot (or find), wait for ACTIVE; on ERROR show Nova's fault, delete the
  // server and boot it once more. Hosts run side by side.
  const rebooted: { host: string; fault: string }[] = [];
  // The boot again after ERROR replaces a server this run deleted itself: allowed.
  const serverFor = async (h: HostPlan, i: number) => {
    const boot = (again = false) => cloud.ensureServer({
      target, tag, cluster: plan.cluster, host: h, imageId: refs.imageId, flavorId: refs.flavorIds[h.flavor]!, portId: ports[i]!.id, keyName: kp.name,
      serverGroupId: groups[h.role]!, hostKeySeed, ...(input.approvedCreates ? { approved: again ? [...input.approvedCreates, createKey('server', h.server)] : input.approvedCreates } : {}),
    });
    const hostStep = (status: PhaseStep['status'], detail: string) => reportToParent([{ id: `host:${h.name}:server`, title: `Server ${h.server} (${h.role})`, status, detail }]);
    let s = await boot();
    if (s.created) created.push(`server ${h.server}`);
    await hostStep('running', s.created ? 'booting' : 'found, waiting for ACTIVE');
    try {
      await waits.waitServerActive({ target, serverId: s.id, name: h.server });
    } catch (err) {
      const cause = rootCause(err);
      if (!(cause instanceof ApplicationFailure) || cause.type !== SERVER_ERROR) throw err;
      const fault = cause.message;
      rebooted.push({ host: h.name, fault });
      await hostStep('running', `went to ERROR (${fault}); deleted and booted once more`);
      await waits.deleteServerAndWait({ target, tag, serverId: s.id, name: h.server });
      s = await boot(true);
      if (s.created) created.push(`server ${h.server} (again, after ERROR)`);
      try {
        await waits.waitServerActive({ target, serverId: s.id, name: h.server });
      } catch (again) {
        const c2 = rootCause(again);
        if (!(c2 instanceof ApplicationFailure) || c2.type !== SERVER_ERROR) throw again;
        await hostStep('failed', `ERROR twice: ${c2.message}`);
        throw ApplicationFailure.create({
          type: SERVER_ERROR, nonRetryable: true, message: `server ${h.server} went to ERROR twice (first: ${fault}; then: ${c2.message}); it is kept for inspection`,
          details: [{ host: h.name, server: h.server, serverId: s.id }],
        });
      }
    }
    await hostStep('done', `ACTIVE at ${h.ip}${fipOf[h.name] ? `, floating IP ${fipOf[h.name]}` : ''}`);
    return s;
  };
  const servers = await Promise.all(plan.hosts.map((h, i) => serverFor(h, i)));
  done.push('every server ACTIVE');
  details(plan, done);

  return {
    plan: lines,
    created,
    resources: { network: net.id, subnet: sub.id, router: router.id, ...(vip ? { vipPort: vip.id } : {}), ...(fipOf.vip ? { vipFloatingIp: fipOf.vip } : {}) },
    hosts: plan.hosts.map((h, i) => ({
      name: h.name, roles: rolesOf(input.inventory, h), address: h.ip, hostKey: servers[i]!.hostKey, machineId: servers[i]!.id, ...(fipOf[h.name] ? { publicAddress: fipOf[h.name] } : {}),
    })),
    cloudHosts: plan.hosts.map((h, i) => ({
      name: h.name, role: h.role, ip: h.ip, serverId: servers[i]!.id, portId: ports[i]!.id, hostKey: servers[i]!.hostKey, ...(fipOf[h.name] ? { floatingIp: fipOf[h.name] } : {}),
    })),
    ...(rebooted.length ? { rebooted } : {}),
  };
}
