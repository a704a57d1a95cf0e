// Runbook `deprovision` on Proxmox VE (seed 003): the same contract as on OpenStack. It finds the
// cluster's VMs (in its VMID range, carrying its tag `mooring-<cluster>` or Mooring's clone marker
// `mooring:<cluster>/<host>` in the description), shows them as the plan, asks ONE approval, then
// stops and destroys each (disks purged, host-key snippet removed). Each VM's config is read again
// right before its removal and must still say it is the cluster's; "already gone" is done, so a
// re-run or a run resumed after a crash destroys nothing twice. A final look-up proves nothing is
// left. The etcd snapshots in the backup bucket are never touched.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { ProxmoxActivities } from '../../activities/cloud/proxmox/activities/index.js';
import type { PveVm } from '../../activities/cloud/proxmox/context.js';
import { clusterTag } from '../../activities/cloud/proxmox/plan/plan.js';
import { PROXMOX_NON_RETRYABLE } from '../../activities/cloud/proxmox/failure-types.js';
import { Runbook } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import type { DeprovisionResult } from './deprovision.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 12, nonRetryableErrorTypes: [...PROXMOX_NON_RETRYABLE] };
const api = proxyActivities<ProxmoxActivities>({ startToCloseTimeout: '2 minutes', retry });
// Stop and destroy are tasks: a short heartbeat timeout so a killed worker's removal resumes its task.
const tasks = proxyActivities<ProxmoxActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '10 seconds', retry });

const label = (v: PveVm) => `${v.name} (VM ${v.vmid} on ${v.node})`;

export async function deprovisionProxmoxCluster(inv: Inventory, o: { planOnly: boolean; approvalTimeoutMs: number }): Promise<DeprovisionResult> {
  const cluster = inv.cluster.name;
  if (inv.provider.type !== 'proxmox') throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: 'provider.type: not proxmox' });
  const px = inv.provider.proxmox;
  if (!px.vmids) throw ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message: 'provider.proxmox.vmids: needed to know which VMs are the cluster\'s (give the range the cluster was provisioned in)' });
  const range = px.vmids;
  const tag = clusterTag(cluster);
  const target = { apiUrl: px.apiUrl, tokenId: px.tokenId, tokenSecret: px.tokenSecret, ...(px.caFile ? { caFile: px.caFile } : {}), ...(px.fingerprint ? { fingerprint: px.fingerprint } : {}) };
  const snippetsDir = px.snippets?.localDir;
  const rb = new Runbook('deprovision', cluster, [
    { id: 'find', title: `Find the VMs in ${range.first}–${range.last} tagged ${tag} or marked mooring:${cluster}/…` },
    { id: 'approve', title: 'Approve the deletion' },
    { id: 'delete:vms', title: 'VMs (each stopped, destroyed with its disks, its snippet removed)' },
    { id: 'verify', title: 'Nothing of the cluster is left' },
  ]);
  const find = () => api.listClusterVms({ target, tag, range, cluster });
  const found = await rb.step('find', find, (vms) => (vms.length ? `${vms.length} VM(s)` : 'nothing'));
  const bucket = inv.backup ? ` The etcd snapshots in bucket ${inv.backup.objectStore.bucket} are kept.` : '';
  const result: DeprovisionResult = { cluster, planOnly: o.planOnly, found: { vms: found.map(label) }, deleted: [], nothingToDelete: found.length === 0, report: '' };
  const skipRest = (why: string) => { for (const s of ['approve', 'delete:vms', 'verify']) rb.skip(s, why); };

  if (result.nothingToDelete) {
    skipRest('no VM of the cluster in its range');
    result.report = `**Nothing to delete**: no VM of ${cluster} is left in VMIDs ${range.first}–${range.last}.${bucket}`;
    rb.setReport(result.report);
    rb.finish('unchanged');
    return result;
  }
  if (o.planOnly) {
    skipRest('plan mode: nothing is deleted');
    result.report = `**Would delete ${found.length} VM(s) of ${cluster}** (stopped, destroyed with their disks):\n\n${found.map((v) => `- ${label(v)}`).join('\n')}\n${bucket}`;
    rb.setReport(result.report);
    rb.finish('planned');
    return result;
  }
  await rb.approval('approve', { plan: `Delete ${found.length} VM(s) of ${cluster} with their disks (only VMs in ${range.first}–${range.last} tagged ${tag} or marked mooring:${cluster}/…): ${found.map(label).join(', ')}.${bucket}`, timeoutMs: o.approvalTimeoutMs });

  const left: string[] = [];
  await rb.step('delete:vms', async () => {
    const done = await Promise.all(found.map((vm) => tasks.destroyVm({ target, vm, cluster, tag, ...(snippetsDir ? { snippetsDir } : {}) })));
    found.forEach((vm, i) => {
      if (done[i]?.destroyed) result.deleted.push(`VM ${vm.vmid} ${vm.name} on ${vm.node}`);
      if (done[i]?.notOurs) left.push(`${label(vm)}: no longer tagged ${tag}, left alone`);
    });
    return done.filter((d) => d.destroyed).length;
  }, (n) => `${n} destroyed${n < found.length ? `, ${found.length - n} already gone or no longer the cluster's` : ''}`);
  const still = await rb.step('verify', find, (vms) => (vms.length ? `${vms.length} left` : 'nothing left'));
  if (still.length) {
    throw ApplicationFailure.create({ type: 'DeprovisionIncomplete', nonRetryable: true, message: `still there after deleting: ${still.map(label).join(', ')}: run deprovision again` });
  }
  result.report = `**${cluster} deprovisioned**: ${result.deleted.length} VM(s) destroyed, no VM in ${range.first}–${range.last} carries ${tag} any more.${bucket}\n\n${[...result.deleted, ...left].map((d) => `- ${d}`).join('\n')}`;
  rb.setReport(result.report);
  rb.finish();
  return result;
}
