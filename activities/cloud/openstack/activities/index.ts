// The OpenStack cloud phase's activities, built by one factory from their dependencies.
import { createComputeActivities } from './compute.js';
import { createNetworkActivities } from './network.js';
import { createQuotaActivities } from './quota.js';
import { createDeprovisionActivities } from './deprovision.js';
import type { OpenStackDeps } from './context.js';

export type { CloudTarget, OpenStackDeps } from './context.js';
export type { ClusterResource, ClusterResources } from '../plan/resources.js';

export function createOpenStackActivities(deps: OpenStackDeps = {}) {
  return { ...createNetworkActivities(deps), ...createComputeActivities(deps), ...createQuotaActivities(deps), ...createDeprovisionActivities(deps) };
}

export type OpenStackActivities = ReturnType<typeof createOpenStackActivities>;
