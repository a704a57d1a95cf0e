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

/** The crictl that answers from this kubelet's records (lab/kubelet/crictl.ts). */
export const crictlShim = () =>
  `#!/bin/sh\n# SIMULATED crictl backed by the SIMULATED kubelet (Mooring lab): see docs/kubelet-standin.md\nexec ${shellQuote(process.execPath)} ${shellQuote(fileURLToPath(new URL('./crictl.js', import.meta.url)))} "$@"\n`;

function writeExecutable(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  chmodSync(`${file}.tmp`, 0o755);
  renameSync(`${file}.tmp`, file);
}

/**
 * Writes `<root>/usr/local/sbin/kubelet` and `<root>/usr/local/sbin/crictl` (root: the node's
 * filesystem view, lab/node-view.ts); the crictl replaces lab/crictl-standin.sh on this node.
 */
export function installKubelet(root: string, kubeletVersion: string): string {
  const dir = join(root, '/usr/local/sbin');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kubelet');
  writeExecutable(file, kubeletShim(kubeletVersion));
  writeExecutable(join(dir, 'crictl'), crictlShim());
  return file;
}
