// A master or worker joins through the load balancer (the Ansible roles master-join, worker-join).
// Its credentials are made on the first master for this one join and never leave the activity:
// a bootstrap token that expires in 15 minutes and, for a master, a fresh upload of the control-
// plane certificates under a new certificate key (kubeadm deletes that upload after two hours).
// The JoinConfiguration that carries them reaches kubeadm on the joining host through the SSH
// channel's standard input (`--config /dev/stdin`): not on a command line, not on disk.
import type { Inventory } from '../../config/schema.js';
import { sh } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';
import { ADMIN_KUBECONFIG, KUBEADM_INIT_CONFIG, KUBELET_KUBECONFIG, logged } from './init.js';
import { BOOTSTRAP_TOKEN, CA_CERT_HASH, CERTIFICATE_KEY, renderKubeadmJoinConfig } from './join-config.js';

export const JOIN_TOKEN_TTL = '15m';

export interface JoinCredentials { token: string; caCertHash: string; certificateKey?: string }

/** Whether the host has joined already (kubeadm wrote the kubelet's kubeconfig). */
export async function hasJoined(s: SshSession, signal: AbortSignal): Promise<boolean> {
  return (await s.exec(sh`test -s ${KUBELET_KUBECONFIG}`, { timeoutMs: 30_000, signal })).code === 0;
}

/** Made on the first master; the values are secrets: only shapes are checked, nothing is echoed. */
export async function makeJoinCredentials(first: SshSession, o: { cluster: string; controlPlane: boolean }, signal: AbortSignal): Promise<JoinCredentials> {
  const join = await first.run(sh`kubeadm token create --kubeconfig ${ADMIN_KUBECONFIG} --ttl ${JOIN_TOKEN_TTL} --description ${`mooring provision ${o.cluster}`} --print-join-command`, { timeoutMs: 60_000, signal });
  const m = /--token\s+(\S+)\s+--discovery-token-ca-cert-hash\s+(\S+)/.exec(join);
  if (!m || !BOOTSTRAP_TOKEN.test(m[1]!) || !CA_CERT_HASH.test(m[2]!)) throw new Error('kubeadm token create --print-join-command printed no token and CA hash of the expected shape');
  const creds: JoinCredentials = { token: m[1]!, caCertHash: m[2]! };
  if (o.controlPlane) {
    // Without a key in the configuration kubeadm makes a new one and prints it after "Using certificate key:".
    const out = await first.run(sh`kubeadm init phase upload-certs --upload-certs --config ${KUBEADM_INIT_CONFIG}`, { timeoutMs: 120_000, signal });
    const key = out.split('\n').map((l) => l.trim()).find((l) => CERTIFICATE_KEY.test(l));
    if (!key) throw new Error('kubeadm init phase upload-certs printed no certificate key');
    creds.certificateKey = key;
  }
  return creds;
}

/** kubeadm join on `s` with the credentials; the configuration goes over stdin. */
export async function kubeadmJoin(s: SshSession, inv: Inventory, node: { name: string; address: string; controlPlane: boolean }, creds: JoinCredentials, signal: AbortSignal): Promise<void> {
  const skip = inv.kubernetes.kubeadmSkipPhases?.filter((p) => p !== 'addon/kube-proxy') ?? [];
  const config = renderKubeadmJoinConfig({
    kubernetesVersion: inv.kubernetes.version, apiServerEndpoint: inv.kubernetes.controlPlaneEndpoint, token: creds.token, caCertHashes: [creds.caCertHash],
    node: { name: node.name }, ...(skip.length ? { skipPhases: skip } : {}),
    ...(node.controlPlane ? { controlPlane: { advertiseAddress: node.address, certificateKey: creds.certificateKey! } } : {}),
  });
  await s.run(logged('join', 'kubeadm join --config /dev/stdin'), { timeoutMs: 900_000, signal, stdin: config });
}
