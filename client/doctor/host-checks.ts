// Doctor's checks of this machine: the inventory's SSH key, OpenStack's clouds.yaml, the lab's
// programs. The key and clouds.yaml are read by the worker, so these say something about a
// worker host when doctor runs there (the README says to run it on each).
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../config/schema.js';
import type { CheckResult } from './report.js';

export async function sshKeyCheck(inv: Inventory): Promise<CheckResult> {
  const path = inv.ssh.privateKeyPath;
  const check = 'ssh key';
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    return { check, status: 'fail', detail: `ssh.privateKeyPath ${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot stat'}`, fix: `put the key at ${path} on every worker host (mode 0600), or change ssh.privateKeyPath` };
  }
  try {
    await access(path, constants.R_OK);
  } catch {
    return { check, status: 'fail', detail: `${path} is not readable by this user (uid ${process.getuid?.() ?? '?'})`, fix: `run the worker as the key's owner, or chown that user ${path}` };
  }
  const head = readFileSync(path, 'utf8').slice(0, 4096);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(head)) {
    return { check, status: 'fail', detail: `${path} is not a PEM/OpenSSH private key${/^(ssh-|ecdsa-)/.test(head) ? ' (it is a public key)' : ''}`, fix: 'point ssh.privateKeyPath at the private key (the file without .pub)' };
  }
  if (/ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(head)) {
    return { check, status: 'fail', detail: `${path} is protected by a passphrase: the worker has no one to type it`, fix: `use a key without a passphrase kept at mode 0600 (ssh-keygen -p -f ${path} removes it)` };
  }
  // OpenSSH refuses a private key others can read ("UNPROTECTED PRIVATE KEY FILE"): so does doctor.
  if (mode & 0o077) {
    return { check, status: 'fail', detail: `${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: group or others can read the cluster's key`, fix: `chmod 600 ${path}` };
  }
  return { check, status: 'ok', detail: `${path} readable, mode ${(mode & 0o777).toString(8).padStart(4, '0')}` };
}

/** Where openstacksdk and the openstack CLI look for clouds.yaml, in their order. */
export function cloudsYamlCandidates(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const dirs = [cwd, join(env.HOME ?? homedir(), '.config', 'openstack'), '/etc/openstack'];
  return [
    ...(env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE] : []),
    ...dirs.flatMap((d) => ['clouds.yaml', 'clouds.yml'].map((f) => join(d, f))),
  ];
}

export async function cloudsCheck(inv: Inventory, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const check = 'clouds.yaml';
  if (inv.provider.type !== 'openstack') return { check, status: 'skip', detail: `provider is ${inv.provider.type}` };
  const cloud = inv.provider.openstack.cloud ?? env.OS_CLOUD;
  if (!cloud) {
    if (env.OS_AUTH_URL) return { check, status: 'ok', detail: `no cloud named; OS_* variables set (OS_AUTH_URL=${env.OS_AUTH_URL})` };
    return { check, status: 'fail', detail: 'no cloud named (provider.openstack.cloud, OS_CLOUD) and no OS_AUTH_URL', fix: 'set provider.openstack.cloud to an entry of clouds.yaml, or source the project\'s openrc file on the worker host' };
  }
  const candidates = cloudsYamlCandidates(env);
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    return { check, status: 'fail', detail: `cloud "${cloud}" named but no clouds.yaml in ${candidates.join(', ')}`, fix: 'download it from Horizon (API Access → OpenStack clouds.yaml File) to ~/.config/openstack/clouds.yaml (mode 0600), or set OS_CLIENT_CONFIG_FILE' };
  }
  const { parse } = await import('yaml');
  let clouds: Record<string, unknown>;
  try {
    clouds = ((parse(readFileSync(file, 'utf8')) as { clouds?: Record<string, unknown> } | null)?.clouds) ?? {};
  } catch (err) {
    return { check, status: 'fail', detail: `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, fix: `fix ${file}` };
  }
  if (!(cloud in clouds)) {
    const known = Object.keys(clouds);
    return { check, status: 'fail', detail: `${file} has no cloud "${cloud}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`, fix: `add "${cloud}" under clouds: in ${file}, or set provider.openstack.cloud to one it has` };
  }
  const mode = statSync(file).mode;
  if (mode & 0o077) return { check, status: 'warn', detail: `cloud "${cloud}" in ${file}, but the file is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}; it may hold a password)`, fix: `chmod 600 ${file}` };
  return { check, status: 'ok', detail: `cloud "${cloud}" in ${file}` };
}

/** The programs `mooring lab` and the tests run, as set-up (`npm run setup`) installs them. */
export async function labToolsCheck(required: boolean): Promise<CheckResult> {
  const [{ findTool, etcdCacheDir }, { PINNED_ETCD, ETCD_TOOLS }, { SSHD }] = await Promise.all([import('../tools.js'), import('../../lab/etcd-versions.js'), import('../../lab/sshd.js')]);
  const missing: string[] = [];
  for (const tool of ['temporal', 'weed']) {
    try { findTool(tool); } catch { missing.push(`${tool} (.tools/bin or PATH)`); }
  }
  for (const [label, path] of [['sshd', SSHD], ['etcd 3.4', '/usr/bin/etcd'], ['haproxy', '/usr/sbin/haproxy']] as const) {
    if (!existsSync(path)) missing.push(`${label} (${path})`);
  }
  for (const version of Object.values(PINNED_ETCD)) {
    const dir = join(etcdCacheDir(), version);
    if (ETCD_TOOLS.some((t) => !existsSync(join(dir, t)))) missing.push(`etcd ${version} build (${dir})`);
  }
  if (missing.length === 0) return { check: 'lab tools', status: 'ok', detail: `temporal, weed, sshd, etcd 3.4 and ${Object.values(PINNED_ETCD).join(', ')}, haproxy present` };
  return {
    check: 'lab tools', status: required ? 'fail' : 'warn',
    detail: `missing: ${missing.join(', ')}${required ? '' : ' (only the lab and the tests need them; --lab makes this a failure)'}`,
    fix: 'npm run setup (Debian packages, .tools/bin, the etcd builds; needs Go 1.26+ for the builds)',
  };
}
