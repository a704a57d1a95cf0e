// SIMULATED container runtime (lab only): local-path-provisioner's helper pods
// (helper-pod-create-<pv> / helper-pod-delete-<pv>, image busybox from its ConfigMap's
// helperPod.yaml). Their one container runs the ConfigMap's setup or teardown script with
// /bin/sh; here the node's own /bin/sh runs the same script with the same arguments and env
// (VOL_DIR, VOL_MODE, VOL_SIZE_BYTES), so the volume's directory is really made or removed in the
// node's view of the hostPath. That is only safe, and only done, when the hostPath is under a
// per-node path of the lab (/opt/local-path-provisioner, lab/node-view.ts) and mounted at its own
// path (so VOL_DIR means the same inside and out); every other shape is refused (pod Failed).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import type { ApiClient } from '../api-client.js';
import { newContainerId } from '../container.js';
import { expectList, refuse, resolveEnv, resolveInContainer, type AddonPod } from './pod.js';
import { HELPER_IMAGE, HELPER_POD_NAME } from './registry.js';
import { writeConfigMapVolume } from './volumes.js';

/** Host paths a helper may write: per-node paths of the lab's node view, never the machine's own. */
export const HELPER_ROOTS = ['/opt/local-path-provisioner'];

export interface HelperPlan { action: 'create' | 'delete'; scriptVolume: string; scriptKey: string; hostDir: string; hostDirType: string; args: string[]; env: Record<string, string> }

const strip = (p: string) => p.replace(/\/+$/, '') || '/';

export function checkHelperPod(p: AddonPod): HelperPlan {
  const m = HELPER_POD_NAME.exec(p.metadata.name);
  if (!m) return refuse(p, 'metadata.name', 'is not helper-pod-create-<pv> or helper-pod-delete-<pv>');
  const action = m[1] as 'create' | 'delete';
  if (p.spec.restartPolicy !== 'Never') refuse(p, 'spec.restartPolicy', `is ${JSON.stringify(p.spec.restartPolicy)}, expected Never (a helper runs once)`);
  if (p.spec.initContainers?.length) refuse(p, 'spec.initContainers', 'a helper pod has none');
  expectList(p, 'spec.containers[*].image', p.spec.containers.map((c) => c.image), [HELPER_IMAGE]);
  const c = p.spec.containers[0]!;
  const script = action === 'create' ? 'setup' : 'teardown';
  expectList(p, `containers[${c.name}].command[0]`, (c.command ?? []).slice(0, 1), ['/bin/sh']);
  if ((c.command ?? []).length !== 2) refuse(p, `containers[${c.name}].command`, `is ${JSON.stringify(c.command)}, expected ["/bin/sh", "<script path>"]`);
  const s = resolveInContainer(p, c, c.command![1]!);
  if (!s || !('configMap' in s) || s.key !== script) return refuse(p, `containers[${c.name}].command[1]`, `${c.command![1]} is not the ${script} key of a configMap volume`);

  const env = resolveEnv(p, c);
  expectList(p, `containers[${c.name}].env[*].name`, Object.keys(env).sort(), ['VOL_DIR', 'VOL_MODE', 'VOL_SIZE_BYTES']);
  const dir = env.VOL_DIR!;
  if (!posix.isAbsolute(dir) || posix.normalize(dir) !== dir || /[^A-Za-z0-9._/-]/.test(dir)) refuse(p, 'env VOL_DIR', `${JSON.stringify(dir)} is not a normalised absolute path of safe characters`);
  if (!['Filesystem', 'Block'].includes(env.VOL_MODE!)) refuse(p, 'env VOL_MODE', `${JSON.stringify(env.VOL_MODE)} is not Filesystem or Block`);
  if (!/^\d+$/.test(env.VOL_SIZE_BYTES!)) refuse(p, 'env VOL_SIZE_BYTES', `${JSON.stringify(env.VOL_SIZE_BYTES)} is not a byte count`);
  expectList(p, `containers[${c.name}].args`, c.args, ['-p', dir, '-s', env.VOL_SIZE_BYTES!, '-m', env.VOL_MODE!, '-a', action]);

  // The data volume: a hostPath mounted at its own path, VOL_DIR one level below it.
  const parent = posix.dirname(dir);
  const mount = (c.volumeMounts ?? []).find((x) => strip(x.mountPath) === parent);
  const vol = (p.spec.volumes ?? []).find((v) => v.name === mount?.name);
  if (!mount || !vol?.hostPath || strip(vol.hostPath.path) !== parent) return refuse(p, 'spec.volumes', `VOL_DIR's parent ${parent} is not a hostPath volume mounted at its own path`);
  if (!HELPER_ROOTS.some((r) => parent === r || parent.startsWith(`${r}/`))) refuse(p, `spec.volumes[${vol.name}].hostPath`, `${parent} is not under ${HELPER_ROOTS.join(', ')} (the per-node paths the lab lets a helper write)`);
  if (['.', '..'].includes(basename(dir))) refuse(p, 'env VOL_DIR', `${dir} names no directory below ${parent}`);
  const hostDirType = vol.hostPath.type ?? '';
  if (!['DirectoryOrCreate', 'Directory', ''].includes(hostDirType)) refuse(p, `spec.volumes[${vol.name}].hostPath.type`, `${hostDirType} is not Directory or DirectoryOrCreate`);
  for (const other of c.volumeMounts ?? []) {
    if (other !== mount && other.name !== s.volume && !/^kube-api-access-/.test(other.name)) refuse(p, `containers[${c.name}].volumeMounts[${other.name}]`, 'is not the data or script volume');
  }
  return { action, scriptVolume: s.volume, scriptKey: s.key, hostDir: parent, hostDirType, args: c.args!, env };
}

export interface HelperResult { exitCode: number; startedAt: string; finishedAt: string; id: string; message?: string }

/** Runs the helper's script with the node's /bin/sh; its output goes to <dir>/helper.log. */
export async function runHelper(api: ApiClient, p: AddonPod, plan: HelperPlan, dir: string, timeoutMs = 120_000): Promise<HelperResult> {
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const vol = (p.spec.volumes ?? []).find((v) => v.name === plan.scriptVolume)!;
  await writeConfigMapVolume(api, p, vol, join(dir, 'volumes', vol.name));
  if (plan.hostDirType === 'DirectoryOrCreate') mkdirSync(plan.hostDir, { recursive: true });
  const fd = openSync(join(dir, 'helper.log'), 'a');
  try {
    const exitCode = await new Promise<number>((resolve) => {
      const child = spawn('/bin/sh', [join(dir, 'volumes', vol.name, plan.scriptKey), ...plan.args], {
        stdio: ['ignore', fd, fd], env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...plan.env },
      });
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', () => { clearTimeout(t); resolve(127); });
      child.on('exit', (code, signal) => { clearTimeout(t); resolve(code ?? (signal === 'SIGKILL' ? 137 : 128)); });
    });
    return { exitCode, startedAt, finishedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), id: newContainerId(), ...(exitCode ? { message: `${plan.scriptKey} exited with ${exitCode}; see ${join(dir, 'helper.log')} on the node` } : {}) };
  } finally {
    closeSync(fd);
  }
}
