// The smoke test "a PVC bound on local-path": with the real kubectl on the first master (admin.conf,
// through the VIP), a PVC of StorageClass local-path and a pod that uses it; local-path binds
// WaitForFirstConsumer, so the scheduler must place the pod on a node before the provisioner makes
// the volume there (its helper pod) and the PVC goes Bound to a PV pinned to that node. Then the pod
// and the PVC are deleted and the PV must go (reclaimPolicy Delete: the provisioner's delete helper
// removes the directory). Fixed names, so a re-run or a retry after a crash first deletes what an
// earlier attempt left. Nothing here is specific to the lab.
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';

export const PVC_SMOKE = {
  namespace: 'default',
  name: 'mooring-smoke-pvc',
  storageClass: 'local-path',
  size: '1Mi',
  /** The image local-path-provisioner's own helper pods use (its ConfigMap's helperPod.yaml). */
  image: 'busybox',
  provisionerNamespace: 'local-path-storage',
  provisionerDeployment: 'local-path-provisioner',
} as const;

const kubectl = (args: string) => `kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=10s ${args}`;
const NS = `-n ${PVC_SMOKE.namespace}`;

/** The PVC and the pod that consumes it, as one List for `kubectl apply -f -`. */
export function pvcSmokeObjects() {
  const { name, namespace, storageClass, size, image } = PVC_SMOKE;
  const labels = { 'app.kubernetes.io/managed-by': 'mooring', 'app.kubernetes.io/name': 'mooring-smoke' };
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace, labels }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: storageClass, resources: { requests: { storage: size } } } },
      {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels },
        spec: {
          restartPolicy: 'Never',
          // No tolerations: it lands on a worker, as a user's workload would.
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'smoke', image, command: ['sh', '-c', 'echo mooring > /data/smoke && sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }],
        },
      },
    ],
  };
}

interface Obj { metadata: { name: string }; status?: Record<string, unknown>; spec?: Record<string, unknown> }
interface Pv extends Obj { spec: { nodeAffinity?: { required?: { nodeSelectorTerms?: { matchExpressions?: { key: string; values?: string[] }[] }[] } }; hostPath?: { path: string }; local?: { path: string }; capacity?: { storage?: string }; claimRef?: { namespace?: string; name?: string } } }

export interface PvcBound { pv: string; node: string; path: string; capacity: string }

const getJson = async <T>(s: SshSession, args: string, signal: AbortSignal): Promise<T | undefined> => {
  const out = await s.run(kubectl(`get ${args} --ignore-not-found -o json`), { timeoutMs: 30_000, signal });
  return out.trim() ? (JSON.parse(out) as T) : undefined;
};

/** The node a PV is pinned to (local-path: kubernetes.io/hostname In [node]). */
export function pvNode(pv: Pv): string | undefined {
  for (const t of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of t.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.values?.length === 1) return e.values[0];
  }
  return undefined;
}

/** PVs that belong to the smoke PVC (an earlier attempt's included). */
export async function smokePvs(s: SshSession, signal: AbortSignal): Promise<Pv[]> {
  const list = await getJson<{ items: Pv[] }>(s, 'pv', signal);
  return (list?.items ?? []).filter((p) => p.spec.claimRef?.namespace === PVC_SMOKE.namespace && p.spec.claimRef?.name === PVC_SMOKE.name);
}

/** The events of an object, newest last, as "Reason: message" lines. */
export async function eventsOf(s: SshSession, kind: string, name: string, namespace: string | undefined, signal: AbortSignal): Promise<string[]> {
  const where = namespace ? `-n ${namespace}` : '';
  const list = await getJson<{ items: { reason?: string; message?: string; lastTimestamp?: string; eventTime?: string }[] }>(s, `events ${where} --field-selector ${sh`${`involvedObject.kind=${kind},involvedObject.name=${name}`}`}`, signal);
  return (list?.items ?? []).sort((a, b) => String(a.lastTimestamp ?? a.eventTime).localeCompare(String(b.lastTimestamp ?? b.eventTime))).map((e) => `${e.reason}: ${e.message}`);
}

/** Why nothing can bind: the StorageClass or a running provisioner missing; undefined when both are there. */
export async function provisionerProblem(s: SshSession, signal: AbortSignal): Promise<string | undefined> {
  const sc = await getJson<Obj>(s, `storageclass ${PVC_SMOKE.storageClass}`, signal);
  if (!sc) return `StorageClass ${PVC_SMOKE.storageClass} does not exist (local-path-storage not applied)`;
  const d = await getJson<Obj>(s, `deployment -n ${PVC_SMOKE.provisionerNamespace} ${PVC_SMOKE.provisionerDeployment}`, signal);
  if (!d) return `deployment ${PVC_SMOKE.provisionerNamespace}/${PVC_SMOKE.provisionerDeployment} does not exist`;
  if (Number(d.status?.availableReplicas ?? 0) < 1) {
    const pods = await getJson<{ items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string; message?: string; containerStatuses?: { state?: Record<string, { reason?: string; message?: string }> }[] } }[] }>(s, `pods -n ${PVC_SMOKE.provisionerNamespace} -l app=local-path-provisioner`, signal);
    const shown = (pods?.items ?? []).map((p) => {
      const st = Object.entries(p.status.containerStatuses?.[0]?.state ?? {})[0];
      return `${p.metadata.name} on ${p.spec.nodeName ?? '(unscheduled)'}: ${p.status.phase}${st ? ` ${st[0]}${st[1].reason ? ` ${st[1].reason}` : ''}${st[1].message ? `: ${st[1].message}` : ''}` : ''}${p.status.message ? ` (${p.status.message})` : ''}`;
    });
    return `the local-path provisioner is not running (deployment ${PVC_SMOKE.provisionerNamespace}/${PVC_SMOKE.provisionerDeployment} has no available replica${shown.length ? `; pods: ${shown.join('; ')}` : '; no pod'})`;
  }
  return undefined;
}

/** Deletes the smoke pod and PVC of an earlier attempt, waiting until their PV is gone too. */
export async function deleteSmoke(s: SshSession, signal: AbortSignal, wait: (what: string, probe: () => Promise<boolean>) => Promise<void>): Promise<void> {
  await s.run(kubectl(`delete pod ${NS} ${PVC_SMOKE.name} --ignore-not-found --wait=true --timeout=60s`), { timeoutMs: 90_000, signal });
  await s.run(kubectl(`delete pvc ${NS} ${PVC_SMOKE.name} --ignore-not-found --wait=true --timeout=60s`), { timeoutMs: 90_000, signal });
  await wait(`the PV of ${PVC_SMOKE.namespace}/${PVC_SMOKE.name} deleted by the provisioner`, async () => (await smokePvs(s, signal)).length === 0);
}

/** Creates the PVC and its pod and waits until the PVC is Bound to a PV pinned to a node. */
export async function bindSmoke(s: SshSession, signal: AbortSignal, wait: (what: string, probe: () => Promise<boolean>) => Promise<void>): Promise<PvcBound> {
  await s.run(kubectl('apply -f -'), { stdin: JSON.stringify(pvcSmokeObjects()), timeoutMs: 60_000, signal });
  let bound: PvcBound | undefined;
  await wait(`PVC ${PVC_SMOKE.namespace}/${PVC_SMOKE.name} Bound on ${PVC_SMOKE.storageClass}`, async () => {
    const pvc = await getJson<Obj & { spec: { volumeName?: string } }>(s, `pvc ${NS} ${PVC_SMOKE.name}`, signal);
    if (pvc?.status?.phase !== 'Bound' || !pvc.spec.volumeName) return false;
    const pv = await getJson<Pv>(s, `pv ${sh`${pvc.spec.volumeName}`}`, signal);
    const node = pv && pvNode(pv);
    if (!pv || !node) return false;
    bound = { pv: pv.metadata.name, node, path: pv.spec.hostPath?.path ?? pv.spec.local?.path ?? '', capacity: pv.spec.capacity?.storage ?? '' };
    return true;
  });
  return bound!;
}

/** Why the PVC is not Bound yet, for the error: its phase, its events and the pod's, the provisioner. */
export async function pvcStuck(s: SshSession, signal: AbortSignal): Promise<string> {
  const pvc = await getJson<Obj>(s, `pvc ${NS} ${PVC_SMOKE.name}`, signal).catch(() => undefined);
  const events = await eventsOf(s, 'PersistentVolumeClaim', PVC_SMOKE.name, PVC_SMOKE.namespace, signal).catch((): string[] => []);
  const podEvents = await eventsOf(s, 'Pod', PVC_SMOKE.name, PVC_SMOKE.namespace, signal).catch((): string[] => []);
  const prov = await provisionerProblem(s, signal).catch((e: Error) => `provisioner not checked: ${e.message}`);
  return [
    `PVC ${PVC_SMOKE.namespace}/${PVC_SMOKE.name} is ${String(pvc?.status?.phase ?? 'missing')}`,
    events.length ? `its last event: ${events.at(-1)}` : 'no event on it',
    podEvents.length ? `pod's last event: ${podEvents.at(-1)}` : '',
    prov ?? '',
  ].filter(Boolean).join('; ');
}

export interface PvcSmokeDeps {
  /** Runs `fn` in an SSH session on the first master (kubectl with admin.conf). */
  onMaster: <T>(fn: (s: SshSession) => Promise<T>) => Promise<T>;
  /** Runs `fn` on the named node, or gives undefined when it is no host Mooring reaches. */
  onNode: <T>(node: string, fn: (s: SshSession) => Promise<T>) => Promise<T | undefined>;
  signal: AbortSignal;
  timeoutMs: number;
  progress: (p: Record<string, unknown>) => void;
  /** Called while the PVC is bound (tests look at the node's directory here). */
  onBound?: (b: PvcBound) => Promise<void>;
}

export class PvcSmokeFailed extends Error {}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); });

/**
 * Leftovers deleted, PVC and pod created, Bound to a PV pinned to a node, the volume's directory
 * there, pod and PVC deleted, the PV and the directory gone. Returns the report line.
 */
export async function pvcSmoke(d: PvcSmokeDeps): Promise<{ line: string } & PvcBound> {
  const { signal } = d;
  const waitOn = (s: SshSession, stuck: () => Promise<string>) => async (what: string, probe: () => Promise<boolean>) => {
    const end = Date.now() + d.timeoutMs;
    let last = '';
    for (;;) {
      try {
        if (await probe()) return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (signal.aborted) throw new Error(`${what}: cancelled`);
      if (Date.now() > end) throw new PvcSmokeFailed(`${what}: not reached in ${Math.round(d.timeoutMs / 1000)} s: ${await stuck().catch((e: Error) => e.message)}${last ? ` (last error: ${last})` : ''}`);
      d.progress({ waitingFor: what });
      await sleep(2000, signal);
    }
  };
  const pvGone = (s: SshSession) => async () => {
    const pvs = await smokePvs(s, signal);
    const events = pvs[0] ? await eventsOf(s, 'PersistentVolume', pvs[0].metadata.name, undefined, signal).catch((): string[] => []) : [];
    return pvs.length ? `PV ${pvs.map((p) => `${p.metadata.name} ${String(p.status?.phase)}`).join(', ')} still there${events.length ? `; its last event: ${events.at(-1)}` : ''}` : 'gone';
  };

  return d.onMaster(async (s) => {
    // The provisioner first: without it neither a leftover PV goes nor a new PVC binds.
    const problem = await provisionerProblem(s, signal);
    if (problem) throw new PvcSmokeFailed(problem);
    d.progress({ step: 'leftovers of an earlier attempt' });
    await deleteSmoke(s, signal, waitOn(s, pvGone(s)));
    d.progress({ step: 'PVC and pod created, waiting for Bound' });
    const b = await bindSmoke(s, signal, waitOn(s, () => pvcStuck(s, signal)));
    d.progress({ step: 'bound', pv: b.pv, node: b.node });
    const dirSeen = b.path ? await d.onNode(b.node, async (n) => (await n.exec(sh`test -d ${b.path}`, { timeoutMs: 30_000, signal })).code === 0) : undefined;
    if (dirSeen === false) throw new PvcSmokeFailed(`PV ${b.pv} is Bound on ${b.node} but its directory ${b.path} does not exist there`);
    await d.onBound?.(b);
    d.progress({ step: 'deleting pod and PVC, waiting for the PV to go' });
    await deleteSmoke(s, signal, waitOn(s, pvGone(s)));
    const dirGone = b.path ? await d.onNode(b.node, async (n) => (await n.exec(sh`test ! -e ${b.path}`, { timeoutMs: 30_000, signal })).code === 0) : undefined;
    if (dirGone === false) throw new PvcSmokeFailed(`PV ${b.pv} is deleted but its directory ${b.path} is still on ${b.node} (the provisioner's delete helper did not remove it)`);
    const checked = dirSeen === undefined ? '' : `, directory ${b.path} made and removed on the node`;
    return { ...b, line: `PVC bound on ${PVC_SMOKE.storageClass}: ${PVC_SMOKE.name} → ${b.pv} on ${b.node} (${b.capacity || PVC_SMOKE.size})${checked}, cleaned up` };
  });
}
