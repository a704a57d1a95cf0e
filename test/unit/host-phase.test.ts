// Pure parts of the provisioning host phase: the package pins and repository line built from the
// inventory's release, the version check after install, and the bare lab's node-list rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aptSourceLine, packagePins, versionFits } from '../../activities/host/prerequisites.js';
import { checkNodes, NETNS_NODES, SEED_001_NODES } from '../../lab/netns/topology.js';

describe('host phase prerequisites', () => {
  it('pins every Kubernetes package to the release and names the minor\'s repository', () => {
    assert.deepEqual(packagePins('1.36.3'), ['kubelet=1.36.3-*', 'kubeadm=1.36.3-*', 'kubectl=1.36.3-*']);
    assert.equal(aptSourceLine('1.36.3'), 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /\n');
    assert.throws(() => aptSourceLine('1.36'), /kubernetes\.version: "1\.36" is not MAJOR\.MINOR\.PATCH/);
  });

  it('wants kubeadm and the kubelet at the release exactly, kubectl within one minor', () => {
    assert.equal(versionFits('kubeadm', 'v1.35.4', '1.35.4'), true);
    assert.equal(versionFits('kubeadm', 'v1.35.3', '1.35.4'), false);
    assert.equal(versionFits('kubelet', '', '1.35.4'), false);
    assert.equal(versionFits('kubectl', 'v1.36.4', '1.35.4'), true);
    assert.equal(versionFits('kubectl', 'v1.34.0', '1.35.4'), true);
    assert.equal(versionFits('kubectl', 'v1.37.0', '1.35.4'), false);
    assert.equal(versionFits('kubectl', '', '1.35.4'), false);
  });
});

describe('netns lab node lists', () => {
  it('accepts seed 002\'s and seed 001\'s shapes', () => {
    checkNodes(NETNS_NODES);
    checkNodes(SEED_001_NODES);
    assert.deepEqual(SEED_001_NODES.filter((n) => n.role === 'etcd').map((n) => n.name), ['etcd-1', 'etcd-2', 'etcd-3']);
  });

  it('refuses a list the lab cannot make', () => {
    assert.throws(() => checkNodes([...NETNS_NODES, { name: 'worker-2', octet: 21, role: 'worker' }]), /#21 appears twice/);
    assert.throws(() => checkNodes([{ name: 'gw-1', octet: 100, role: 'gateway' }]), /octet 100 must be 2-254 and not 100/);
    assert.throws(() => checkNodes(NETNS_NODES.slice(1)), /first node must be the gateway gw-1/);
  });
});
