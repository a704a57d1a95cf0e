// SIMULATED kubelet (lab only): the mirror pods, the API's view of the static pods. As the kubelet
// does: a mirror pod per static pod, named <pod>-<node>, with kubernetes.io/config.hash,
// config.mirror (same hash), config.source=file and config.seen, bound to the node and owned by
// the Node (the only shape NodeRestriction lets a node create). A node may not change a pod's
// annotations, so when a manifest changes the old mirror pod is deleted (UID precondition) and a
// new one created with the new hash: that change is what `kubeadm upgrade apply/node` waits for
// (WaitForStaticPodHashChange), before it waits for the pods to be Running
// (WaitForPodsWithLabel). Status: Running, Ready from the probes, one containerID per process.
import { ApiClient, isStatus } from './api-client.js';
import type { Prober } from './probes.js';
import type { RunningPod } from './static-pods.js';

interface PodObject {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { startTime?: string };
}

const MIRROR = 'kubernetes.io/config.mirror';
const HASH = 'kubernetes.io/config.hash';
export const CONTAINER_ID_PREFIX = 'mooring-simulated://';

const podPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

export function mirrorPodBody(p: RunningPod, nodeName: string, nodeUid: string) {
  const m = p.pod.manifest;
  const spec = { ...m.spec, nodeName };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.pod.fullName,
      namespace: p.pod.namespace,
      labels: m.metadata.labels ?? {},
      annotations: {
        ...(m.metadata.annotations ?? {}),
        [HASH]: p.pod.hash,
        [MIRROR]: p.pod.hash,
        'kubernetes.io/config.seen': new Date().toISOString(),
        'kubernetes.io/config.source': 'file',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid, controller: true }],
    },
    spec,
  };
}

const exitCodeOf = (code: number | null, signal: string | null) =>
  code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 255);

export function mirrorPodStatus(p: RunningPod, prober: Prober, nodeIp: string, startTime: string) {
  const containerStatuses = p.containers.map((c) => {
    const s = c.state;
    const probe = prober.result(s.id);
    const last = s.lastTermination
      ? { terminated: { exitCode: exitCodeOf(s.lastTermination.exitCode, s.lastTermination.signal), reason: 'Error', finishedAt: s.lastTermination.finishedAt.replace(/\.\d+Z$/, 'Z'), containerID: `${CONTAINER_ID_PREFIX}${s.lastTermination.id}` } }
      : {};
    return {
      name: c.name,
      image: c.image,
      imageID: c.image,
      ...(s.running ? { containerID: `${CONTAINER_ID_PREFIX}${s.id}` } : {}),
      ready: s.running && probe.ready,
      started: s.running && probe.started,
      restartCount: s.restartCount,
      state: s.running
        ? { running: { startedAt: s.startedAt!.replace(/\.\d+Z$/, 'Z') } }
        : { waiting: { reason: s.waitingReason ?? 'ContainerCreating', message: p.error ?? '' } },
      lastState: last,
    };
  });
  const allRunning = p.containers.length > 0 && containerStatuses.every((c) => c.state.running);
  const everStarted = p.containers.some((c) => c.state.running || c.state.restartCount > 0);
  const ready = allRunning && containerStatuses.every((c) => c.ready);
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: startTime });
  return {
    phase: everStarted ? 'Running' : 'Pending',
    conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
    hostIP: nodeIp,
    hostIPs: [{ ip: nodeIp }],
    podIP: nodeIp,
    podIPs: [{ ip: nodeIp }],
    startTime,
    containerStatuses,
  };
}

/** Keeps one mirror pod per static pod, with the current hash and status. */
export class MirrorPods {
  private readonly known = new Map<string, { uid: string; hash: string; lastStatus: string; checked: number; startTime: string }>();

  constructor(private readonly nodeName: string, private readonly log: (m: string) => void) {}

  /** Forget what was created: after a new apiserver/etcd, or a re-registered node, look again. */
  reset(): void {
    this.known.clear();
  }

  async sync(api: ApiClient, pods: RunningPod[], nodeUid: string, nodeIp: string, prober: Prober): Promise<void> {
    const wanted = new Set(pods.map((p) => `${p.pod.namespace}/${p.pod.fullName}`));
    // Re-read the API's copies every 10 s (someone may have deleted one) and whenever a hash moved.
    // As the kubelet does, by listing the pods bound to this node: the Node authorizer refuses a
    // node a GET of a pod that is not (yet) related to it.
    const stale = pods.some((p) => {
      const k = this.known.get(`${p.pod.namespace}/${p.pod.fullName}`);
      return !k || k.hash !== p.pod.hash || Date.now() - k.checked > 10_000;
    });
    if (stale) {
      const list = await api.get<{ items: PodObject[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.nodeName}`)}`);
      const onNode = new Map(list.items.map((x) => [`${x.metadata.namespace}/${x.metadata.name}`, x]));
      for (const p of pods) {
        const key = `${p.pod.namespace}/${p.pod.fullName}`;
        this.known.set(key, await this.ensure(api, p, nodeUid, onNode.get(key), this.known.get(key)));
      }
    }
    for (const p of pods) {
      const k = this.known.get(`${p.pod.namespace}/${p.pod.fullName}`)!;
      const status = mirrorPodStatus(p, prober, nodeIp, k.startTime);
      const text = JSON.stringify(status);
      if (text !== k.lastStatus) {
        await api.patch(`${podPath(p.pod.namespace, p.pod.fullName)}/status`, { status }, 'merge');
        k.lastStatus = text;
      }
    }
    for (const key of this.known.keys()) if (!wanted.has(key)) await this.remove(api, key);
  }

  private async ensure(api: ApiClient, p: RunningPod, nodeUid: string, existing: PodObject | undefined, before?: { startTime: string; lastStatus: string }) {
    const path = podPath(p.pod.namespace, p.pod.fullName);
    const hash = p.pod.hash;
    const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (existing && existing.metadata.annotations?.[MIRROR] === hash) {
      return { uid: existing.metadata.uid, hash, lastStatus: before?.lastStatus ?? '', checked: Date.now(), startTime: existing.status?.startTime ?? before?.startTime ?? now() };
    }
    if (existing) {
      this.log(`mirror pod ${p.pod.namespace}/${p.pod.fullName}: hash ${existing.metadata.annotations?.[HASH] ?? '(none)'} → ${hash}: deleting it to create it anew`);
      await this.deleteUid(api, path, existing.metadata.uid);
    }
    const created = await api.post<PodObject>(`/api/v1/namespaces/${encodeURIComponent(p.pod.namespace)}/pods`, mirrorPodBody(p, this.nodeName, nodeUid));
    this.log(`mirror pod ${p.pod.namespace}/${p.pod.fullName} created (config.hash ${hash})`);
    return { uid: created.metadata.uid, hash, lastStatus: '', checked: Date.now(), startTime: now() };
  }

  private async deleteUid(api: ApiClient, path: string, uid: string): Promise<void> {
    try {
      await api.delete(path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (e) {
      if (!isStatus(e, 404) && !isStatus(e, 409)) throw e;
    }
  }

  private async remove(api: ApiClient, key: string): Promise<void> {
    const k = this.known.get(key)!;
    const [ns, name] = key.split('/') as [string, string];
    this.log(`mirror pod ${key}: its manifest is gone: deleting it`);
    await this.deleteUid(api, podPath(ns, name), k.uid);
    this.known.delete(key);
  }
}
