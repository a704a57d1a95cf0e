// Neutron's quotas with usage: GET /v2.0/quotas/{project_id}/details (the quota_details
// extension): {used, limit, reserved} per resource; -1 is unlimited. A member may read its own
// project's only, whose id the token names.
import type { OpenStackClient } from '../client.js';

export interface QuotaDetail { used: number; limit: number; reserved: number | string }
export type NetworkQuotaName = 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group' | 'security_group_rule';

export async function getNetworkQuotaDetails(c: OpenStackClient, projectId: string): Promise<Partial<Record<NetworkQuotaName, QuotaDetail>>> {
  return (await c.request<{ quota: Partial<Record<NetworkQuotaName, QuotaDetail>> }>('network', 'GET', `/quotas/${encodeURIComponent(projectId)}/details`)).body.quota;
}
