// SIMULATED kubelet (lab only): "installing" the kubelet on a lab node, as a package would put
// /usr/bin/kubelet there: a shim in the node's own /usr/local/sbin that runs this program with the
// version the node was installed at. `kubelet --version` (kubeadm's KubeletVersion preflight
// check) answers from it; upgrading the node's kubelet is writing the shim again with the new
// version and restarting the kubelet.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../../activities/ssh/quote.js';

/** dist/lab/kubelet/main.js of this build. */
export const kubeletMain = () => fileURLToPath(new URL('./main.js', import.meta.url));

export function kubeletShim(kubeletVersion: string): string {
  if (!/^v\d+\.\d+\.\d+$/.test(kubeletVersion)) throw new Error(`kubeletVersion: ${JSON.stringify(kubeletVersion)} is not vMAJOR.MINOR.PATCH`);
  return `#!/bin/sh\n# SIMULATED kubelet ${kubeletVersion} (Mooring lab): see docs/kubelet-standin.md\nexec ${shellQuote(process.execPath)} ${shellQuote(kubeletMain())} --kubelet-version ${kubeletVersion} "$@"\n`;
}

/** Writes `<root>/usr/local/sbin/kubelet` (root: the node's filesystem view, lab/node-view.ts). */
export function installKubelet(root: string, kubeletVersion: string): string {
  const dir = join(root, '/usr/local/sbin');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kubelet');
  writeFileSync(`${file}.tmp`, kubeletShim(kubeletVersion));
  chmodSync(`${file}.tmp`, 0o755);
  renameSync(`${file}.tmp`, file);
  return file;
}
