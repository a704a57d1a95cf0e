// SIMULATED container runtime (lab only): the pod statuses the SIMULATED kubelet reports for the
// addons' pods, shaped as the kubelet's (phase, conditions, init and container statuses).
import { CONTAINER_ID_PREFIX } from '../mirror-pods.js';
import type { ContainerState } from '../container.js';
import type { AddonPod } from './pod.js';

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const cond = (type: string, ok: boolean, at: string, reason?: string) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}) });
const addresses = (p: AddonPod, nodeIp: string) => ({
  hostIP: nodeIp, hostIPs: [{ ip: nodeIp }],
  // Only hostNetwork pods get an address: no CNI plugin runs in the lab (no pod network).
  ...(p.spec.hostNetwork ? { podIP: nodeIp, podIPs: [{ ip: nodeIp }] } : {}),
});

/** Init containers done (exit 0), every container running and ready: what flannel's pods report. */
export function runningStatus(p: AddonPod, nodeIp: string, startTime: string, ids: Record<string, string>) {
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((t) => cond(t, true, startTime)),
    ...addresses(p, nodeIp), startTime,
    initContainerStatuses: (p.spec.initContainers ?? []).map((c) => ({
      name: c.name, image: c.image, imageID: c.image, ready: true, started: false, restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime, containerID: `${CONTAINER_ID_PREFIX}${ids[c.name] ?? ''}` } }, lastState: {},
    })),
    containerStatuses: p.spec.containers.map((c) => ({
      name: c.name, image: c.image, imageID: c.image, ready: true, started: true, restartCount: 0,
      containerID: `${CONTAINER_ID_PREFIX}${ids[c.name] ?? ''}`, state: { running: { startedAt: startTime } }, lastState: {},
    })),
  };
}

/** One container that is a real process of the node (the provisioner): Running while it lives. */
export function processStatus(p: AddonPod, nodeIp: string, startTime: string, s: ContainerState) {
  const c = p.spec.containers[0]!;
  const at = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');
  const last = s.lastTermination
    ? { terminated: { exitCode: s.lastTermination.exitCode ?? 137, reason: 'Error', finishedAt: at(s.lastTermination.finishedAt), containerID: `${CONTAINER_ID_PREFIX}${s.lastTermination.id}` } }
    : {};
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers', true, startTime), cond('Initialized', true, startTime), cond('Ready', s.running, startTime), cond('ContainersReady', s.running, startTime), cond('PodScheduled', true, startTime)],
    ...addresses(p, nodeIp), startTime,
    containerStatuses: [{
      name: c.name, image: c.image, imageID: c.image, ready: s.running, started: s.running, restartCount: s.restartCount,
      ...(s.running ? { containerID: `${CONTAINER_ID_PREFIX}${s.id}` } : {}),
      state: s.running ? { running: { startedAt: at(s.startedAt!) } } : { waiting: { reason: s.waitingReason ?? 'ContainerCreating' } },
      lastState: last,
    }],
  };
}

/** A pod that ran to its end (a helper pod, restartPolicy Never): Succeeded on exit 0, else Failed. */
export function finishedStatus(p: AddonPod, nodeIp: string, r: { exitCode: number; startedAt: string; finishedAt: string; id: string; message?: string }) {
  const c = p.spec.containers[0]!;
  return {
    phase: r.exitCode === 0 ? 'Succeeded' : 'Failed',
    ...(r.message ? { message: r.message } : {}),
    conditions: [cond('PodReadyToStartContainers', false, r.finishedAt), cond('Initialized', true, r.startedAt), cond('Ready', false, r.finishedAt, 'PodCompleted'), cond('ContainersReady', false, r.finishedAt, 'PodCompleted'), cond('PodScheduled', true, r.startedAt)],
    ...addresses(p, nodeIp), startTime: r.startedAt,
    containerStatuses: [{
      name: c.name, image: c.image, imageID: c.image, ready: false, started: false, restartCount: 0,
      state: { terminated: { exitCode: r.exitCode, reason: r.exitCode === 0 ? 'Completed' : 'Error', startedAt: r.startedAt, finishedAt: r.finishedAt, containerID: `${CONTAINER_ID_PREFIX}${r.id}`, ...(r.message ? { message: r.message } : {}) } },
      lastState: {},
    }],
  };
}

/**
 * A refused spec: a long-running pod waits with CreateContainerConfigError and the reason (as the
 * kubelet shows a config it cannot use); a run-to-completion pod (a helper) is Failed with it.
 */
export function refusedStatus(p: AddonPod, nodeIp: string, message: string) {
  if (p.spec.restartPolicy === 'Never') return finishedStatus(p, nodeIp, { exitCode: 126, startedAt: now(), finishedAt: now(), id: 'refused', message });
  const t = now();
  return {
    phase: 'Pending',
    message,
    conditions: [cond('Initialized', false, t, 'ContainersNotInitialized'), cond('Ready', false, t, 'ContainersNotReady'), cond('ContainersReady', false, t, 'ContainersNotReady'), cond('PodScheduled', true, t)],
    ...addresses(p, nodeIp), startTime: t,
    containerStatuses: p.spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message } }, lastState: {} })),
  };
}
