// SIMULATED container runtime (lab only): the local-path-provisioner's pod
// (local-path-storage.yaml v0.0.30) runs the REAL provisioner, built by
// scripts/build-local-path-provisioner.sh into ${XDG_CACHE_HOME:-~/.cache}/mooring/local-path-provisioner/<tag>/,
// as a process of the node. What a container runtime would give it is made by hand:
// - its command line is the pod's, the container paths of --config/--helper-pod-file replaced by
//   the per-pod copies of the ConfigMap volume (volumes.ts), and --kubeconfig added;
// - in-cluster access (the projected service-account token and KUBERNETES_SERVICE_HOST) becomes a
//   kubeconfig with the apiserver of the kubelet's own kubeconfig, the cluster CA, and a tokenFile
//   holding a token from the TokenRequest API for the pod's ServiceAccount, bound to the pod (what
//   the kubelet asks for a projected token), renewed at 80 % of its life (client-go re-reads tokenFile);
// - env: the literal values and the downward API's fields; CONFIG_MOUNT_PATH pointed at the copy.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../api-client.js';
import type { Credentials } from '../kubeconfig.js';
import { splitImage } from '../binaries.js';
import { expectList, refuse, resolveEnv, resolveInContainer, type AddonPod } from './pod.js';
import { LOCAL_PATH_IMAGE } from './registry.js';

/** `start` flags of local-path-provisioner v0.0.30 (main.go StartCmd) the pod may set; --kubeconfig is the runtime's. */
const START_FLAGS = ['config', 'provisioner-name', 'namespace', 'helper-image', 'service-account-name', 'configmap-name', 'helper-pod-file', 'worker-threads', 'provisioning-retry-count', 'deletion-retry-count'];
/** Flags whose value is a path inside the container (must come from a ConfigMap volume). */
const PATH_FLAGS = ['config', 'helper-pod-file'];

export interface ProvisionerPlan {
  /** Global flags, `start`, the start flags with container paths still as in the spec. */
  globals: string[];
  start: { flag: string; value: string }[];
  env: Record<string, string>;
  /** configMap volumes to materialise: volume name → ConfigMap name. */
  configVolumes: Record<string, string>;
  /** Container path → { volume, key } for the path flags and CONFIG_MOUNT_PATH. */
  paths: Record<string, { volume: string; key?: string }>;
  serviceAccount: string;
}

export const localPathBinary = (image: string, cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring')) =>
  join(cacheRoot, 'local-path-provisioner', splitImage(image).tag, 'local-path-provisioner');

export function checkProvisionerPod(p: AddonPod): ProvisionerPlan {
  if (p.spec.initContainers?.length) refuse(p, 'spec.initContainers', 'the provisioner\'s pod has none');
  expectList(p, 'spec.containers[*].image', p.spec.containers.map((c) => c.image), [LOCAL_PATH_IMAGE]);
  const c = p.spec.containers[0]!;
  const sa = p.spec.serviceAccountName;
  if (!sa) return refuse(p, 'spec.serviceAccountName', 'is empty; the provisioner needs its ServiceAccount (its token is what it runs with)');
  const configVolumes: Record<string, string> = {};
  for (const v of p.spec.volumes ?? []) {
    if (/^kube-api-access-/.test(v.name) && v.projected) continue;
    if (!v.configMap) refuse(p, `spec.volumes[${v.name}]`, 'only configMap volumes are run by the SIMULATED runtime for this pod');
    configVolumes[v.name] = v.configMap!.name;
  }
  for (const m of c.volumeMounts ?? []) {
    if (m.subPath) refuse(p, `containers[${c.name}].volumeMounts[${m.name}]`, 'subPath is not supported');
    if (!configVolumes[m.name] && !/^kube-api-access-/.test(m.name)) refuse(p, `containers[${c.name}].volumeMounts[${m.name}]`, 'names no configMap volume of the pod');
  }

  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv[0] !== 'local-path-provisioner') refuse(p, `containers[${c.name}].command[0]`, `is ${JSON.stringify(argv[0])}, expected local-path-provisioner`);
  const startAt = argv.indexOf('start');
  if (startAt < 0) refuse(p, `containers[${c.name}].command`, 'has no "start" command');
  const globals = argv.slice(1, startAt);
  for (const g of globals) if (g !== '--debug') refuse(p, `containers[${c.name}].command`, `global flag ${JSON.stringify(g)} is not --debug`);
  const start: ProvisionerPlan['start'] = [];
  const rest = argv.slice(startAt + 1);
  for (let i = 0; i < rest.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(rest[i]!);
    if (!m || !START_FLAGS.includes(m[1]!)) refuse(p, `containers[${c.name}].args`, `${JSON.stringify(rest[i])} is not a start flag of local-path-provisioner v0.0.30 the runtime allows (${START_FLAGS.join(', ')}; --kubeconfig is the runtime's own)`);
    const value = m![2] ?? rest[++i];
    if (value === undefined || value === '') refuse(p, `containers[${c.name}].args`, `--${m![1]} needs a value`);
    start.push({ flag: m![1]!, value: value! });
  }
  const env = resolveEnv(p, c);
  const paths: ProvisionerPlan['paths'] = {};
  for (const s of start.filter((x) => PATH_FLAGS.includes(x.flag))) {
    const r = resolveInContainer(p, c, s.value);
    if (!r || !('configMap' in r)) refuse(p, `containers[${c.name}] --${s.flag}`, `${s.value} is not a key of a mounted configMap volume`);
    const cm = r as { volume: string; key: string };
    paths[s.value] = { volume: cm.volume, key: cm.key };
  }
  if (env.CONFIG_MOUNT_PATH !== undefined) {
    const want = env.CONFIG_MOUNT_PATH.replace(/\/+$/, '');
    const m = (c.volumeMounts ?? []).find((x) => x.mountPath.replace(/\/+$/, '') === want && configVolumes[x.name]);
    if (!m) refuse(p, `containers[${c.name}].env[CONFIG_MOUNT_PATH]`, `${env.CONFIG_MOUNT_PATH} is not the mount path of a configMap volume`);
    paths[env.CONFIG_MOUNT_PATH] = { volume: m!.name };
  }
  if (!start.some((s) => s.flag === 'config')) refuse(p, `containers[${c.name}].args`, 'has no --config (the lab gives the provisioner its config as a file of the ConfigMap volume)');
  return { globals, start, env, configVolumes, paths, serviceAccount: sa! };
}

/** The process's argv and env, the container paths replaced by the per-pod copies under `dir`. */
export function provisionerCommand(plan: ProvisionerPlan, binary: string, dir: string): { argv: string[]; env: Record<string, string> } {
  const host = (containerPath: string) => {
    const r = plan.paths[containerPath]!;
    return r.key ? join(dir, 'volumes', r.volume, r.key) : `${join(dir, 'volumes', r.volume)}/`;
  };
  const argv = [binary, ...plan.globals, 'start', ...plan.start.flatMap((s) => [`--${s.flag}`, PATH_FLAGS.includes(s.flag) ? host(s.value) : s.value]), '--kubeconfig', join(dir, 'kubeconfig')];
  const env = { ...plan.env };
  if (env.CONFIG_MOUNT_PATH !== undefined) env.CONFIG_MOUNT_PATH = host(env.CONFIG_MOUNT_PATH);
  return { argv, env };
}

const TOKEN_SECONDS = 3607;

/** A token for the pod's ServiceAccount bound to the pod, written to <dir>/token (0600); returns its expiry (ms). */
export async function refreshToken(api: ApiClient, p: AddonPod, serviceAccount: string, dir: string): Promise<number> {
  const tr = await api.post<{ status: { token: string; expirationTimestamp: string } }>(
    `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: TOKEN_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid } } },
  );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'token');
  writeFileSync(`${file}.tmp`, tr.status.token, { mode: 0o600 });
  chmodSync(`${file}.tmp`, 0o600);
  renameSync(`${file}.tmp`, file);
  return Date.parse(tr.status.expirationTimestamp);
}

/** The kubeconfig standing for in-cluster access: the kubelet's apiserver and CA, the pod's token file. */
export function writeProvisionerKubeconfig(creds: Credentials, dir: string): void {
  const text = [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: cluster', '  cluster:', `    server: ${JSON.stringify(creds.server)}`, `    certificate-authority-data: ${Buffer.from(creds.ca).toString('base64')}`,
    'users:', '- name: pod', '  user:', `    tokenFile: ${JSON.stringify(join(dir, 'token'))}`,
    'contexts:', '- name: pod', '  context:', '    cluster: cluster', '    user: pod',
    'current-context: pod', '',
  ].join('\n');
  const file = join(dir, 'kubeconfig');
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
