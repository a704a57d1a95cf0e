// The Proxmox VE activities, built by one factory so tests can set the poll interval.
import { ensureClone, type CloneInput } from './clone.js';
import { inspect, type InspectInput } from './inspect.js';
import { createVmSteps } from './vm.js';
import { createDeprovisionSteps } from './deprovision.js';
import { readCapacity, type CapacityInput } from './capacity.js';

export interface ProxmoxDeps {
  /** Time between task and guest-agent polls (default 2 s). */
  pollMs?: number;
}

export function createProxmoxActivities(deps: ProxmoxDeps = {}) {
  const pollMs = deps.pollMs ?? 2000;
  return {
    inspectProxmox: (i: InspectInput) => inspect(i),
    readProxmoxCapacity: (i: CapacityInput) => readCapacity(i),
    cloneProxmoxVm: (i: CloneInput) => ensureClone(i, pollMs),
    ...createVmSteps(pollMs),
    ...createDeprovisionSteps(pollMs),
  };
}

export type ProxmoxActivities = ReturnType<typeof createProxmoxActivities>;
