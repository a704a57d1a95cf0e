// SIMULATED host-phase activities, for tests of the provision runbook's orchestration (progress,
// recorded histories) that run the real provisionHosts workflow without a lab: each activity
// checks it is asked about a host of the input, records the call, and answers as the real one
// would on a fresh host (every step changes something; the nodes come up Ready). Nothing here
// touches a host. The real activities are proven on the netns lab (test/e2e/provision-hosts).
import type { HostPhaseActivities, HostStep, StepResult } from '../../activities/host/index.js';
import type { HostPhaseTarget } from '../../activities/host/session.js';

export interface SimulatedHostPhase {
  activities: HostPhaseActivities;
  /** Activity name and host, in the order the calls arrived. */
  calls: string[];
  /** Holds `kubeadm join` on `host` until the returned function is called (to watch a step in flight). */
  holdJoin(host: string): () => void;
}

export function simulatedHostPhase(): SimulatedHostPhase {
  const calls: string[] = [];
  const holds = new Map<string, Promise<void>>();
  const known = (i: HostPhaseTarget, host: string) => {
    if (!i.hosts.some((h) => h.name === host)) throw new Error(`SIMULATED host phase: ${host} is not a host of the input`);
  };
  const changedOn = (name: string, i: HostStep, what: string): StepResult => {
    known(i, i.host);
    calls.push(`${name} ${i.host}`);
    return { host: i.host, changed: [`SIMULATED: ${what}`] };
  };
  const vipHolder = (i: HostPhaseTarget) => (i.inventory.loadBalancer.placement === 'gateways' ? i.inventory.gateways : i.inventory.masters)[0]!.name;
  const activities: HostPhaseActivities = {
    async prepareHost(i) { return changedOn('prepareHost', i, 'prerequisites'); },
    async configureLoadBalancerHost(i) { return changedOn('configureLoadBalancerHost', i, 'HAProxy + keepalived'); },
    async waitForVip(i) { calls.push('waitForVip'); return { holder: vipHolder(i) }; },
    async initControlPlane(i) { return changedOn('initControlPlane', i, 'kubeadm init'); },
    async joinNode(i) {
      await holds.get(i.host);
      return changedOn('joinNode', i, `kubeadm join${i.controlPlane ? ' (control plane)' : ''}`);
    },
    async fetchAdminKubeconfig(i) { known(i, i.host); calls.push('fetchAdminKubeconfig'); return { path: `/SIMULATED/${i.inventory.cluster.name}/admin.conf`, changed: true }; },
    async waitNodesReady(i) {
      calls.push('waitNodesReady');
      return { nodes: i.names.map((name) => ({ name, ready: true, kubeletVersion: `v${i.inventory.kubernetes.version}` })) };
    },
    async checkApiThroughVip(i) { calls.push('checkApiThroughVip'); return { line: `SIMULATED: API through the VIP ${i.inventory.kubernetes.controlPlaneEndpoint}` }; },
    async checkVipFailover(i) { calls.push('checkVipFailover'); return { line: `SIMULATED: VIP moved away from ${i.holder}` }; },
    // External etcd (seed 001): the CA made once, each member installed and started, the cluster formed.
    async ensureEtcdCa() { calls.push('ensureEtcdCa'); return { created: true }; },
    async prepareEtcdMember(i) { return changedOn('prepareEtcdMember', i, 'etcd binaries, unit, certificates'); },
    async startEtcdMember(i) { return changedOn('startEtcdMember', i, 'etcd started'); },
    async waitEtcdCluster(i) {
      calls.push('waitEtcdCluster');
      const members = i.inventory.etcd.topology === 'external' ? i.inventory.etcd.members : [];
      return { clusterId: 'SIMULATED', leader: members[0]?.name ?? '', versions: Object.fromEntries(members.map((m) => [m.name, i.inventory.etcd.version])) };
    },
    async placeApiserverEtcdClient(i) { return changedOn('placeApiserverEtcdClient', i, 'apiserver-etcd-client certificate'); },
  };
  return {
    activities, calls,
    holdJoin(host) {
      let release!: () => void;
      holds.set(host, new Promise<void>((r) => { release = r; }));
      return () => { release(); holds.delete(host); };
    },
  };
}
