// The host-phase crash matrix's verdict on a cluster (test/crash/provision-hosts-checks.ts), on
// cluster views as seeCluster reports them: the expected cluster passes, and each way a crash could
// leave it worse (a node twice or not Ready, a wrong release, a fourth etcd member, two etcd
// cluster IDs, the VIP on both gateways or none, a second kubeadm init, a second join) fails; a
// second join passes only on the node whose join the killed worker had in flight.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCluster, type ClusterSeen, type ClusterShape } from '../crash/provision-hosts-checks.js';
import type { FailedAttempt } from '../crash/provision-run.js';

const SHAPE: ClusterShape = { nodes: ['master-1', 'master-2', 'master-3', 'worker-1'], etcdMembers: ['etcd-1', 'etcd-2', 'etcd-3'], gateways: ['gateway-1', 'gateway-2'], firstMaster: 'master-1', kubeletVersion: 'v1.35.4' };

function healthy(): ClusterSeen {
  return {
    nodes: SHAPE.nodes.map((name) => ({ name, ready: true, kubeletVersion: 'v1.35.4' })),
    etcdMembers: ['etcd-1', 'etcd-2', 'etcd-3'], etcdClusterIds: ['8e9e05c52164694d'], etcdHealthy: [true, true, true], vipHolders: ['gateway-2'],
    kubeadm: { 'master-1': { init: 1, join: 0 }, 'master-2': { init: 0, join: 1 }, 'master-3': { init: 0, join: 1 }, 'worker-1': { init: 0, join: 1 } },
  };
}
const joinOf = (host: string): FailedAttempt => ({ activityType: 'joinNode', input: JSON.stringify({ host, first: 'master-1', controlPlane: true }) });

describe('the host-phase crash matrix\'s cluster check', () => {
  it('passes the expected cluster', () => {
    checkCluster(healthy(), SHAPE, [], 'unit');
  });

  const worse: [string, (c: ClusterSeen) => void, RegExp][] = [
    ['a node listed twice', (c) => { c.nodes.push({ name: 'worker-1', ready: true, kubeletVersion: 'v1.35.4' }); }, /every node once/],
    ['a node not Ready', (c) => { c.nodes[3]!.ready = false; }, /Ready/],
    ['another release', (c) => { c.nodes[0]!.kubeletVersion = 'v1.36.3'; }, /v1\.35\.4/],
    ['a fourth etcd member', (c) => { c.etcdMembers.push('etcd-1'); }, /one etcd member per etcd host/],
    ['two etcd cluster IDs', (c) => { c.etcdClusterIds.push('1c2d'); }, /one etcd cluster ID/],
    ['an unhealthy endpoint', (c) => { c.etcdHealthy[1] = false; }, /healthy/],
    ['the VIP on both gateways', (c) => { c.vipHolders.push('gateway-1'); }, /exactly one gateway holds the VIP/],
    ['the VIP nowhere', (c) => { c.vipHolders = []; }, /none/],
    ['kubeadm init twice', (c) => { c.kubeadm['master-1']!.init = 2; }, /kubeadm init once/],
    ['a second join with no join in flight', (c) => { c.kubeadm['master-3']!.join = 2; }, /one join per other node/],
  ];
  for (const [what, spoil, message] of worse) {
    it(`fails ${what}`, () => {
      const c = healthy();
      spoil(c);
      assert.throws(() => checkCluster(c, SHAPE, [], 'unit'), message);
    });
  }

  it('lets a join run twice only on the node whose join the killed worker had in flight', () => {
    const c = healthy();
    c.kubeadm['master-3']!.join = 2;
    checkCluster(c, SHAPE, [joinOf('master-3')], 'unit');
    assert.throws(() => checkCluster(c, SHAPE, [joinOf('master-2')], 'unit'), /one join per other node/);
    c.kubeadm['master-3']!.join = 3;
    assert.throws(() => checkCluster(c, SHAPE, [joinOf('master-3')], 'unit'), /one join per other node/);
  });
});
