// SIMULATED kubelet (lab only): registers the Node and posts its status as the kubelet does:
// create the Node with the labels a kubelet may set on itself (NodeRestriction allows these, not
// node-role labels, which `kubeadm init` adds), then patch its status with the conditions, the
// addresses, capacity and nodeInfo (kubeletVersion = --kubelet-version). Ready is True while the
// kubelet runs: the node lifecycle controller turns it Unknown when status and lease stop.
import { ApiClient, isStatus } from './api-client.js';
import { nodeStatusFacts, type NodeFacts } from './node-info.js';

interface NodeObject { metadata: { uid: string; name: string } }

const arch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

export async function registerNode(api: ApiClient, nodeName: string): Promise<string> {
  const body = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch(),
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch(),
      },
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
  };
  try {
    return (await api.post<NodeObject>('/api/v1/nodes', body)).metadata.uid;
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    return (await api.get<NodeObject>(`/api/v1/nodes/${encodeURIComponent(nodeName)}`)).metadata.uid;
  }
}

const since = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Posts the node's status; throws ApiError 404 when the Node is gone (then register again). */
export async function postNodeStatus(api: ApiClient, facts: NodeFacts): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: since });
  const status = {
    ...nodeStatusFacts(facts),
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (SIMULATED kubelet of the Mooring lab)'),
    ],
  };
  await api.patch(`/api/v1/nodes/${encodeURIComponent(facts.nodeName)}/status`, { status }, 'strategic');
}
