// SIMULATED container runtime (lab only): flannel's DaemonSet pod (kube-flannel.yml v0.28.10).
// The spec is checked strictly: hostNetwork, the volumes and mounts, every init container's and
// container's command and args. Then what the init container install-cni does for real is done on
// the node's own filesystem view: flannel's install-conf copies the ConfigMap's cni-conf.json to
// /etc/cni/net.d/10-flannel.conflist atomically (temp file in the same directory, then rename);
// /etc/cni is a per-node path (lab/node-view.ts). SIMULATED: install-cni-plugin's copy of the
// flannel CNI binary to /opt/cni/bin is not done (there is no such binary here), and no flanneld
// runs: no subnet lease, no vxlan device, no pod network. The pod is reported Running and Ready.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApiClient } from '../api-client.js';
import { expectList, expectMounts, expectVolumes, refuse, resolveInContainer, type AddonPod } from './pod.js';
import { FLANNEL_CNI_PLUGIN_IMAGE, FLANNEL_IMAGE } from './registry.js';
import { readConfigMap } from './volumes.js';

export interface FlannelPlan { configMap: string; key: string; dest: string }

const FLANNELD_FLAGS = [/^--ip-masq$/, /^--kube-subnet-mgr$/, /^--healthz-port=\d{1,5}$/, /^--iface=[A-Za-z0-9._-]+$/, /^--iface-regex=.+$/];

/** Checks the pod against kube-flannel.yml's DaemonSet; returns what install-cni copies where. */
export function checkFlannelPod(p: AddonPod): FlannelPlan {
  if (p.spec.hostNetwork !== true) refuse(p, 'spec.hostNetwork', 'must be true (flannel configures the node\'s own network)');
  expectVolumes(p, {
    run: { hostPath: '/run/flannel' },
    'cni-plugin': { hostPath: '/opt/cni/bin' },
    cni: { hostPath: '/etc/cni/net.d' },
    'flannel-cfg': { configMap: 'kube-flannel-cfg' },
    'xtables-lock': { hostPath: '/run/xtables.lock', type: 'FileOrCreate' },
  });
  const inits = p.spec.initContainers ?? [];
  expectList(p, 'spec.initContainers[*].name', inits.map((c) => c.name), ['install-cni-plugin', 'install-cni']);
  const [plugin, install] = inits as [typeof inits[0], typeof inits[0]];
  if (plugin.image !== FLANNEL_CNI_PLUGIN_IMAGE) refuse(p, 'initContainers[install-cni-plugin].image', `is ${plugin.image}, expected ${FLANNEL_CNI_PLUGIN_IMAGE}`);
  expectList(p, 'initContainers[install-cni-plugin].command', plugin.command, ['cp']);
  expectList(p, 'initContainers[install-cni-plugin].args', plugin.args, ['-f', '/flannel', '/opt/cni/bin/flannel']);
  expectMounts(p, plugin, { 'cni-plugin': '/opt/cni/bin' });
  if (install.image !== FLANNEL_IMAGE) refuse(p, 'initContainers[install-cni].image', `is ${install.image}, expected ${FLANNEL_IMAGE}`);
  expectList(p, 'initContainers[install-cni].command', install.command, ['/opt/bin/install-conf']);
  expectMounts(p, install, { cni: '/etc/cni/net.d', 'flannel-cfg': '/etc/kube-flannel/' });
  const args = install.args ?? [];
  if (args.length !== 2) refuse(p, 'initContainers[install-cni].args', `is ${JSON.stringify(args)}, expected <src> <dest> (install-conf's usage)`);
  const src = resolveInContainer(p, install, args[0]!);
  if (!src || !('configMap' in src)) return refuse(p, 'initContainers[install-cni].args[0]', `${args[0]} is not a key of the flannel-cfg ConfigMap volume`);
  const dest = resolveInContainer(p, install, args[1]!);
  if (!dest || !('hostPath' in dest) || dirname(dest.hostPath) !== '/etc/cni/net.d') return refuse(p, 'initContainers[install-cni].args[1]', `${args[1]} is not a file in the cni volume (/etc/cni/net.d)`);

  expectList(p, 'spec.containers[*].name', p.spec.containers.map((c) => c.name), ['kube-flannel']);
  const main = p.spec.containers[0]!;
  if (main.image !== FLANNEL_IMAGE) refuse(p, 'containers[kube-flannel].image', `is ${main.image}, expected ${FLANNEL_IMAGE}`);
  expectList(p, 'containers[kube-flannel].command', main.command, ['/opt/bin/flanneld']);
  for (const a of main.args ?? []) if (!FLANNELD_FLAGS.some((re) => re.test(a))) refuse(p, 'containers[kube-flannel].args', `${JSON.stringify(a)} is not a flanneld flag this stand-in knows (${FLANNELD_FLAGS.map(String).join(' ')})`);
  if (!(main.args ?? []).includes('--kube-subnet-mgr')) refuse(p, 'containers[kube-flannel].args', 'must include --kube-subnet-mgr (subnets from the Node objects, as kube-flannel.yml runs it)');
  expectMounts(p, main, { run: '/run/flannel', 'flannel-cfg': '/etc/kube-flannel/', 'xtables-lock': '/run/xtables.lock' });
  return { configMap: src.configMap, key: src.key, dest: dest.hostPath };
}

/** install-cni for real: the ConfigMap's key to the node's file, atomically; returns the file written. */
export async function installCniConf(api: ApiClient, p: AddonPod, plan: FlannelPlan, root = '/'): Promise<string> {
  const data = await readConfigMap(api, p.metadata.namespace, plan.configMap);
  const text = data[plan.key];
  if (text === undefined) return refuse(p, `configMap ${plan.configMap}`, `has no key ${plan.key}`);
  try {
    JSON.parse(text);
  } catch (e) {
    return refuse(p, `configMap ${plan.configMap}.${plan.key}`, `is not JSON (${(e as Error).message}); a CNI conflist must be`);
  }
  const file = join(root, plan.dest);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${plan.dest.split('/').pop()}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return plan.dest;
}
