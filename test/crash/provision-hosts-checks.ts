// "Every run ends with the same healthy cluster": what the host phase's crash matrix checks after
// each case, for real, on the lab nodes behind the SIMULATED OpenStack fake, against one fixed
// expectation (seed 001's shape on the lab): the Kubernetes nodes through the VIP from the lab's
// LAN (names, Ready, the pinned release), the external etcd cluster (its members by name, one
// cluster ID on every endpoint, every endpoint healthy), which gateway holds the VIP (exactly one),
// and how often kubeadm ran (the nodes' SSH command logs): init once on the first master, one join
// per other node (a second only where the killed worker had that node's join in flight).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineLab } from '../../lab/netns/machines.js';
import type { Inventory } from '../../config/schema.js';
import { findTool } from '../../client/tools.js';
import { clientUrl, etcdctl, parseEndpointHealth, parseEndpointStatus, parseMemberList } from '../../activities/etcd-recovery/etcdctl.js';
import type { FailedAttempt } from './provision-run.js';

/** The cluster every case must end with (seed 001's shape: gateways, external etcd, masters, a worker). */
export interface ClusterShape {
  nodes: string[];
  etcdMembers: string[];
  gateways: string[];
  firstMaster: string;
  /** kubelet version every node reports, e.g. v1.35.4. */
  kubeletVersion: string;
}

/** What a case ended with, comparable across cases (cluster IDs differ: each case makes a new cluster). */
export interface ClusterSeen {
  nodes: { name: string; ready: boolean; kubeletVersion: string }[];
  etcdMembers: string[];
  etcdClusterIds: string[];
  etcdHealthy: boolean[];
  vipHolders: string[];
  kubeadm: Record<string, { init: number; join: number }>;
}

/** Commands a lab machine received over SSH (its ForceCommand log), oldest first. */
function commandsOf(lab: MachineLab, node: string): string[] {
  const file = join(lab.nodeDir(node), 'commands.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf('\t') + 1));
}

/** `kubeadm init --config` and `kubeadm join --config` runs per node (not `kubeadm init phase upload-certs`). */
export function kubeadmRunsOf(lab: MachineLab, nodes: readonly string[]): Record<string, { init: number; join: number }> {
  return Object.fromEntries(nodes.map((n) => {
    const cmds = commandsOf(lab, n);
    return [n, { init: cmds.filter((c) => /kubeadm init --config/.test(c)).length, join: cmds.filter((c) => /kubeadm join --config/.test(c)).length }];
  }));
}

/** Looks at the cluster the case left: through the VIP, on the etcd hosts, on the gateways, in the command logs. */
export async function seeCluster(lab: MachineLab, inv: Inventory, shape: ClusterShape, kubeconfig: string): Promise<ClusterSeen> {
  const kubectl = findTool('kubectl', 'MOORING_KUBECTL');
  // From the lab's LAN, as an operator's kubectl: the admin kubeconfig names the VIP.
  const json = await lab.execIn('lan', [kubectl, '--kubeconfig', kubeconfig, '--request-timeout=10s', 'get', 'nodes', '-o', 'json']);
  const items = (JSON.parse(json) as { items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string } } }[] }).items;
  const nodes = items.map((n) => ({ name: n.metadata.name, ready: n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, kubeletVersion: n.status.nodeInfo.kubeletVersion }));

  // etcdctl on the first etcd host, with the client certificate the host phase placed there.
  const tls = inv.etcd.tls;
  const endpoints = inv.etcd.members.map((m) => clientUrl(m.ip, inv.etcd.clientPort));
  const onEtcd = (args: string[]) => lab.execIn(shape.etcdMembers[0]!, ['sh', '-c', etcdctl({ caCert: tls.caCert, clientCert: tls.clientCert, clientKey: tls.clientKey }, endpoints, args)]);
  const list = parseMemberList(await onEtcd(['member', 'list', '-w', 'json']));
  const status = parseEndpointStatus(await onEtcd(['endpoint', 'status', '-w', 'json']));
  const health = parseEndpointHealth(await onEtcd(['endpoint', 'health', '-w', 'json']));

  const vipHolders: string[] = [];
  for (const g of shape.gateways) {
    const addrs = await lab.execIn(g, ['ip', '-4', '-o', 'addr', 'show']);
    if (addrs.split('\n').some((l) => l.includes(` ${inv.loadBalancer.vip}/`))) vipHolders.push(g);
  }
  return {
    nodes: nodes.sort((a, b) => a.name.localeCompare(b.name)),
    etcdMembers: list.members.map((m) => m.name).sort(),
    etcdClusterIds: [...new Set([list.clusterId, ...status.map((s) => s.clusterId)])],
    etcdHealthy: health.map((h) => h.healthy),
    vipHolders,
    kubeadm: kubeadmRunsOf(lab, shape.nodes),
  };
}

/** The host a failed attempt's input names (`host` of the step's input), if any. */
function hostOf(a: FailedAttempt): string | undefined {
  try {
    return (JSON.parse(a.input) as { host?: string }).host;
  } catch {
    return undefined;
  }
}

/** Asserts `seen` is the expected healthy cluster; `inFlight`: the attempts the killed worker left running. */
export function checkCluster(seen: ClusterSeen, shape: ClusterShape, inFlight: readonly FailedAttempt[], where: string): void {
  assert.deepEqual(seen.nodes, [...shape.nodes].sort().map((name) => ({ name, ready: true, kubeletVersion: shape.kubeletVersion })), `every node once, Ready, on ${shape.kubeletVersion} (${where})`);
  assert.deepEqual(seen.etcdMembers, [...shape.etcdMembers].sort(), `one etcd member per etcd host, none twice (${where})`);
  assert.equal(seen.etcdClusterIds.length, 1, `one etcd cluster ID on every endpoint: ${seen.etcdClusterIds.join(', ')} (${where})`);
  assert.deepEqual(seen.etcdHealthy, shape.etcdMembers.map(() => true), `every etcd endpoint healthy (${where})`);
  assert.equal(seen.vipHolders.length, 1, `exactly one gateway holds the VIP: ${seen.vipHolders.join(', ') || 'none'} (${where})`);
  // A join the dead worker had in flight may legitimately run again (its attempt was failed); nothing else may.
  const rejoinable = new Set(inFlight.filter((a) => a.activityType === 'joinNode').map(hostOf));
  const want = Object.fromEntries(shape.nodes.map((n) => [n, n === shape.firstMaster ? { init: 1, join: 0 } : { init: 0, join: rejoinable.has(n) && seen.kubeadm[n]?.join === 2 ? 2 : 1 }]));
  assert.deepEqual(seen.kubeadm, want, `kubeadm init once on ${shape.firstMaster}, one join per other node (${where})`);
}
