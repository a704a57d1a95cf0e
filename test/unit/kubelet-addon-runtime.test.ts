// The SIMULATED kubelet's runtime for the addons' pods (lab/kubelet/runtime/) is strict: the pods
// of the vendored manifests (flannel v0.28.10, local-path-provisioner v0.0.30 and the helper pods
// the provisioner makes) are accepted and mapped to what runs, and a pod with a wrong image, arg,
// volume or env is refused with the field named. The pods are built from the real manifests the
// way the controllers and admission make them (template + nodeName + the kube-api-access volume).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { checkFlannelPod } from '../../lab/kubelet/runtime/flannel.js';
import { checkHelperPod } from '../../lab/kubelet/runtime/helper-pod.js';
import { SpecRefused, type AddonPod } from '../../lab/kubelet/runtime/pod.js';
import { checkProvisionerPod, provisionerCommand } from '../../lab/kubelet/runtime/provisioner.js';
import { addonKind } from '../../lab/kubelet/runtime/registry.js';
import { refusedStatus } from '../../lab/kubelet/runtime/status.js';
import { addonObjects, FLANNEL_MANIFEST, LOCAL_PATH_MANIFEST, type K8sObject } from '../helpers/addon-manifests.js';

const flannel = addonObjects(FLANNEL_MANIFEST);
const localPath = addonObjects(LOCAL_PATH_MANIFEST);
const skip = !flannel || !localPath ? `the vendored manifests are missing (${FLANNEL_MANIFEST}, ${LOCAL_PATH_MANIFEST})` : false;

const clone = <T>(v: T): T => structuredClone(v);
const API_ACCESS = { name: 'kube-api-access-x7k2p', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } };
const SA_MOUNT = { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true };

/** A pod as a controller makes it from a workload's template, after the service-account admission plugin. */
function podOf(kind: string, name: string, podName: string): AddonPod {
  const objs = [...(flannel ?? []), ...(localPath ?? [])];
  const w = objs.find((o) => o.kind === kind && o.metadata.name === name) as K8sObject & { spec: { template: { spec: AddonPod['spec'] } } };
  const spec = clone(w.spec.template.spec);
  spec.volumes = [...(spec.volumes ?? []), API_ACCESS];
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) c.volumeMounts = [...(c.volumeMounts ?? []), SA_MOUNT];
  return { metadata: { name: podName, namespace: w.metadata.namespace!, uid: '6f1c2d3e-0000-4000-8000-000000000001' }, spec: { ...spec, nodeName: 'worker-1', restartPolicy: 'Always' } };
}

/** The helper pod local-path-provisioner v0.0.30 makes (provisioner.go createHelperPod) from its ConfigMap's helperPod.yaml. */
function helperPod(action: 'create' | 'delete', volDir = '/opt/local-path-provisioner/pvc-1234_default_mooring-smoke-pvc'): AddonPod {
  const cm = localPath!.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
  const tmpl = parse(cm.data['helperPod.yaml']!) as { spec: AddonPod['spec'] };
  const parent = volDir.slice(0, volDir.lastIndexOf('/') + 1);
  const spec = clone(tmpl.spec);
  const c = spec.containers[0]!;
  c.volumeMounts = [{ name: 'script', mountPath: '/script' }, { name: 'data', mountPath: parent }];
  c.command = ['/bin/sh', `/script/${action === 'create' ? 'setup' : 'teardown'}`];
  c.env = [{ name: 'VOL_DIR', value: volDir }, { name: 'VOL_MODE', value: 'Filesystem' }, { name: 'VOL_SIZE_BYTES', value: '1048576' }];
  c.args = ['-p', volDir, '-s', '1048576', '-m', 'Filesystem', '-a', action];
  spec.volumes = [
    { name: 'data', hostPath: { path: parent, type: 'DirectoryOrCreate' } },
    { name: 'script', configMap: { name: 'local-path-config', items: [{ key: 'setup', path: 'setup' }, { key: 'teardown', path: 'teardown' }] } },
    API_ACCESS,
  ];
  c.volumeMounts.push(SA_MOUNT);
  return { metadata: { name: `helper-pod-${action}-pvc-1234`, namespace: 'local-path-storage', uid: '6f1c2d3e-0000-4000-8000-000000000002' }, spec: { ...spec, nodeName: 'worker-1', restartPolicy: 'Never', serviceAccountName: 'local-path-provisioner-service-account' } };
}

const refused = (fn: () => unknown, field: RegExp) => assert.throws(fn, (e: unknown) => e instanceof SpecRefused && field.test(e.message));

describe('SIMULATED runtime for the addons\' pods: strict spec checks', { skip }, () => {
  it('flannel\'s DaemonSet pod: accepted, install-cni copies the ConfigMap\'s cni-conf.json to the node\'s conflist', () => {
    const p = podOf('DaemonSet', 'kube-flannel-ds', 'kube-flannel-ds-7xq2m');
    assert.equal(addonKind(p), 'flannel');
    assert.deepEqual(checkFlannelPod(p), { configMap: 'kube-flannel-cfg', key: 'cni-conf.json', dest: '/etc/cni/net.d/10-flannel.conflist' });
  });

  it('flannel: a wrong image, arg, volume or hostNetwork is refused, naming the field', () => {
    const base = () => podOf('DaemonSet', 'kube-flannel-ds', 'kube-flannel-ds-7xq2m');
    let p = base();
    p.spec.containers[0]!.image = 'ghcr.io/flannel-io/flannel:v0.28.9';
    refused(() => checkFlannelPod(p), /containers\[kube-flannel\]\.image/);
    p = base();
    p.spec.initContainers![1]!.args = ['/etc/kube-flannel/cni-conf.json', '/etc/kube-flannel/10-flannel.conflist'];
    refused(() => checkFlannelPod(p), /install-cni\]\.args\[1\]/);
    p = base();
    p.spec.containers[0]!.args = ['--ip-masq', '--kube-subnet-mgr', '--etcd-endpoints=http://10.0.0.1:2379'];
    refused(() => checkFlannelPod(p), /kube-flannel\]\.args/);
    p = base();
    p.spec.volumes!.find((v) => v.name === 'cni')!.hostPath!.path = '/etc';
    refused(() => checkFlannelPod(p), /spec\.volumes\[cni\]/);
    p = base();
    p.spec.volumes!.push({ name: 'scratch', emptyDir: {} });
    refused(() => checkFlannelPod(p), /spec\.volumes\[scratch\]/);
    p = base();
    p.spec.hostNetwork = false;
    refused(() => checkFlannelPod(p), /spec\.hostNetwork/);
  });

  it('local-path-provisioner: the pod\'s command with the ConfigMap copies, its kubeconfig and the downward env', () => {
    const p = podOf('Deployment', 'local-path-provisioner', 'local-path-provisioner-5d8b6c9f7-abcde');
    assert.equal(addonKind(p), 'local-path-provisioner');
    const plan = checkProvisionerPod(p);
    const { argv, env } = provisionerCommand(plan, '/cache/local-path-provisioner', '/var/lib/kubelet/addon-pods/x');
    assert.deepEqual(argv, ['/cache/local-path-provisioner', '--debug', 'start', '--config', '/var/lib/kubelet/addon-pods/x/volumes/config-volume/config.json', '--kubeconfig', '/var/lib/kubelet/addon-pods/x/kubeconfig']);
    assert.deepEqual(env, { POD_NAMESPACE: 'local-path-storage', CONFIG_MOUNT_PATH: '/var/lib/kubelet/addon-pods/x/volumes/config-volume/' });
    assert.equal(plan.serviceAccount, 'local-path-provisioner-service-account');
  });

  it('local-path-provisioner: another tag is not run (stays Pending); a wrong arg, volume or env is refused', () => {
    const base = () => podOf('Deployment', 'local-path-provisioner', 'local-path-provisioner-5d8b6c9f7-abcde');
    let p = base();
    p.spec.containers[0]!.image = 'rancher/local-path-provisioner:v0.0.29';
    assert.equal(addonKind(p), undefined);
    p = base();
    p.spec.containers[0]!.command = [...p.spec.containers[0]!.command!, '--kubeconfig', '/root/.kube/config'];
    refused(() => checkProvisionerPod(p), /--kubeconfig is the runtime's own/);
    p = base();
    p.spec.containers[0]!.command = ['local-path-provisioner', '--debug', 'start', '--config', '/etc/passwd'];
    refused(() => checkProvisionerPod(p), /--config/);
    p = base();
    p.spec.volumes!.push({ name: 'host', hostPath: { path: '/' } });
    refused(() => checkProvisionerPod(p), /spec\.volumes\[host\]/);
    p = base();
    p.spec.containers[0]!.env!.push({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
    refused(() => checkProvisionerPod(p), /env\[TOKEN\]/);
  });

  it('helper pods: create runs setup, delete teardown, on the per-node /opt/local-path-provisioner', () => {
    for (const action of ['create', 'delete'] as const) {
      const p = helperPod(action);
      assert.equal(addonKind(p), 'local-path-helper');
      const plan = checkHelperPod(p);
      assert.equal(plan.scriptKey, action === 'create' ? 'setup' : 'teardown');
      assert.equal(plan.hostDir, '/opt/local-path-provisioner');
      assert.deepEqual(plan.env, { VOL_DIR: '/opt/local-path-provisioner/pvc-1234_default_mooring-smoke-pvc', VOL_MODE: 'Filesystem', VOL_SIZE_BYTES: '1048576' });
    }
  });

  it('helper pods: anything else is refused and reported Failed', () => {
    refused(() => checkHelperPod(helperPod('create', '/var/lib/pvc-1234')), /hostPath.*not under \/opt\/local-path-provisioner/);
    let p = helperPod('create');
    p.spec.containers[0]!.args = ['-p', '/opt/local-path-provisioner/other', '-s', '1048576', '-m', 'Filesystem', '-a', 'create'];
    refused(() => checkHelperPod(p), /args/);
    p = helperPod('create');
    p.spec.containers[0]!.command = ['/bin/sh', '-c', 'rm -rf /'];
    refused(() => checkHelperPod(p), /command: is .*expected \["\/bin\/sh", "<script path>"\]/);
    p = helperPod('create');
    p.spec.containers[0]!.command = ['/bin/sh', '/etc/passwd'];
    refused(() => checkHelperPod(p), /command\[1\]/);
    p = helperPod('delete');
    p.spec.containers[0]!.command = ['/bin/sh', '/script/setup'];
    refused(() => checkHelperPod(p), /not the teardown key/);
    p = helperPod('create');
    p.spec.containers[0]!.image = 'busybox:latest';
    refused(() => checkHelperPod(p), /image/);
    p = helperPod('create');
    p.spec.restartPolicy = 'Always';
    refused(() => checkHelperPod(p), /restartPolicy/);
    const status = refusedStatus(helperPod('create'), '10.77.0.21', 'refused for the test');
    assert.equal(status.phase, 'Failed');
  });
});
