// The OpenStack cloud phase's activities, built by one factory from their dependencies.
import { createComputeActivities } from './compute.js';
import { createNetworkActivities } from './network.js';
import type { OpenStackDeps } from './context.js';

export type { CloudTarget, OpenStackDeps } from './context.js';

export function createOpenStackActivities(deps: OpenStackDeps = {}) {
  return { ...createNetworkActivities(deps), ...createComputeActivities(deps) };
}

export type OpenStackActivities = ReturnType<typeof createOpenStackActivities>;
