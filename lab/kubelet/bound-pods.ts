// SIMULATED kubelet (lab only): the pods other than static pods that the scheduler bound to this
// node. The stand-in runs none of them (no container runtime), so their phase stays Pending and
// they are never Ready, with one exception made for drain tests: a pod annotated
// `lab.mooring.io/simulate-running: "true"` is reported Running and Ready (SIMULATED: no process
// runs; a Pending pod is evicted past any PodDisruptionBudget, so only a Running one lets a budget
// block a drain as it does in production). It also does the kubelet's last word on a deleted pod: a pod bound
// to a node is deleted gracefully (deletionTimestamp set; the apiserver waits for the kubelet), and
// the kubelet, once the containers are stopped, deletes it for good with grace period 0. Here
// nothing ran, so it confirms at once. Without this an eviction (kubectl drain) would leave the
// pod Terminating forever and no drain could finish.
import { ApiClient, isStatus } from './api-client.js';

interface BoundPod {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; annotations?: Record<string, string> };
  spec: { containers: { name: string; image: string }[] };
  status?: { phase?: string };
}

const MIRROR = 'kubernetes.io/config.mirror';
export const SIMULATE_RUNNING = 'lab.mooring.io/simulate-running';

/** The status a kubelet would report for a started pod whose containers are ready (nothing runs). */
export function simulatedRunningStatus(p: BoundPod, nodeIp: string, now: string) {
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
    hostIP: nodeIp, hostIPs: [{ ip: nodeIp }], startTime: now,
    containerStatuses: p.spec.containers.map((c) => ({
      name: c.name, image: c.image, imageID: c.image, ready: true, started: true, restartCount: 0,
      containerID: `mooring-simulated://none-${p.metadata.uid.slice(0, 8)}-${c.name}`, state: { running: { startedAt: now } }, lastState: {},
    })),
  };
}

/** Reports the opted-in pods Running; deletes for good the non-mirror pods being deleted (returns their names). */
export async function syncBoundPods(api: ApiClient, nodeName: string, nodeIp: string, log: (m: string) => void): Promise<string[]> {
  const list = await api.get<{ items: BoundPod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`);
  const done: string[] = [];
  for (const p of list.items) {
    if (!p.metadata.deletionTimestamp && !p.metadata.annotations?.[MIRROR] && p.metadata.annotations?.[SIMULATE_RUNNING] === 'true' && p.status?.phase !== 'Running') {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await api.patch(`/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/pods/${encodeURIComponent(p.metadata.name)}/status`, { status: simulatedRunningStatus(p, nodeIp, now) }, 'merge');
      log(`pod ${p.metadata.namespace}/${p.metadata.name}: reported Running and Ready (SIMULATED, ${SIMULATE_RUNNING}: nothing runs)`);
    }
  }
  for (const p of list.items) {
    if (!p.metadata.deletionTimestamp || p.metadata.annotations?.[MIRROR]) continue;
    const path = `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/pods/${encodeURIComponent(p.metadata.name)}`;
    try {
      await api.delete(path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
      log(`pod ${p.metadata.namespace}/${p.metadata.name}: deleted (SIMULATED: it never ran here, nothing to stop)`);
      done.push(`${p.metadata.namespace}/${p.metadata.name}`);
    } catch (e) {
      if (!isStatus(e, 404) && !isStatus(e, 409)) throw e;
    }
  }
  return done;
}
