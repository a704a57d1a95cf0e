// kubeadm's JoinConfiguration: the shape per release, errors that name the field and never echo a
// secret, and, where the release is built, real kubeadm validating the file (the Kubernetes lab
// test joins real nodes with it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KubeadmConfigError } from '../../activities/kubeadm/config.js';
import { renderKubeadmJoinConfig, type KubeadmJoinInput } from '../../activities/kubeadm/join-config.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';
import { kubernetesCacheDir } from '../../client/tools.js';

const TOKEN = 'abcdef.0123456789abcdef';
const base = (over: Partial<KubeadmJoinInput> = {}): KubeadmJoinInput => ({
  kubernetesVersion: '1.36.3',
  apiServerEndpoint: '10.0.1.99:6443',
  token: TOKEN,
  caCertHashes: [`sha256:${'a'.repeat(64)}`],
  node: { name: 'master-2' },
  controlPlane: { advertiseAddress: '10.0.1.22', certificateKey: 'b'.repeat(64) },
  ...over,
});

describe('kubeadm JoinConfiguration', () => {
  test('carries the discovery token, the CA hash, the node and its control-plane endpoint', () => {
    const doc = parse(renderKubeadmJoinConfig(base({ skipPhases: ['preflight'] }))) as { apiVersion: string; kind: string; discovery: { bootstrapToken: unknown }; nodeRegistration: { name: string }; controlPlane: unknown; skipPhases: string[] };
    assert.equal(doc.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(doc.kind, 'JoinConfiguration');
    assert.deepEqual(doc.discovery.bootstrapToken, { apiServerEndpoint: '10.0.1.99:6443', token: TOKEN, caCertHashes: [`sha256:${'a'.repeat(64)}`] });
    assert.equal(doc.nodeRegistration.name, 'master-2');
    assert.deepEqual(doc.controlPlane, { localAPIEndpoint: { advertiseAddress: '10.0.1.22', bindPort: 6443 }, certificateKey: 'b'.repeat(64) });
    assert.deepEqual(doc.skipPhases, ['preflight']);
    const worker = parse(renderKubeadmJoinConfig(base({ node: { name: 'worker-1' }, controlPlane: undefined }))) as Record<string, unknown>;
    assert.equal(worker.controlPlane, undefined, 'a worker joins without a control-plane section');
    assert.equal((parse(renderKubeadmJoinConfig(base({ kubernetesVersion: '1.30.2' }))) as Record<string, unknown>).apiVersion, 'kubeadm.k8s.io/v1beta3');
  });

  test('refuses bad input naming the field, without echoing a secret', () => {
    const bad = (over: Partial<KubeadmJoinInput>, field: RegExp, secret?: string) => {
      assert.throws(() => renderKubeadmJoinConfig(base(over)), (e: Error) => {
        assert.ok(e instanceof KubeadmConfigError);
        assert.match(e.message, field);
        if (secret) assert.ok(!e.message.includes(secret), `the message does not repeat ${secret}`);
        return true;
      });
    };
    bad({ token: 'abcdef.short-secret-x' }, /^token:/, 'short-secret-x');
    bad({ controlPlane: { advertiseAddress: '10.0.1.22', certificateKey: 'not-hex-secret' } }, /^controlPlane\.certificateKey:/, 'not-hex-secret');
    bad({ caCertHashes: [] }, /^caCertHashes:/);
    bad({ caCertHashes: ['md5:00'] }, /^caCertHashes\[0\]:/);
    bad({ apiServerEndpoint: '10.0.1.99' }, /^apiServerEndpoint:/);
    bad({ node: { name: 'Master_2' } }, /^node\.name:/);
    bad({ controlPlane: { advertiseAddress: '10.0.1', certificateKey: 'b'.repeat(64) } }, /^controlPlane\.advertiseAddress:/);
  });

  test('real kubeadm of every built pinned release validates the file', () => {
    const built = pinnedKubernetes().filter((v) => existsSync(join(kubernetesCacheDir(), v, 'kubeadm')));
    assert.ok(built.length > 0, 'no Kubernetes release is built: run scripts/build-kubernetes.sh (set-up does)');
    const dir = mkdtempSync(join(tmpdir(), 'mooring-join-'));
    try {
      for (const v of built) {
        const file = join(dir, `join-${v}.yaml`);
        writeFileSync(file, renderKubeadmJoinConfig(base({ kubernetesVersion: v, skipPhases: ['preflight'] })));
        execFileSync(join(kubernetesCacheDir(), v, 'kubeadm'), ['config', 'validate', '--config', file], { stdio: 'pipe' });
        writeFileSync(file, renderKubeadmJoinConfig(base({ kubernetesVersion: v, node: { name: 'worker-1' }, controlPlane: undefined })));
        execFileSync(join(kubernetesCacheDir(), v, 'kubeadm'), ['config', 'validate', '--config', file], { stdio: 'pipe' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
