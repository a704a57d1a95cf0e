// Nova's absolute limits: GET /limits. At the microversion Mooring speaks (2.64) they are the
// compute quotas with the project's usage (instances, cores, RAM in MiB, server groups); the
// network fields left this API at 2.36 (Neutron's quotas answer for those). -1 is unlimited.
import type { OpenStackClient } from '../client.js';

export interface AbsoluteLimits {
  maxTotalInstances: number; totalInstancesUsed: number;
  maxTotalCores: number; totalCoresUsed: number;
  maxTotalRAMSize: number; totalRAMUsed: number;
  maxServerGroups?: number; totalServerGroupsUsed?: number;
  maxTotalKeypairs?: number;
}

export async function getAbsoluteLimits(c: OpenStackClient): Promise<AbsoluteLimits> {
  return (await c.request<{ limits: { absolute: AbsoluteLimits } }>('compute', 'GET', '/limits')).body.limits.absolute;
}
