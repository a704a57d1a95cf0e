// The read-only look at the Proxmox cluster before anything is made: the token's privileges, the
// nodes that are online, the template, the storage and bridge on every node VMs may land on, and the
// VMs already in the reserved range. Each missing piece is a non-retryable error naming the
// inventory field and the fix.
import { ApplicationFailure } from '@temporalio/activity';
import { withProxmox } from '../client.js';
import type { ProxmoxFacts, ProxmoxTarget, VmidRange } from '../context.js';
import { ProxmoxInventoryError } from '../errors.js';
import { listVms } from '../cluster/resources.js';
import { nodeStatus } from '../nodes/nodes.js';
import { nodeStorages } from '../nodes/storage.js';
import { nodeBridges } from '../nodes/network.js';
import { missingPrivileges, requiredPrivileges } from '../access/permissions.js';

export interface InspectInput {
  target: ProxmoxTarget;
  nodes: string[];
  templateVmid: number;
  storage: string;
  bridge: string;
  range: VmidRange;
  full: boolean;
  snippetStorage?: string;
}

export async function inspect(i: InspectInput): Promise<ProxmoxFacts> {
  return withProxmox('inspecting the Proxmox cluster', i.target, async (api) => {
    const missing = await missingPrivileges(api, requiredPrivileges({ templateVmid: i.templateVmid, storage: i.storage, ...(i.snippetStorage ? { snippetStorage: i.snippetStorage } : {}) }));
    if (missing.length) {
      throw ApplicationFailure.nonRetryable(`provider.proxmox.tokenId: the API token ${i.target.tokenId} lacks ${missing.map((m) => `${m.privilege} on ${m.path}`).join(', ')}: grant them (e.g. a role with these privileges: pveum acl modify PATH --tokens '${i.target.tokenId}' --roles ROLE; a token with privilege separation needs its own ACLs)`, 'ProxmoxPermission');
    }
    const status = await nodeStatus(api);
    const unknown = i.nodes.filter((n) => !status.has(n));
    if (unknown.length) throw new ProxmoxInventoryError(`provider.proxmox.nodes: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not nodes' : 'is not a node'} of this cluster (it has ${[...status.keys()].join(', ')})`);
    const onlineNodes = i.nodes.filter((n) => status.get(n) === 'online');
    const offlineNodes = i.nodes.filter((n) => status.get(n) !== 'online');
    const vms = await listVms(api);
    const tpl = vms.find((v) => v.vmid === i.templateVmid);
    if (!tpl) throw new ProxmoxInventoryError(`provider.proxmox.templateVmid: there is no VM ${i.templateVmid} in the cluster: give the VMID of the cloud-init template to clone`);
    if (!tpl.template) throw new ProxmoxInventoryError(`provider.proxmox.templateVmid: VM ${i.templateVmid} (${tpl.name}) is not a template: convert it (qm template ${i.templateVmid}) or give the template's VMID`);
    for (const node of onlineNodes) {
      const storages = await nodeStorages(api, node);
      const s = storages.find((x) => x.storage === i.storage);
      if (i.full && (!s || !s.enabled || !s.content.includes('images'))) {
        throw new ProxmoxInventoryError(`provider.proxmox.storage: node ${node} has no ${s ? 'enabled ' : ''}storage "${i.storage}" for VM disks (it has ${storages.filter((x) => x.content.includes('images')).map((x) => x.storage).join(', ') || 'none'}): name a storage every node in provider.proxmox.nodes has`);
      }
      if (i.snippetStorage) {
        const sn = storages.find((x) => x.storage === i.snippetStorage);
        if (!sn || !sn.content.includes('snippets')) throw new ProxmoxInventoryError(`provider.proxmox.snippets.storage: node ${node} has no storage "${i.snippetStorage}" with content "snippets": enable snippets on a shared file storage (pvesm set ${i.snippetStorage} --content snippets,...)`);
      }
      const bridges = await nodeBridges(api, node);
      if (!bridges.includes(i.bridge)) throw new ProxmoxInventoryError(`provider.proxmox.bridge: node ${node} has no bridge "${i.bridge}" (it has ${bridges.join(', ') || 'none'}): name a bridge every node has`);
    }
    const inRange = vms.filter((v) => v.vmid >= i.range.first && v.vmid <= i.range.last);
    return { onlineNodes, offlineNodes, template: { vmid: tpl.vmid, node: tpl.node, name: tpl.name }, inRange };
  });
}
