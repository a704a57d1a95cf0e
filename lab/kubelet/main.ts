// SIMULATED kubelet (lab only; see docs/kubelet-standin.md). Run inside a lab node's mount and
// network namespaces. It does, for real, what kubeadm and Mooring's runbooks rely on a kubelet for:
// healthz on 127.0.0.1:10248, the static pods of /etc/kubernetes/manifests as processes of the
// node, and, once an apiserver answers, the Node (Ready, with --kubelet-version), its Lease and
// the mirror pods whose kubernetes.io/config.hash `kubeadm upgrade` waits on. The container
// runtime and image pulls are the SIMULATED part: an image names a locally built program.
import { watch } from 'node:fs';
import { parseKubeletArgs } from './args.js';
import { serveHealthz } from './healthz.js';
import { StaticPods } from './static-pods.js';
import { startApiSync } from './api-sync.js';

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} kubelet: ${msg}\n`);

async function main(): Promise<void> {
  // `kubelet --version`, which kubeadm's KubeletVersion preflight check runs: the version this
  // node's kubelet was "installed" at (the shim in /usr/local/sbin passes --kubelet-version).
  if (process.argv.includes('--version')) {
    const i = process.argv.indexOf('--kubelet-version');
    const v = i > 0 ? process.argv[i + 1] : undefined;
    if (!v) {
      process.stderr.write('kubelet: --version needs --kubelet-version vX.Y.Z (see lab/kubelet/install.ts)\n');
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`Kubernetes ${v}\n`);
    return;
  }
  let args;
  try {
    args = parseKubeletArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`kubelet: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  log(`SIMULATED kubelet ${args.kubeletVersion} for node ${args.nodeName}, manifests ${args.manifests}`);

  let apiChanged = () => {};
  const pods = new StaticPods({ ...args, log, changed: () => apiChanged() });
  let lastSync = Date.now();
  const syncPods = () => pods.sync().then(() => { lastSync = Date.now(); }, (e: Error) => log(`sync failed: ${e.message}`));

  // The kubelet's file source re-reads the directory every 20 s and on inotify events; the lab
  // polls each second (bind mounts and editors' rename-over make events unreliable) and also
  // reacts to events at once.
  await syncPods();
  const poll = setInterval(() => void syncPods(), 1000);
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(args.manifests, () => void syncPods());
  } catch { /* directory not there yet: polling finds it */ }

  const healthz = await serveHealthz(args.healthzPort, () => Date.now() - lastSync < 60_000);
  log(`healthz on http://127.0.0.1:${args.healthzPort}/healthz`);

  const api = startApiSync({ ...args, log, pods: () => pods.running() });
  apiChanged = api.poke;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down${args.stopPodsOnExit ? ' and stopping every static pod' : ' (static pods keep running, as containers do when a kubelet stops)'}`);
    clearInterval(poll);
    watcher?.close();
    api.stop();
    healthz.close();
    // The addons' processes (the local-path-provisioner) are stopped whatever the flag: they are
    // this stand-in's children in all but name, and a kubelet started again starts them anew.
    await api.stopAddonPods();
    if (args.stopPodsOnExit) await pods.stopAll();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
