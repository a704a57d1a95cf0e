// SIMULATED kubelet (lab only): its command line. The flags keep the real kubelet's names where
// one exists (--kubeconfig, --bootstrap-kubeconfig, --node-ip, --healthz-port) so that a lab node
// reads like a production one; --kubelet-version, --binaries and --etcd-binaries exist only here,
// because this stand-in runs programs instead of images. Bad input is refused before anything starts.
import { isAbsolute } from 'node:path';
import { isIPv4 } from 'node:net';

export interface KubeletArgs {
  nodeName: string;
  kubeletVersion: string;
  manifests: string;
  kubeconfig: string;
  bootstrapKubeconfig: string;
  stateDir: string;
  binaries: string;
  etcdBinaries?: string;
  nodeIp?: string;
  healthzPort: number;
  /** Stop every static pod when the kubelet exits (the real kubelet leaves its containers running). */
  stopPodsOnExit: boolean;
}

const USAGE = 'usage: kubelet --node-name NAME --kubelet-version vX.Y.Z --manifests DIR --kubeconfig FILE '
  + '--bootstrap-kubeconfig FILE --state-dir DIR --binaries DIR [--etcd-binaries DIR] [--node-ip IPv4] '
  + '[--healthz-port N] [--stop-pods-on-exit]';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses argv (without node and script); throws an Error naming the flag and the fix. */
export function parseKubeletArgs(argv: string[]): KubeletArgs {
  const values = new Map<string, string>();
  let stopPodsOnExit = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--stop-pods-on-exit') { stopPodsOnExit = true; continue; }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(a)}; ${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`--${m[1]} needs a value; ${USAGE}`);
    values.set(m[1]!, value);
  }
  const known = ['node-name', 'kubelet-version', 'manifests', 'kubeconfig', 'bootstrap-kubeconfig', 'state-dir', 'binaries', 'etcd-binaries', 'node-ip', 'healthz-port'];
  for (const k of values.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k}; ${USAGE}`);
  const required = (k: string) => {
    const v = values.get(k);
    if (v === undefined) throw new Error(`--${k} is required; ${USAGE}`);
    return v;
  };
  const path = (k: string, v: string) => {
    if (!isAbsolute(v)) throw new Error(`--${k}: ${JSON.stringify(v)} is not an absolute path; give the full path`);
    return v;
  };

  const nodeName = required('node-name');
  if (nodeName.length > 253 || !DNS1123_SUBDOMAIN.test(nodeName)) {
    throw new Error(`--node-name: ${JSON.stringify(nodeName)} is not a DNS-1123 subdomain; use lower-case letters, digits, '-' and '.'`);
  }
  const kubeletVersion = required('kubelet-version');
  if (!/^v\d+\.\d+\.\d+$/.test(kubeletVersion)) throw new Error(`--kubelet-version: ${JSON.stringify(kubeletVersion)} is not vMAJOR.MINOR.PATCH; e.g. v1.35.4`);
  const nodeIp = values.get('node-ip');
  if (nodeIp !== undefined && !isIPv4(nodeIp)) throw new Error(`--node-ip: ${JSON.stringify(nodeIp)} is not an IPv4 address`);
  const port = values.get('healthz-port') ?? '10248';
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`--healthz-port: ${JSON.stringify(port)} is not a port number (1-65535)`);
  const etcd = values.get('etcd-binaries');
  return {
    nodeName,
    kubeletVersion,
    manifests: path('manifests', required('manifests')),
    kubeconfig: path('kubeconfig', required('kubeconfig')),
    bootstrapKubeconfig: path('bootstrap-kubeconfig', required('bootstrap-kubeconfig')),
    stateDir: path('state-dir', required('state-dir')),
    binaries: path('binaries', required('binaries')),
    ...(etcd !== undefined ? { etcdBinaries: path('etcd-binaries', etcd) } : {}),
    ...(nodeIp !== undefined ? { nodeIp } : {}),
    healthzPort: Number(port),
    stopPodsOnExit,
  };
}
