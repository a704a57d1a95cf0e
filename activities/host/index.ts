// The host phase's activities (shared by the OpenStack and Proxmox provisioning): each opens its
// own SSH session(s) with pinned host keys, checks before it acts, and returns only what changed
// and what the workflow must know — never a token, a key or a kubeconfig's content.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile, reportProgress } from '../heartbeat.js';
import type { SshDeps } from '../ssh/access.js';
import { sh } from '../ssh/quote.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';
import { kubeadmInit } from '../kubeadm/init.js';
import { hasJoined, kubeadmJoin, makeJoinCredentials } from '../kubeadm/join.js';
import { apiReady, listNodes } from '../kubectl/smoke.js';
import { pvcSmoke, PvcSmokeFailed } from '../kubectl/pvc-smoke.js';
import { loadBalancerNodes } from '../gateway/placement.js';
import type { HostPhaseNode } from './context.js';
import type { EtcdSettings } from '../etcd-recovery/context.js';
import { apiserverEtcdClientFiles, etcdCa, etcdClusterFormed, externalMembers, hostCaCert, prepareEtcdHost, startEtcdMember, type EtcdClusterView } from './external-etcd.js';
import { configureLoadBalancer, holdsVip, vipAccepts } from './load-balancer.js';
import { prepareKubernetesNode } from './prerequisites.js';
import { createHelmActivities } from '../addons/helm.js';
import { onHost, provisionedHost, type HostPhaseTarget } from './session.js';
import { poll } from './poll.js';
import { createAddonActivities } from '../addons/index.js';

export interface HostPhaseDeps extends SshDeps {
  /** Where the admin kubeconfig of each cluster is kept on the worker's machine (default $MOORING_STATE_DIR or ~/.local/state/mooring). */
  stateDir?: string;
}

export interface HostStep extends HostPhaseTarget { host: string }
export interface StepResult { host: string; changed: string[] }

export function createHostPhaseActivities(deps: HostPhaseDeps = {}) {
  const stateDir = deps.stateDir ?? process.env.MOORING_STATE_DIR ?? join(homedir(), '.local', 'state', 'mooring');
  return {
    // installHelm (each master, after the joins) and checkHelm (smoke): activities/addons/helm.ts.
    ...createHelmActivities(deps),
    /** Swap, modules, sysctls, container runtime and the Kubernetes packages on one master or worker. */
    async prepareHost(i: HostStep): Promise<StepResult> {
      const h = provisionedHost(i, i.host);
      return heartbeatWhile(`prerequisites on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => prepareKubernetesNode(s, { version: i.inventory.kubernetes.version, nodeIp: h.address }, signal)),
      }));
    },

    /** HAProxy and keepalived on one load balancer host (a gateway, or a master with placement: masters). */
    async configureLoadBalancerHost(i: HostStep): Promise<StepResult> {
      const h = provisionedHost(i, i.host);
      return heartbeatWhile(`load balancer on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => configureLoadBalancer(s, i.inventory, { node: i.host, address: h.address }, signal)),
      }));
    },

    /** Waits until exactly one load balancer holds the VIP and HAProxy accepts on the VIP's API port. */
    async waitForVip(i: HostPhaseTarget): Promise<{ holder: string }> {
      const { vip, apiPort } = i.inventory.loadBalancer;
      return heartbeatWhile(`VIP ${vip}`, (signal) => poll(`one load balancer holding ${vip} and accepting on port ${apiPort}`, 90_000, signal, async () => {
        const holders: string[] = [];
        for (const n of loadBalancerNodes(i.inventory)) {
          if (await onHost(deps, i, n.name, signal, (s) => holdsVip(s, vip, signal))) holders.push(n.name);
        }
        reportProgress({ holders });
        if (holders.length !== 1) return undefined;
        return (await onHost(deps, i, holders[0]!, signal, (s) => vipAccepts(s, vip, apiPort, signal))) ? { holder: holders[0]! } : undefined;
      }));
    },

    /**
     * The external etcd's CA (made once for the cluster, or the inventory's etcd.tls.caKey), checked
     * against what the etcd hosts already trust. Only `created` leaves: never a key.
     */
    async ensureEtcdCa(i: HostPhaseTarget): Promise<{ created: boolean }> {
      return heartbeatWhile('etcd CA', async (signal) => {
        const hostCas: { host: string; certPem: string }[] = [];
        for (const m of i.inventory.etcd.members) {
          const certPem = await onHost(deps, i, m.name, signal, (s) => hostCaCert(s, i.inventory.etcd.tls.caCert, signal));
          if (certPem) hostCas.push({ host: m.name, certPem });
        }
        return { created: (await etcdCa(stateDir, i.inventory, hostCas, true)).created };
      });
    },

    /** etcd's binaries at the inventory's version, its unit and its certificates on one external etcd host. */
    async prepareEtcdMember(i: HostStep & { etcd: EtcdSettings }): Promise<StepResult> {
      const { ca } = await etcdCa(stateDir, i.inventory, [], false);
      const member = externalMembers(i.inventory).find((m) => m.name === i.host);
      if (!member) throw ApplicationFailure.nonRetryable(`etcd.members: ${i.host} is not an external etcd member`, 'InvalidInput');
      return heartbeatWhile(`etcd on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => prepareEtcdHost(s, i.inventory, i.etcd, ca, member, signal)),
      }));
    },

    /** One member of the new cluster configured and started (left alone when it is healthy in this cluster). */
    async startEtcdMember(i: HostStep & { etcd: EtcdSettings }): Promise<StepResult> {
      const members = externalMembers(i.inventory);
      const member = members.find((m) => m.name === i.host);
      if (!member) throw ApplicationFailure.nonRetryable(`etcd.members: ${i.host} is not an external etcd member`, 'InvalidInput');
      return heartbeatWhile(`etcd member ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => startEtcdMember(s, i.inventory, i.etcd, member, members, signal)),
      }));
    },

    /** Waits until every member is healthy with one cluster ID and one leader, the member list exactly the inventory's. */
    async waitEtcdCluster(i: HostPhaseTarget & { etcd: EtcdSettings; timeoutSeconds?: number }): Promise<EtcdClusterView> {
      const members = externalMembers(i.inventory);
      let last = '';
      return heartbeatWhile('external etcd healthy', (signal) => poll(`etcd members ${members.map((m) => m.name).join(', ')} healthy in one cluster`, (i.timeoutSeconds ?? 120) * 1000, signal, async () => {
        const r = await onHost(deps, i, members[0]!.name, signal, (s) => etcdClusterFormed(s, i.etcd, members, signal));
        if (r.problem !== last) reportProgress({ etcd: r.problem || 'formed' });
        last = r.problem;
        if (!r.view) throw new Error(r.problem);
        return r.view;
      }));
    },

    /** kube-apiserver's client certificate for the external etcd, and the etcd CA, at kubeadm's paths on a master. */
    async placeApiserverEtcdClient(i: HostStep): Promise<StepResult> {
      const { ca } = await etcdCa(stateDir, i.inventory, [], false);
      return heartbeatWhile(`apiserver-etcd-client on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => apiserverEtcdClientFiles(s, ca, signal)),
      }));
    },

    /** kubeadm init on the first master (nothing when it has a control plane already). */
    async initControlPlane(i: HostStep): Promise<StepResult> {
      return heartbeatWhile(`kubeadm init on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => kubeadmInit(s, i.inventory, i.host, signal)),
      }));
    },

    /** kubeadm join of one master (controlPlane) or worker, with credentials made for it on `first`. */
    async joinNode(i: HostStep & { first: string; controlPlane: boolean }): Promise<StepResult> {
      const h = provisionedHost(i, i.host);
      return heartbeatWhile(`kubeadm join on ${i.host}`, async (signal) => onHost(deps, i, i.host, signal, async (s) => {
        if (await hasJoined(s, signal)) return { host: i.host, changed: [] };
        const creds = await onHost(deps, i, i.first, signal, (f) => makeJoinCredentials(f, { cluster: i.inventory.cluster.name, controlPlane: i.controlPlane }, signal));
        await kubeadmJoin(s, i.inventory, { name: i.host, address: h.address, controlPlane: i.controlPlane }, creds, signal);
        return { host: i.host, changed: [`kubeadm join${i.controlPlane ? ' --control-plane' : ''}`] };
      }));
    },

    /** The admin kubeconfig copied to this machine (0600); only its path is returned. */
    async fetchAdminKubeconfig(i: HostStep): Promise<{ path: string; changed: boolean }> {
      const dir = join(stateDir, 'clusters', i.inventory.cluster.name);
      const path = join(dir, 'admin.conf');
      const text = await heartbeatWhile(`admin kubeconfig from ${i.host}`, (signal) => onHost(deps, i, i.host, signal, (s) => s.run(sh`cat ${ADMIN_KUBECONFIG}`, { timeoutMs: 30_000, signal })));
      const before = await readFile(path, 'utf8').catch(() => undefined);
      if (before === text) return { path, changed: false };
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await chmod(`${path}.tmp`, 0o600);
      await rename(`${path}.tmp`, path);
      return { path, changed: true };
    },

    /** Waits until every named node is Ready, as listed through the VIP. */
    async waitNodesReady(i: HostStep & { names: string[]; timeoutSeconds?: number }): Promise<{ nodes: HostPhaseNode[] }> {
      return heartbeatWhile('every node Ready', (signal) => poll(`nodes ${i.names.join(', ')} Ready`, (i.timeoutSeconds ?? 300) * 1000, signal, async () => {
        const nodes = await onHost(deps, i, i.host, signal, (s) => listNodes(s, signal));
        reportProgress({ ready: nodes.filter((n) => n.ready).map((n) => n.name) });
        return i.names.every((n) => nodes.some((x) => x.name === n && x.ready)) ? { nodes } : undefined;
      }));
    },

    /** The API answers /readyz through the VIP (asked from `host` with the admin kubeconfig). */
    async checkApiThroughVip(i: HostStep): Promise<{ line: string }> {
      const ok = await heartbeatWhile('API through the VIP', (signal) => onHost(deps, i, i.host, signal, (s) => apiReady(s, signal)));
      if (!ok) throw ApplicationFailure.retryable(`the API did not answer /readyz through ${i.inventory.kubernetes.controlPlaneEndpoint}`, 'SmokeFailed');
      return { line: `API answers /readyz through the VIP ${i.inventory.kubernetes.controlPlaneEndpoint}` };
    },

    /**
     * A PVC of StorageClass local-path bound to a PV on a node (a pod consumes it, so the scheduler
     * picks the node), its directory there, then pod and PVC deleted and the PV and directory gone.
     * Fixed names: a retry first deletes what an earlier attempt left.
     */
    async checkPvcBinding(i: HostStep & { timeoutSeconds?: number }): Promise<{ line: string; pv: string; node: string }> {
      const known = new Set(i.hosts.map((h) => h.name));
      return heartbeatWhile('PVC bound on local-path', async (signal) => {
        try {
          const r = await pvcSmoke({
            onMaster: (fn) => onHost(deps, i, i.host, signal, fn),
            onNode: (node, fn) => (known.has(node) ? onHost(deps, i, node, signal, fn) : Promise.resolve(undefined)),
            signal, timeoutMs: (i.timeoutSeconds ?? 180) * 1000, progress: (p) => reportProgress(p),
          });
          return { line: r.line, pv: r.pv, node: r.node };
        } catch (e) {
          if (e instanceof PvcSmokeFailed) throw ApplicationFailure.retryable(e.message, 'SmokeFailed');
          throw e;
        }
      });
    },

    /**
     * VIP failover without harm: keepalived stopped on the holder, the VIP must move to another
     * load balancer and the API answer through it, then keepalived is started again.
     */
    async checkVipFailover(i: HostStep & { holder: string }): Promise<{ line: string }> {
      const { vip } = i.inventory.loadBalancer;
      return heartbeatWhile('VIP failover', async (signal) => {
        await onHost(deps, i, i.holder, signal, (s) => s.run('systemctl stop keepalived', { timeoutMs: 60_000, signal }));
        try {
          const others = loadBalancerNodes(i.inventory).filter((n) => n.name !== i.holder);
          const moved = await poll(`the VIP ${vip} on another load balancer than ${i.holder}`, 30_000, signal, async () => {
            for (const n of others) if (await onHost(deps, i, n.name, signal, (s) => holdsVip(s, vip, signal))) return n.name;
            return undefined;
          });
          await poll('the API through the moved VIP', 30_000, signal, async () => ((await onHost(deps, i, i.host, signal, (s) => apiReady(s, signal))) ? true : undefined));
          return { line: `VIP failover: keepalived stopped on ${i.holder}, the VIP moved to ${moved}, the API answered through it` };
        } finally {
          await onHost(deps, i, i.holder, signal, (s) => s.run('systemctl start keepalived', { timeoutMs: 60_000, signal }));
        }
      });
    },

    // CNI and local-path storage, applied on the first master after the joins (activities/addons).
    ...createAddonActivities(deps),
  };
}

export type HostPhaseActivities = ReturnType<typeof createHostPhaseActivities>;
