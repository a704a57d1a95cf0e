// kubeadm's JoinConfiguration for a node joining through the load balancer: as a file, so the
// bootstrap token and the certificate key never appear on a command line (ps, shell history, a
// host's command log). Same API version as the InitConfiguration of the release. Pure.
import { stringify } from 'yaml';
import { isIPv4 } from 'node:net';
import { KubeadmConfigError, kubeadmApiVersionFor } from './config.js';

export const BOOTSTRAP_TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
export const CA_CERT_HASH = /^sha256:[0-9a-f]{64}$/;
export const CERTIFICATE_KEY = /^[0-9a-f]{64}$/;
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface KubeadmJoinInput {
  kubernetesVersion: string;
  /** HOST:PORT of the load balancer (the inventory's controlPlaneEndpoint). */
  apiServerEndpoint: string;
  token: string;
  caCertHashes: string[];
  node: { name: string; criSocket?: string };
  /** For `join --control-plane`: the node's own API address and the key of the uploaded certificates. */
  controlPlane?: { advertiseAddress: string; bindPort?: number; certificateKey: string };
  skipPhases?: string[];
}

export function renderKubeadmJoinConfig(input: KubeadmJoinInput): string {
  const apiVersion = kubeadmApiVersionFor(input.kubernetesVersion);
  // Values are checked by shape only: a secret is never echoed back in the error.
  if (!BOOTSTRAP_TOKEN.test(input.token)) throw new KubeadmConfigError('token: not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}: take it from `kubeadm token create`');
  input.caCertHashes.forEach((h, i) => { if (!CA_CERT_HASH.test(h)) throw new KubeadmConfigError(`caCertHashes[${i}]: ${JSON.stringify(h)} is not sha256:<64 hex digits>`); });
  if (input.caCertHashes.length === 0) throw new KubeadmConfigError('caCertHashes: give the CA hash (`kubeadm token create --print-join-command` prints it): joining without one trusts any apiserver');
  if (!/^[^:\s]+:\d{1,5}$/.test(input.apiServerEndpoint)) throw new KubeadmConfigError(`apiServerEndpoint: ${JSON.stringify(input.apiServerEndpoint)} must be HOST:PORT, e.g. 10.0.1.99:6443`);
  if (!NODE_NAME.test(input.node.name)) throw new KubeadmConfigError(`node.name: ${JSON.stringify(input.node.name)} is not a DNS name of lower-case letters, digits, '-' and '.'`);
  const cp = input.controlPlane;
  if (cp) {
    if (!isIPv4(cp.advertiseAddress)) throw new KubeadmConfigError(`controlPlane.advertiseAddress: ${JSON.stringify(cp.advertiseAddress)} is not an IPv4 address`);
    if (!CERTIFICATE_KEY.test(cp.certificateKey)) throw new KubeadmConfigError('controlPlane.certificateKey: not 64 hex digits: take it from `kubeadm certs certificate-key`');
  }
  const doc = {
    apiVersion,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: input.apiServerEndpoint, token: input.token, caCertHashes: input.caCertHashes } },
    nodeRegistration: { name: input.node.name, criSocket: input.node.criSocket ?? 'unix:///var/run/containerd/containerd.sock' },
    ...(cp ? { controlPlane: { localAPIEndpoint: { advertiseAddress: cp.advertiseAddress, bindPort: cp.bindPort ?? 6443 }, certificateKey: cp.certificateKey } } : {}),
    ...(input.skipPhases?.length ? { skipPhases: input.skipPhases } : {}),
  };
  return stringify(doc, { lineWidth: 0 });
}
