// Runbook `deprovision`: removes an OpenStack cluster's cloud resources (a Proxmox VE cluster's
// VMs: deprovision-proxmox.ts, the same contract). It finds what carries the
// cluster's tag (and the server groups and key pair Mooring named for it, which cannot carry
// tags), shows that as the plan, asks ONE approval, then deletes in the reverse order of the
// create: servers (and waits until they are gone), floating IPs, ports, the router, the subnet,
// the network, security groups, server groups, the key pair. Each delete checks the tag on the
// resource and takes "already gone" as done, so a re-run or a run resumed after a crash deletes
// nothing twice; a final look-up proves nothing is left. The etcd snapshots in the backup bucket
// are never touched: no step of this runbook talks to the object store.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { OpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import { planCloud, type CloudPlan } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { DELETE_ORDER, type ClusterResources } from '../../activities/cloud/openstack/plan/resources.js';
import { OPENSTACK_NON_RETRYABLE } from '../../activities/cloud/openstack/plan/failure-types.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { deprovisionProxmoxCluster } from './deprovision-proxmox.js';

export interface DeprovisionInput {
  inventory: Inventory;
  /** List what would be deleted; delete nothing. */
  planOnly?: boolean;
  approvalTimeoutMs?: number;
}

export interface DeprovisionResult {
  cluster: string;
  planOnly: boolean;
  /** What was found (and, unless planOnly, deleted), by kind. */
  found: Record<string, string[]>;
  deleted: string[];
  nothingToDelete: boolean;
  report: string;
}

export const DEPROVISION_DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12, nonRetryableErrorTypes: OPENSTACK_NON_RETRYABLE } as const;
// A 409 "in use" (a port still detaching from a deleted server) clears by itself: retried.
const cloud = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '2 minutes', retry });
const waits = proxyActivities<OpenStackActivities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '30 seconds', retry });

const TITLES: Record<keyof ClusterResources, string> = {
  servers: 'Servers (each waited for until gone)', floatingIps: 'Floating IPs', ports: 'Ports (hosts, VIP)', routers: 'Router (interfaces and gateway first)',
  subnets: 'Subnet', networks: 'Network', securityGroups: 'Security groups', serverGroups: 'Server groups', keypairs: 'Key pair (only one Mooring imported under the cluster\'s name)',
};

const count = (r: ClusterResources) => DELETE_ORDER.reduce((a, k) => a + r[k].length, 0);
const listing = (r: ClusterResources) => Object.fromEntries(DELETE_ORDER.map((k) => [k, r[k].map((x) => x.name)]));

export async function deprovision(input: DeprovisionInput): Promise<DeprovisionResult> {
  const inv = input.inventory;
  const cluster = inv.cluster.name;
  // No recorded run took this branch: before it, a Proxmox inventory failed here at once.
  if (inv.provider.type === 'proxmox') return deprovisionProxmoxCluster(inv, { planOnly: input.planOnly === true, approvalTimeoutMs: input.approvalTimeoutMs ?? DEPROVISION_DEFAULT_APPROVAL_TIMEOUT_MS });
  if (inv.provider.type !== 'openstack') {
    throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: `provider.type is ${inv.provider.type}: deprovision removes OpenStack and Proxmox VE clusters (a static inventory's hosts are not Mooring's to delete)` });
  }
  let plan: CloudPlan;
  try { plan = planCloud(inv); } catch (err) { throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: (err as Error).message }); }
  const target = { ...(plan.cloud ? { cloud: plan.cloud } : {}), region: plan.region };
  const rb = new Runbook('deprovision', cluster, [
    { id: 'find', title: `Find what carries the tag ${plan.tag}` },
    { id: 'approve', title: 'Approve the deletion' },
    ...DELETE_ORDER.map((k) => ({ id: `delete:${k}`, title: TITLES[k] })),
    { id: 'verify', title: 'Nothing of the cluster is left' },
  ]);
  const find = () => cloud.findClusterResources({ target, tag: plan.tag, plan: { cluster, serverGroups: plan.serverGroups, keypair: plan.keypair } });
  const found = await rb.step('find', find, (r) => DELETE_ORDER.filter((k) => r[k].length).map((k) => `${k} ${r[k].length}`).join(', ') || 'nothing');
  const bucket = inv.backup ? ` The etcd snapshots in bucket ${inv.backup.objectStore.bucket} are kept.` : '';
  const planText = DELETE_ORDER.filter((k) => found[k].length).map((k) => `${k}: ${found[k].map((x) => x.name).join(', ')}`).join('\n');
  const result: DeprovisionResult = { cluster, planOnly: input.planOnly === true, found: listing(found), deleted: [], nothingToDelete: count(found) === 0, report: '' };
  const skipRest = (why: string) => { for (const s of ['approve', ...DELETE_ORDER.map((k) => `delete:${k}`), 'verify']) rb.skip(s, why); };

  if (result.nothingToDelete) {
    skipRest('nothing carries the cluster\'s tag');
    result.report = `**Nothing to delete**: no resource of ${cluster} is left in the project.${bucket}`;
    rb.setReport(result.report);
    rb.finish('unchanged');
    return result;
  }
  if (input.planOnly) {
    skipRest('plan mode: nothing is deleted');
    result.report = `**Would delete ${count(found)} resources of ${cluster}**, in this order:\n\n\`\`\`\n${planText}\n\`\`\`\n${bucket}`;
    rb.setReport(result.report);
    rb.finish('planned');
    return result;
  }
  await rb.approval('approve', { plan: `Delete ${count(found)} resources of ${cluster} (only what carries ${plan.tag}): ${planText.replace(/\n/g, '; ')}.${bucket}`, timeoutMs: input.approvalTimeoutMs ?? DEPROVISION_DEFAULT_APPROVAL_TIMEOUT_MS });

  for (const kind of DELETE_ORDER) {
    const list = found[kind];
    if (!list.length) { rb.skip(`delete:${kind}`, 'none'); continue; }
    await rb.step(`delete:${kind}`, async () => {
      const done = await Promise.all(list.map(async (r) => {
        if (kind === 'servers') return (await waits.deleteServerAndWait({ target, tag: plan.tag, serverId: r.id, name: r.name })).deleted;
        if (kind === 'serverGroups' || kind === 'keypairs') return (await cloud.deleteNamedComputeResource({ target, resource: r, cluster })).deleted;
        return (await cloud.deleteNetworkResource({ target, tag: plan.tag, resource: r })).deleted;
      }));
      list.forEach((r, i) => { if (done[i]) result.deleted.push(`${r.kind} ${r.name}`); });
      return done.filter(Boolean).length;
    }, (n) => `${n} deleted${n < list.length ? `, ${list.length - n} already gone` : ''}`);
  }
  const left = await rb.step('verify', find, (r) => (count(r) ? `${count(r)} left` : 'nothing left'));
  if (count(left)) {
    throw ApplicationFailure.create({ type: 'DeprovisionIncomplete', nonRetryable: true, message: `still there after deleting: ${DELETE_ORDER.filter((k) => left[k].length).map((k) => `${k} ${left[k].map((x) => x.name).join(', ')}`).join('; ')}: run deprovision again` });
  }
  result.report = `**${cluster} deprovisioned**: ${result.deleted.length} resources deleted, nothing carrying ${plan.tag} is left.${bucket}\n\n${result.deleted.map((d) => `- ${d}`).join('\n')}`;
  rb.setReport(result.report);
  rb.finish();
  return result;
}
