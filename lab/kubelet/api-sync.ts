// SIMULATED kubelet (lab only): everything the kubelet tells the apiserver, in one loop every 2 s
// (and at once when a container starts or stops): credentials from kubelet.conf (or the TLS
// bootstrap when only bootstrap-kubelet.conf exists), the Node and its status every 10 s, the
// node Lease every 10 s, the mirror pods, the addons' pods the SIMULATED runtime runs
// (runtime/addon-pods.ts), the final deletion of evicted pods (bound-pods.ts). The apiserver being down (it is a static pod of this
// very node) is normal: each step is retried on the next pass, an error is logged once.
import { existsSync, statSync } from 'node:fs';
import { ApiClient, isStatus } from './api-client.js';
import { readKubeconfig } from './kubeconfig.js';
import { renewLease } from './lease.js';
import { MirrorPods } from './mirror-pods.js';
import { syncBoundPods } from './bound-pods.js';
import { AddonPods } from './runtime/addon-pods.js';
import { registerNode, postNodeStatus } from './node.js';
import { nodeAddress } from './node-info.js';
import { Prober } from './probes.js';
import type { RunningPod } from './static-pods.js';
import { tlsBootstrap } from './tls-bootstrap.js';

export interface ApiSyncOptions {
  nodeName: string;
  kubeletVersion: string;
  kubeconfig: string;
  bootstrapKubeconfig: string;
  stateDir: string;
  nodeIp?: string;
  log: (m: string) => void;
  pods: () => RunningPod[];
}

const PERIOD_MS = 2000;
const HEARTBEAT_MS = 10_000;

export function startApiSync(o: ApiSyncOptions): { poke: () => void; stop: () => void; stopAddonPods: () => Promise<void> } {
  let stopped = false;
  let running = false;
  let again = false;
  let api: ApiClient | undefined;
  let kubeconfigStamp = '';
  let nodeUid: string | undefined;
  let lastStatus = 0;
  let lastLease = 0;
  let lastError = '';
  let lastBootstrapFailure = 0;
  const prober = new Prober();
  const mirrors = new MirrorPods(o.nodeName, o.log);
  let poke = () => {};
  const addons = new AddonPods({ nodeName: o.nodeName, stateDir: o.stateDir, kubeconfig: o.kubeconfig, log: o.log, changed: () => poke() });
  const leftoversStopped = addons.stopLeftovers().catch((e: Error) => o.log(`addon pods left by an earlier kubelet: ${e.message}`));

  const report = (what: string, e: unknown) => {
    const msg = `${what}: ${(e as Error).message}`;
    if (msg !== lastError) o.log(msg);
    lastError = msg;
  };

  /** A client for the current kubelet.conf, made anew when the file changes (kubelet-finalize rewrites it). */
  async function client(): Promise<ApiClient | undefined> {
    if (!existsSync(o.kubeconfig)) {
      if (!existsSync(o.bootstrapKubeconfig)) return undefined;
      // A refused or failed bootstrap is tried again after 10 s, not on every pass: each try is a new CSR.
      if (Date.now() - lastBootstrapFailure < 10_000) return undefined;
      try {
        await tlsBootstrap({ ...o, cancelled: () => stopped });
      } catch (e) {
        lastBootstrapFailure = Date.now();
        throw e;
      }
    }
    const st = statSync(o.kubeconfig);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp !== kubeconfigStamp || !api) {
      api?.close();
      api = new ApiClient(readKubeconfig(o.kubeconfig));
      kubeconfigStamp = stamp;
      o.log(`credentials from ${o.kubeconfig}`);
    }
    return api;
  }

  async function pass(): Promise<void> {
    const pods = o.pods();
    const ip = nodeAddress(o.nodeIp) ?? '127.0.0.1';
    const live = pods.flatMap((p) => p.containers.flatMap((c, i) => (c.state.running ? [{ id: c.state.id, spec: p.pod.manifest.spec.containers[i]!, startedAt: c.state.startedAt! }] : [])));
    await prober.tick(live, ip);

    let c: ApiClient | undefined;
    try {
      c = await client();
    } catch (e) {
      return report('credentials', e);
    }
    if (!c) return;
    try {
      if (!nodeUid) {
        nodeUid = await registerNode(c, o.nodeName);
        o.log(`node ${o.nodeName} registered (uid ${nodeUid})`);
        mirrors.reset();
        lastStatus = 0;
        lastLease = 0;
      }
      const facts = { nodeName: o.nodeName, kubeletVersion: o.kubeletVersion, stateDir: o.stateDir, address: ip };
      if (Date.now() - lastStatus >= HEARTBEAT_MS) {
        await postNodeStatus(c, facts);
        lastStatus = Date.now();
      }
      if (Date.now() - lastLease >= HEARTBEAT_MS) {
        await renewLease(c, o.nodeName, nodeUid);
        lastLease = Date.now();
      }
      await mirrors.sync(c, pods, nodeUid, ip, prober);
      // Before the final deletes: a pod being deleted has its process stopped first.
      await leftoversStopped;
      await addons.sync(c, ip);
      await syncBoundPods(c, o.nodeName, ip, o.log);
      if (lastError) o.log('apiserver reachable again; node status, lease and mirror pods in sync');
      lastError = '';
    } catch (e) {
      // The Node is gone (deleted, or etcd restored to before it existed): register it again.
      if (isStatus(e, 404) && /\/nodes\//.test((e as Error).message)) nodeUid = undefined;
      // The pod may have been deleted behind the cache: look it up again next time.
      if (isStatus(e, 404) || isStatus(e, 409)) mirrors.reset();
      report('apiserver', e);
    }
  }

  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), PERIOD_MS);
  poke = () => { if (!stopped) void run(); };
  void run();
  return {
    poke,
    stopAddonPods: () => addons.stopAll(),
    stop: () => {
      stopped = true;
      clearInterval(timer);
      api?.close();
    },
  };
}
