// TEST DOUBLES (workflows), for the provision runbook's tests only: every registered workflow,
// plus stand-ins under the names the runbook starts its children by, `provisionHosts` (the host
// phase, built in another change) and `provisionProxmox` (Proxmox's cloud phase, likewise). They
// honour the contract in activities/host/context.ts and nothing more: the host-phase double
// configures nothing; it asks a test-double activity which hosts it has not "seen" yet (so a
// second run reports no change, as the real phase must) and reports one step per host to the
// parent, as a phase child does.
import { proxyActivities } from '@temporalio/workflow';
import type { CloudPhaseResult, HostPhaseInput, HostPhaseResult } from '../../activities/host/context.js';
import { reportToParent } from '../../workflows/provision/progress.js';

export * from '../../workflows/index.js';

export interface HostPhaseDoubleActivities {
  testDoubleHostPhase(i: { cluster: string; hosts: { name: string; machineId: string }[] }): Promise<string[]>;
}

const doubles = proxyActivities<HostPhaseDoubleActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3, nonRetryableErrorTypes: [] } });

/** TEST DOUBLE of the host phase. */
export async function provisionHosts(input: HostPhaseInput): Promise<HostPhaseResult> {
  const changed = await doubles.testDoubleHostPhase({ cluster: input.inventory.cluster.name, hosts: input.hosts.map((h) => ({ name: h.name, machineId: h.machineId })) });
  await reportToParent(input.hosts.map((h) => ({ id: `host:${h.name}`, title: `Host ${h.name} (${h.roles.join(', ')})`, status: 'done' as const, detail: changed.includes(h.name) ? 'TEST DOUBLE: configured' : 'TEST DOUBLE: unchanged' })));
  const lb = input.inventory.loadBalancer;
  return {
    apiEndpoint: `https://${lb.vip}:${lb.apiPort}`,
    kubeconfigPath: `/var/lib/mooring/${input.inventory.cluster.name}/admin.conf`,
    nodes: input.hosts.filter((h) => h.roles.includes('master') || h.roles.includes('worker')).map((h) => ({ name: h.name, ready: true, kubeletVersion: `v${input.inventory.kubernetes.version}` })),
    smoke: ['TEST DOUBLE: no smoke test ran'],
    changed: changed.map((n) => `${n}: configured (TEST DOUBLE)`),
  };
}

/** TEST DOUBLE of Proxmox's cloud phase: the plan only. */
export async function provisionProxmox(input: { inventory: HostPhaseInput['inventory']; planOnly?: boolean }): Promise<CloudPhaseResult> {
  return { plan: [`TEST DOUBLE: Proxmox plan for ${input.inventory.cluster.name}`] };
}
