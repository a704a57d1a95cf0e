// The load balancer in front of the API (the Ansible role `lb`, seed 002's gateways, seed 003's
// masters): HAProxy and keepalived from the distribution, their configurations rendered by
// activities/gateway/* for this host, each checked by the program itself on the host before it
// replaces the running one (`haproxy -c`, `keepalived -t`), then (re)started only when it changed.
import { isIPv4 } from 'node:net';
import type { Inventory } from '../../config/schema.js';
import { renderHaproxyConfig } from '../gateway/haproxy.js';
import { renderKeepalivedConfig } from '../gateway/keepalived.js';
import { HAPROXY_CONFIG_PATH, KEEPALIVED_CONFIG_PATH, LOAD_BALANCER_SYSCTLS } from '../gateway/placement.js';
import { sh } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';
import { sysctls } from './prerequisites.js';
import { CHANGED, ensureRemoteFile, runChecked } from './remote-file.js';

export const LOAD_BALANCER_SYSCTL_FILE = '/etc/sysctl.d/90-mooring-load-balancer.conf';
/** The chroot Debian's haproxy.cfg names (its package makes it; the rendered file keeps the chroot). */
const HAPROXY_CHROOT = '/var/lib/haproxy';

/** The interface that carries the host's own address: keepalived adds the VIP there. */
export async function interfaceOf(s: SshSession, address: string, signal: AbortSignal): Promise<string> {
  const out = await s.run(sh`ip -o -4 addr show | awk -v a=${`${address}/`} 'index($4, a) == 1 { print $2; exit }'`, { timeoutMs: 30_000, signal });
  const dev = out.trim();
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(dev)) throw new Error(`no interface carries ${address} on this host (ip -o -4 addr show): is it the host's fixed address?`);
  return dev.split('@')[0]!;
}

/** Service `unit` runs the current file: restarted when the file changed, started when it is down. */
async function ensureRunning(s: SshSession, unit: 'haproxy' | 'keepalived', fileChanged: boolean, signal: AbortSignal): Promise<boolean> {
  if (fileChanged) {
    await s.run(sh`systemctl enable ${unit} && systemctl restart ${unit}`, { timeoutMs: 60_000, signal });
    return true;
  }
  return runChecked(s, sh`systemctl is-active -q ${unit} || { systemctl enable ${unit} && systemctl start ${unit} && echo ${CHANGED}; }`, signal, 60_000);
}

/** HAProxy and keepalived on one load balancer host; returns what changed. */
export async function configureLoadBalancer(s: SshSession, inv: Inventory, o: { node: string; address: string }, signal: AbortSignal): Promise<string[]> {
  const changed: string[] = [];
  if (await runChecked(s, `command -v haproxy >/dev/null && command -v keepalived >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy keepalived && echo ${CHANGED}; }`, signal, 600_000)) changed.push('haproxy, keepalived installed');
  if (await sysctls(s, LOAD_BALANCER_SYSCTL_FILE, LOAD_BALANCER_SYSCTLS, signal)) changed.push('net.ipv4.ip_nonlocal_bind = 1');
  await s.run(sh`[ -d ${HAPROXY_CHROOT} ] || install -d -m 0755 ${HAPROXY_CHROOT}`, { timeoutMs: 30_000, signal });
  const haproxyFile = await ensureRemoteFile(s, HAPROXY_CONFIG_PATH, renderHaproxyConfig(inv), 0o644, signal, (tmp) => sh`haproxy -c -q -f ${tmp}`);
  if (haproxyFile) changed.push(`${HAPROXY_CONFIG_PATH} (checked by haproxy -c)`);
  if (await ensureRunning(s, 'haproxy', haproxyFile, signal)) changed.push('haproxy (re)started');
  const dev = await interfaceOf(s, o.address, signal);
  const keepalivedFile = await ensureRemoteFile(s, KEEPALIVED_CONFIG_PATH, renderKeepalivedConfig(inv, { node: o.node, interface: dev }), 0o644, signal, (tmp) => sh`keepalived -t -f ${tmp}`);
  if (keepalivedFile) changed.push(`${KEEPALIVED_CONFIG_PATH} (checked by keepalived -t)`);
  if (await ensureRunning(s, 'keepalived', keepalivedFile, signal)) changed.push('keepalived (re)started');
  return changed;
}

/** Whether this host carries the VIP now. */
export async function holdsVip(s: SshSession, vip: string, signal: AbortSignal): Promise<boolean> {
  const out = await s.run('ip -o -4 addr show', { timeoutMs: 30_000, signal });
  return out.split('\n').some((l) => l.includes(` ${vip}/`));
}

/** A TCP connect from this host to the VIP's API port (HAProxy accepts it even before an apiserver runs). */
export async function vipAccepts(s: SshSession, vip: string, port: number, signal: AbortSignal): Promise<boolean> {
  if (!isIPv4(vip) || !Number.isInteger(port)) throw new Error(`loadBalancer: ${vip}:${port} is not an IPv4 address and port`);
  const r = await s.exec(sh`timeout 3 bash -c ${`exec 3<>/dev/tcp/${vip}/${port}`}`, { timeoutMs: 30_000, signal });
  return r.code === 0;
}
