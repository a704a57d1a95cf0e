// SIMULATED kubelet (lab only): the node's heartbeat, a Lease named after the node in
// kube-node-lease renewed every 10 s (the kubelet's default), owned by the Node so it goes when
// the Node does. Without it the node lifecycle controller marks the node NotReady after 40 s.
import { ApiClient, isStatus } from './api-client.js';

export const LEASE_DURATION_SECONDS = 40;

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = () => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface Lease { metadata: { resourceVersion: string; [k: string]: unknown }; spec: Record<string, unknown> }

export async function renewLease(api: ApiClient, nodeName: string, nodeUid: string): Promise<void> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(nodeName)}`;
  let lease: Lease | undefined;
  try {
    lease = await api.get<Lease>(path);
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
  if (!lease) {
    await api.post('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: nodeName, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime() },
    });
    return;
  }
  lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime() };
  await api.put(path, lease);
}
