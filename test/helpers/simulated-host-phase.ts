// SIMULATED host-phase activities, for tests of the provision runbook's orchestration (step order,
// progress, recorded histories) that run the real provisionHosts workflow without a lab: each
// activity checks it is asked about a host of the input, records the call and its input, and
// answers as the real one would: a step changes something the first time and nothing on a
// later run (what it "did" is kept, `done`); the nodes come up Ready. `refuse` makes one step
// fail as a member of another cluster does (PreconditionFailed). Nothing here touches a host.
// The real activities are proven on the netns lab (test/e2e/provision-*.provision.ts).
import { ApplicationFailure } from '@temporalio/activity';
import type { HostPhaseActivities, HostStep, StepResult } from '../../activities/host/index.js';
import type { HostPhaseTarget } from '../../activities/host/session.js';
import { cniTitle, LOCAL_PATH } from '../../activities/addons/catalog.js';

export interface SimulatedHostPhase {
  activities: HostPhaseActivities;
  /** Activity name and host, in the order the calls arrived. */
  calls: string[];
  /** The same calls with their input. */
  log: { step: string; host: string; input: Record<string, unknown> }[];
  /** What the steps have "done" (step/host keys): cleared, the next run is on fresh hosts. */
  done: Set<string>;
  /** A step (on one host, or every host) that refuses with PreconditionFailed, as a foreign etcd member does. */
  refuse: { step?: string; host?: string };
  /** Holds `kubeadm join` on `host` until the returned function is called (to watch a step in flight). */
  holdJoin(host: string): () => void;
}

export function simulatedHostPhase(): SimulatedHostPhase {
  const calls: string[] = [];
  const log: SimulatedHostPhase['log'] = [];
  const done = new Set<string>();
  const refuse: SimulatedHostPhase['refuse'] = {};
  const record = (step: string, i: object, host = '') => {
    calls.push(host ? `${step} ${host}` : step);
    log.push({ step, host, input: i as Record<string, unknown> });
  };
  /** True the first time `key` is done. */
  const firstTime = (key: string) => !done.has(key) && Boolean(done.add(key));
  const holds = new Map<string, Promise<void>>();
  const known = (i: HostPhaseTarget, host: string) => {
    if (!i.hosts.some((h) => h.name === host)) throw new Error(`SIMULATED host phase: ${host} is not a host of the input`);
  };
  const changedOn = (name: string, i: HostStep, what: string): StepResult => {
    known(i, i.host);
    record(name, i, i.host);
    if (refuse.step === name && (!refuse.host || refuse.host === i.host)) throw ApplicationFailure.nonRetryable(`SIMULATED: ${i.host} refused`, 'PreconditionFailed');
    return { host: i.host, changed: firstTime(`${name}/${i.host}`) ? [`SIMULATED: ${what}`] : [] };
  };
  const vipHolder = (i: HostPhaseTarget) => (i.inventory.loadBalancer.placement === 'gateways' ? i.inventory.gateways : i.inventory.masters)[0]!.name;
  const activities: HostPhaseActivities = {
    async prepareHost(i) { return changedOn('prepareHost', i, 'prerequisites'); },
    async configureLoadBalancerHost(i) { return changedOn('configureLoadBalancerHost', i, 'HAProxy + keepalived'); },
    async waitForVip(i) { record('waitForVip', i); return { holder: vipHolder(i) }; },
    async initControlPlane(i) { return changedOn('initControlPlane', i, 'kubeadm init'); },
    async joinNode(i) {
      await holds.get(i.host);
      return changedOn('joinNode', i, `kubeadm join${i.controlPlane ? ' (control plane)' : ''}`);
    },
    async fetchAdminKubeconfig(i) { known(i, i.host); record('fetchAdminKubeconfig', i); return { path: `/SIMULATED/${i.inventory.cluster.name}/admin.conf`, changed: firstTime('admin.conf') }; },
    async waitNodesReady(i) {
      record('waitNodesReady', i);
      return { nodes: i.names.map((name) => ({ name, ready: true, kubeletVersion: `v${i.inventory.kubernetes.version}` })) };
    },
    async checkApiThroughVip(i) { record('checkApiThroughVip', i); return { line: `SIMULATED: API through the VIP ${i.inventory.kubernetes.controlPlaneEndpoint}` }; },
    async checkVipFailover(i) { record('checkVipFailover', i); return { line: `SIMULATED: VIP moved away from ${i.holder}` }; },
    async checkPvcBinding(i) { known(i, i.host); record('checkPvcBinding', i, i.host); const node = i.inventory.workers[0]?.name ?? i.host; return { line: `SIMULATED: PVC bound on local-path: mooring-smoke-pvc → pvc-simulated on ${node} (1Mi), cleaned up`, pv: 'pvc-simulated', node }; },
    // External etcd (seed 001): the CA made once, each member installed and started, the cluster formed.
    async ensureEtcdCa(i) { record('ensureEtcdCa', i); return { created: firstTime('etcd CA') }; },
    async prepareEtcdMember(i) { return changedOn('prepareEtcdMember', i, 'etcd binaries, unit, certificates'); },
    async startEtcdMember(i) { return changedOn('startEtcdMember', i, 'etcd started'); },
    async waitEtcdCluster(i) {
      record('waitEtcdCluster', i);
      const members = i.inventory.etcd.topology === 'external' ? i.inventory.etcd.members : [];
      return { clusterId: 'SIMULATED', leader: members[0]?.name ?? '', versions: Object.fromEntries(members.map((m) => [m.name, i.inventory.etcd.version])) };
    },
    async placeApiserverEtcdClient(i) { return changedOn('placeApiserverEtcdClient', i, 'apiserver-etcd-client certificate'); },
    // Addons: each applied once (a later run finds it as rendered), the rollout seen on every named node.
    async applyAddon(i) {
      const title = i.addon === 'cni' ? cniTitle(i.inventory.kubernetes) : `${LOCAL_PATH.title} ${LOCAL_PATH.version}`;
      return { ...changedOn(`applyAddon:${i.addon}`, i, `${title} applied`), addon: i.addon, title };
    },
    async waitAddonsRollout(i) {
      known(i, i.host);
      record('waitAddonsRollout', i, i.host);
      return { lines: [`SIMULATED: ${cniTitle(i.inventory.kubernetes)}: DaemonSet ready on ${i.names.length}/${i.names.length} nodes`, `SIMULATED: ${LOCAL_PATH.title} ${LOCAL_PATH.version}: provisioner available, StorageClass ${LOCAL_PATH.storageClass}`] };
    },
    // Helm (activities/addons/helm.ts): on each master, then the smoke check from the first.
    async installHelm(i) { return changedOn('installHelm', i, `helm v${i.inventory.kubernetes.helm.version} installed and held`); },
    async checkHelm(i) { known(i, i.host); record('checkHelm', i, i.host); return { releases: 0, line: `SIMULATED: Helm v${i.inventory.kubernetes.helm.version}; helm list through the VIP: 0 releases` }; },
  };
  return {
    activities, calls, log, done, refuse,
    holdJoin(host) {
      let release!: () => void;
      holds.set(host, new Promise<void>((r) => { release = r; }));
      return () => { release(); holds.delete(host); };
    },
  };
}
