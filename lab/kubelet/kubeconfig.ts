// SIMULATED kubelet (lab only): reads a kubeconfig the way client-go does for the fields a kubelet
// uses: the current context's cluster (server, CA as data or file) and user (client certificate
// and key as data or files, e.g. /var/lib/kubelet/pki/kubelet-client-current.pem after
// `kubeadm init`'s kubelet-finalize phase; or a bootstrap token).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface Credentials {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }

export function readKubeconfig(file: string): Credentials {
  const doc = parse(readFileSync(file, 'utf8')) as {
    'current-context'?: string;
    contexts?: Named<{ cluster: string; user: string }>[];
    clusters?: Named<Record<string, string>>[];
    users?: Named<Record<string, string>>[];
  };
  const ctx = (doc.contexts ?? []).find((c) => c.name === doc['current-context'])?.context ?? doc.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${file}: no current context`);
  const cluster = (doc.clusters ?? []).find((c) => c.name === ctx.cluster)?.cluster;
  const user = (doc.users ?? []).find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${file}: cluster ${ctx.cluster} has no server`);
  const rel = (p: string) => (isAbsolute(p) ? p : join(dirname(file), p));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const either = (data?: string, path?: string) => (data ? b64(data) : path ? readFileSync(rel(path), 'utf8') : undefined);
  const ca = either(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!ca) throw new Error(`${file}: cluster ${ctx.cluster} has no certificate authority`);
  const cert = either(user['client-certificate-data'], user['client-certificate']);
  const key = either(user['client-key-data'], user['client-key']);
  return { server: cluster.server, ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(user.token ? { token: user.token } : {}) };
}

/** A kubeconfig for the node's own credentials, as the real kubelet writes after TLS bootstrap. */
export function renderKubeletKubeconfig(server: string, caPem: string, certFile: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    `    server: ${JSON.stringify(server)}`,
    '  name: default-cluster',
    'contexts:',
    '- context:',
    '    cluster: default-cluster',
    '    namespace: default',
    '    user: default-auth',
    '  name: default-context',
    'current-context: default-context',
    'preferences: {}',
    'users:',
    '- name: default-auth',
    '  user:',
    `    client-certificate: ${JSON.stringify(certFile)}`,
    `    client-key: ${JSON.stringify(certFile)}`,
    '',
  ].join('\n');
}
