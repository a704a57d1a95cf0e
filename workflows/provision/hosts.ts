// The host phase of `provision`, shared by OpenStack (provisionCloud) and Proxmox: the hosts
// exist and carry the SSH host keys the cloud phase gave them; this makes a cluster of them.
// It reads like the seeds' runbooks and the Ansible roles they name:
//   lb                          keepalived + HAProxy on the load balancers, the VIP answering
//   etcd-implementation         external etcd (seed 001): binaries, unit, certificates, a new cluster
//   kubernetes-prerequisites    swap, modules, sysctls, containerd, kubelet/kubeadm/kubectl
//   kubernetes-initialize       kubeadm init on the first master, VIP as control-plane endpoint
//   master-join, worker-join    the other masters one at a time (stacked etcd grows by one), then the workers
//   addons                      the CNI (flannel, shipped; or the operator's manifest), local-path storage,
//                               Helm on the masters, then the CNI and storage rolled out (seed 001 applied
//                               local-path-provisioner the same way and installed Helm by hand)
//   smoke test                  every node Ready, the API through the VIP, the VIP failing over, a PVC
//                               bound on local-path, Helm answering through the VIP
// Every step is an idempotent activity: a re-run on a finished cluster changes nothing and says so.
// Each host's step is reported to the parent run (`provision`) as it starts and ends, so its
// progress (the CLI, `mooring status`, the Web UI) shows where every host is.
import { ApplicationFailure, patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { HostPhaseInput, HostPhaseResult } from '../../activities/host/context.js';
import type { HostPhaseActivities } from '../../activities/host/index.js';
import { messageOf, rootCause } from '../runbook/runbook.js';
import { reportToParent, type PhaseStep } from './progress.js';
import { etcdTargetOf } from '../etcd-recovery/target.js';
import { cniRefusal } from '../../activities/addons/catalog.js';

const nonRetryableErrorTypes = ['InvalidInput', 'HostKeyMismatch', 'AuthenticationFailed', 'KubeadmConfigError', 'PreconditionFailed', 'SecretUnavailable', 'HelmVersionMismatch'];
const retry = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes };

const hostSteps = proxyActivities<HostPhaseActivities>({ startToCloseTimeout: '20 minutes', heartbeatTimeout: '30 seconds', retry });
const kubeadm = proxyActivities<HostPhaseActivities>({ startToCloseTimeout: '20 minutes', heartbeatTimeout: '1 minute', retry });
const checks = proxyActivities<HostPhaseActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry: { ...retry, maximumAttempts: 3 } });

/** Runs from before the addons were installed say so in their result (they replay as they ran). */
const NOT_INSTALLED = (cni: string) => [
  `CNI ${cni}: not installed by the host phase yet (no manifest ships with Mooring); pods other than the control plane's stay Pending`,
  'local-path storage: not installed yet; PVC bound on local-path: not checked',
  'Helm: not installed yet',
];


function checkInput(input: HostPhaseInput, addons: boolean): void {
  const inv = input.inventory;
  const names = new Set(input.hosts.map((h) => h.name));
  const needed = [...inv.gateways, ...inv.masters, ...inv.workers, ...(inv.etcd.topology === 'external' ? inv.etcd.members : [])];
  const missing = needed.filter((n) => !names.has(n.name)).map((n) => n.name);
  if (missing.length) throw ApplicationFailure.nonRetryable(`hosts: the cloud phase returned no host for ${missing.join(', ')}: every inventory host must be provisioned first`, 'InvalidInput');
  for (const h of input.hosts) {
    const node = needed.find((n) => n.name === h.name);
    if (node && node.ip !== h.address) throw ApplicationFailure.nonRetryable(`hosts[${h.name}].address: ${h.address} is not the inventory's ${node.ip}`, 'InvalidInput');
  }
  // Runs recorded before external etcd was provisioned here failed at this point: they replay so.
  if (inv.etcd.topology === 'external' && !patched('host-phase-external-etcd')) {
    throw ApplicationFailure.nonRetryable('etcd.topology: external etcd is not provisioned by the host phase yet (seed 001); stacked etcd is (seeds 002, 003)', 'NotImplemented');
  }
  if (inv.etcd.topology === 'external' && !inv.etcd.binaries) {
    throw ApplicationFailure.nonRetryable('etcd.binaries.source: external etcd is installed from the release\'s binaries staged on the etcd hosts (etcd ships tarballs, not a package per release): set e.g. /opt/etcd/{version}', 'InvalidInput');
  }
  if (inv.masters.length === 0) throw ApplicationFailure.nonRetryable('masters: the host phase needs at least one master', 'InvalidInput');
  // The CNI is applied after the joins: refused here, before any host is touched, when it cannot be.
  const refusal = addons ? cniRefusal(inv.kubernetes) : undefined;
  if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'InvalidInput');
}

/** Reports host steps to the parent run (none when the phase runs on its own, or on a run from before). */
function hostProgress(input: HostPhaseInput, on: boolean) {
  const title = new Map(input.hosts.map((h) => [h.name, `Host ${h.name} (${h.roles.join(', ')})`]));
  const report = async (names: string[], status: PhaseStep['status'], detail: string) => {
    if (on) await reportToParent(names.map((n) => ({ id: `host:${n}`, title: title.get(n) ?? `Host ${n}`, status, detail })));
  };
  /** Runs one host's step, reported before and after (or as failed, with the cause). */
  const step = async <T extends { changed: string[] }>(name: string, what: string, run: () => Promise<T>): Promise<T> => {
    // Off, the activity is scheduled at once: runs from before keep their command order.
    if (!on) return run();
    await report([name], 'running', `${what}…`);
    try {
      const r = await run();
      await report([name], 'running', `${what}: ${r.changed.length ? `${r.changed.length} change(s)` : 'unchanged'}`);
      return r;
    } catch (err) {
      await report([name], 'failed', `${what} failed: ${messageOf(rootCause(err))}`);
      throw err;
    }
  };
  return { report, step };
}

type HostProgress = ReturnType<typeof hostProgress>;

/**
 * etcd-implementation (seed 001): the CA once, then on every etcd host at once the binaries, the
 * unit and the certificates, then every member started at once (a new member waits for its
 * peers), then the cluster must be formed: every member healthy, one cluster ID, one leader.
 */
async function externalEtcd(input: HostPhaseInput, record: (step: string, results: { host: string; changed: string[] }[]) => void, progress: HostProgress): Promise<string> {
  const inv = input.inventory;
  const target = { inventory: inv, hosts: input.hosts };
  const { etcd } = etcdTargetOf(inv);
  const { step } = progress;
  const ca = await hostSteps.ensureEtcdCa(target);
  record('etcd CA', [{ host: 'state directory', changed: ca.created ? ['etcd CA made'] : [] }]);
  record('etcd hosts', await Promise.all(inv.etcd.members.map((m) => step(m.name, 'etcd binaries, unit, certificates', () => hostSteps.prepareEtcdMember({ ...target, host: m.name, etcd })))));
  record('etcd members', await Promise.all(inv.etcd.members.map((m) => step(m.name, 'etcd member start', () => hostSteps.startEtcdMember({ ...target, host: m.name, etcd })))));
  const view = await checks.waitEtcdCluster({ ...target, etcd });
  await progress.report(inv.etcd.members.map((m) => m.name), 'done', `etcd member of cluster ${view.clusterId}`);
  return `external etcd: ${inv.etcd.members.length} members healthy, cluster ID ${view.clusterId}, leader ${view.leader}`;
}

/**
 * The CNI, then local-path storage (each diffed first: a re-run applies nothing), Helm on every
 * master at once (from its apt repository, pinned and held), then the CNI's and storage's rollout;
 * returns its smoke lines.
 */
async function installAddons(input: HostPhaseInput, record: (step: string, results: { host: string; changed: string[] }[]) => void, progress: HostProgress, names: string[]): Promise<string[]> {
  const target = { inventory: input.inventory, hosts: input.hosts };
  const host = input.inventory.masters[0]!.name;
  const cni = await progress.step(host, `CNI ${input.inventory.kubernetes.cni}`, () => hostSteps.applyAddon({ ...target, host, addon: 'cni' }));
  record(cni.title, [cni]);
  const storage = await progress.step(host, 'local-path storage', () => hostSteps.applyAddon({ ...target, host, addon: 'local-path' }));
  record(storage.title, [storage]);
  const helm = `Helm ${input.inventory.kubernetes.helm.version}`;
  record(helm, await Promise.all(input.inventory.masters.map((m) => progress.step(m.name, helm, () => hostSteps.installHelm({ ...target, host: m.name })))));
  await progress.report([host], 'running', 'addons: waiting for their rollout…');
  const { lines } = await checks.waitAddonsRollout({ ...target, host, names });
  await progress.report([host], 'running', `addons: ${lines.join('; ')}`);
  return lines;
}

export async function provisionHosts(input: HostPhaseInput): Promise<HostPhaseResult> {
  // Runs from before the addons (CNI, local-path storage) keep their shape: they replay as they ran.
  const addons = patched('provision-hosts-addons');
  checkInput(input, addons);
  const inv = input.inventory;
  const target = { inventory: inv, hosts: input.hosts };
  const progress = hostProgress(input, patched('provision-hosts-progress'));
  const changed: string[] = [];
  const done: string[] = [];
  const record = (step: string, results: { host: string; changed: string[] }[]) => {
    for (const r of results) for (const c of r.changed) changed.push(`${r.host}: ${c}`);
    const n = results.reduce((a, r) => a + r.changed.length, 0);
    done.push(`${step}: ${n ? `${n} change(s)` : 'unchanged'}`);
    setCurrentDetails(`**Host phase of ${inv.cluster.name}**\n\n${done.map((d) => `- ${d}`).join('\n')}`);
  };
  const loadBalancers = inv.loadBalancer.placement === 'gateways' ? inv.gateways : inv.masters;
  const [first, ...otherMasters] = inv.masters;
  const nodeNames = [...inv.masters, ...inv.workers].map((n) => n.name);
  const { step } = progress;
  await progress.report(input.hosts.map((h) => h.name), 'pending', 'waiting for its first step');

  // lb: HAProxy + keepalived on every load balancer, then the VIP must answer before kubeadm uses it.
  record('load balancers', await Promise.all(loadBalancers.map((n) => step(n.name, 'HAProxy + keepalived', () => hostSteps.configureLoadBalancerHost({ ...target, host: n.name })))));
  const { holder } = await checks.waitForVip(target);
  done.push(`VIP ${inv.loadBalancer.vip} held by ${holder}`);
  const lbOnly = loadBalancers.map((n) => n.name).filter((n) => !nodeNames.includes(n));
  await progress.report(lbOnly, 'done', `HAProxy + keepalived; VIP ${inv.loadBalancer.vip} held by ${holder}`);

  // kubernetes-prerequisites, on every master and worker at once; with external etcd, its hosts meanwhile.
  const [prerequisites, etcdFormed] = await Promise.all([
    Promise.all([...inv.masters, ...inv.workers].map((n) => step(n.name, 'prerequisites (swap, modules, sysctl, runtime, packages)', () => hostSteps.prepareHost({ ...target, host: n.name })))),
    inv.etcd.topology === 'external' ? externalEtcd(input, record, progress) : Promise.resolve(undefined),
  ]);
  if (etcdFormed) done.push(etcdFormed);
  record('prerequisites', prerequisites);
  if (inv.etcd.topology === 'external') {
    record('apiserver-etcd-client certificates', await Promise.all(inv.masters.map((n) => hostSteps.placeApiserverEtcdClient({ ...target, host: n.name }))));
  }

  // kubernetes-initialize, then master-join one at a time (each join adds a stacked etcd member), then worker-join.
  record(`kubeadm init on ${first!.name}`, [await step(first!.name, 'kubeadm init', () => kubeadm.initControlPlane({ ...target, host: first!.name }))]);
  const joins = [];
  for (const m of otherMasters) joins.push(await step(m.name, 'kubeadm join (control plane)', () => kubeadm.joinNode({ ...target, host: m.name, first: first!.name, controlPlane: true })));
  joins.push(...await Promise.all(inv.workers.map((w) => step(w.name, 'kubeadm join (worker)', () => kubeadm.joinNode({ ...target, host: w.name, first: first!.name, controlPlane: false })))));
  record('joins', joins);

  const kubeconfig = await checks.fetchAdminKubeconfig({ ...target, host: first!.name });
  if (kubeconfig.changed) changed.push(`admin kubeconfig written to ${kubeconfig.path}`);

  // Addons, on the first master with the admin kubeconfig: the CNI, then local-path storage, then
  // both rolled out. Before "every node Ready": a real kubelet reports its node NotReady until a
  // CNI runs on it (flannel's DaemonSet tolerates that; local-path's Deployment waits for it).
  const rollout = addons ? await installAddons(input, record, progress, nodeNames) : [];

  // Smoke test, through the VIP.
  const { nodes } = await checks.waitNodesReady({ ...target, host: first!.name, names: nodeNames });
  for (const n of nodes) await progress.report([n.name], n.ready ? 'done' : 'failed', n.ready ? `Ready (kubelet ${n.kubeletVersion})` : 'not Ready');
  const smoke = [`${nodes.length} nodes Ready: ${nodes.map((n) => `${n.name} (${n.kubeletVersion})`).join(', ')}`];
  smoke.push((await checks.checkApiThroughVip({ ...target, host: first!.name })).line);
  if (loadBalancers.length > 1) {
    const now = await checks.waitForVip(target);
    smoke.push((await checks.checkVipFailover({ ...target, host: first!.name, holder: now.holder })).line);
    await checks.waitForVip(target);
  } else {
    smoke.push('VIP failover: not checked (one load balancer)');
  }
  if (inv.etcd.topology === 'external') {
    // Once more after the control plane wrote to it: still formed, the same cluster.
    const view = await checks.waitEtcdCluster({ ...target, etcd: etcdTargetOf(inv).etcd });
    smoke.push(`external etcd: ${inv.etcd.members.length} members healthy, one cluster ID ${view.clusterId}, leader ${view.leader}`);
  }
  if (addons) {
    // A PVC bound by local-path's provisioner on a node, its directory made and removed there; Helm
    // on every master, answering through the VIP.
    smoke.push(...rollout, (await checks.checkPvcBinding({ ...target, host: first!.name })).line, (await checks.checkHelm({ ...target, host: first!.name })).line);
  } else {
    smoke.push(...NOT_INSTALLED(inv.kubernetes.cni));
  }
  done.push('smoke test passed');
  setCurrentDetails(`**Host phase of ${inv.cluster.name}**\n\n${done.map((d) => `- ${d}`).join('\n')}\n\n${smoke.map((s) => `- ${s}`).join('\n')}`);
  return { apiEndpoint: `https://${inv.kubernetes.controlPlaneEndpoint}`, kubeconfigPath: kubeconfig.path, nodes, smoke, changed };
}
