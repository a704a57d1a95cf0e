// Doctor's checks of this machine: the inventory's SSH key, OpenStack's clouds.yaml, the lab's
// programs. The key and clouds.yaml are read by the worker, so these say something about a
// worker host when doctor runs there (the README says to run it on each).
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
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

/**
 * OpenStack credentials resolved exactly as the worker's activities resolve them
 * (activities/cloud/openstack/config/clouds.ts: clouds.yaml, secure.yaml, OS_CLOUD, OS_*), so a
 * passing check means the worker will find a complete cloud. Nothing secret is shown.
 */
export async function cloudsCheck(inv: Inventory, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const check = 'clouds.yaml';
  if (inv.provider.type !== 'openstack') return { check, status: 'skip', detail: `provider is ${inv.provider.type}` };
  const { CloudConfigError, processConfigEnv, resolveCloudConfig } = await import('../../activities/cloud/openstack/config/clouds.js');
  const os = inv.provider.openstack;
  let cloud: Awaited<ReturnType<typeof resolveCloudConfig>>;
  try {
    cloud = await resolveCloudConfig({ ...(os.cloud ? { cloud: os.cloud } : {}), region: os.region }, processConfigEnv({ env, ...(env.HOME ? { home: env.HOME } : {}) }));
  } catch (err) {
    if (!(err instanceof CloudConfigError)) throw err;
    return { check, status: 'fail', detail: err.message, fix: 'download the project\'s clouds.yaml from Horizon (API Access) to ~/.config/openstack/clouds.yaml (mode 0600), passwords in secure.yaml beside it, or set OS_CLIENT_CONFIG_FILE / the OS_* variables on the worker host' };
  }
  const what = `cloud "${cloud.name}" from ${cloud.source}: ${cloud.credentials.type} auth at ${cloud.authUrl}`;
  if (cloud.source.startsWith('/') && existsSync(cloud.source)) {
    const mode = statSync(cloud.source).mode;
    if (mode & 0o077) return { check, status: 'warn', detail: `${what}, but ${cloud.source} is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}; it may hold a password)`, fix: `chmod 600 ${cloud.source}` };
  }
  return { check, status: 'ok', detail: what };
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
