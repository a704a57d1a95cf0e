// Real keepalived and HAProxy (Debian's) on each gateway, inside the gateway's network and mount
// namespaces, on the configuration Mooring renders for production (activities/gateway/*): VRRP
// (unicast, between the gateways' namespaces over the lab bridge) moves the VIP, HAProxy binds
// the VIP's API port (ip_nonlocal_bind lets the standby bind it too) and balances to the masters.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory } from '../../config/schema.js';
import { renderHaproxyConfig } from '../../activities/gateway/haproxy.js';
import { renderKeepalivedConfig } from '../../activities/gateway/keepalived.js';
import { inNodeView } from '../node-view.js';
import { execFileP, runningAs, startDetached } from '../processes.js';
import { inNs } from './links.js';

export const KEEPALIVED = '/usr/sbin/keepalived';
export const HAPROXY = '/usr/sbin/haproxy';

export interface GatewayPids { keepalived: number; haproxy: number }

/**
 * `apiCheck`: 'readyz' (production's, for real apiservers) or 'tcp' (back ends that are not
 * apiservers, as in the network test before Kubernetes runs).
 */
export async function startGatewayServices(o: {
  inv: Inventory; node: string; ns: string; nodeDir: string; apiCheck: 'readyz' | 'tcp'; running?: Partial<GatewayPids>;
}): Promise<GatewayPids> {
  const haproxyCfg = join(o.nodeDir, 'haproxy.cfg');
  const keepalivedCfg = join(o.nodeDir, 'keepalived.conf');
  // Foreground HAProxy logging to its log file; no chroot (the node view already isolates it).
  writeFileSync(haproxyCfg, renderHaproxyConfig(o.inv, { dropPrivileges: false, log: 'stdout', apiCheck: o.apiCheck }));
  writeFileSync(keepalivedCfg, renderKeepalivedConfig(o.inv, { node: o.node, interface: 'eth0' }));
  // The same checks a gateway runs before it reloads: a file that fails them is never started.
  await execFileP(HAPROXY, ['-c', '-q', '-f', haproxyCfg]);
  await execFileP(KEEPALIVED, ['-t', '-f', keepalivedCfg]);
  const start = (argv: string[], log: string) => {
    const { cmd, args } = inNodeView(o.nodeDir, argv);
    const [c, ...a] = inNs(o.ns, [cmd, ...args]);
    return startDetached(c!, a, join(o.nodeDir, log));
  };
  const haproxy = runningAs(o.running?.haproxy, haproxyCfg) ? o.running!.haproxy! : start([HAPROXY, '-db', '-f', haproxyCfg], 'haproxy.log');
  // Pid files of its own per gateway: keepalived refuses to start when the default ones name a
  // running keepalived (another gateway's, or the machine's).
  const pidFiles = ['keepalived.pid', 'keepalived-vrrp.pid', 'keepalived-checkers.pid'].map((f) => join(o.nodeDir, f));
  const keepaliveRunning = runningAs(o.running?.keepalived, keepalivedCfg);
  // A powered-off gateway's keepalived was SIGKILLed with its two children: their pid files stay,
  // and a child not yet reaped (a zombie) or a reused pid makes a new keepalived refuse to start
  // ("daemon is already running"). This gateway's keepalived is not running (checked above by pid
  // and command line), so the files are stale: remove them.
  if (!keepaliveRunning) for (const f of pidFiles) rmSync(f, { force: true });
  const keepalived = keepaliveRunning ? o.running!.keepalived! : start([KEEPALIVED, '--dont-fork', '--log-console', '--log-detail',
    '-f', keepalivedCfg, '-p', pidFiles[0]!, '-r', pidFiles[1]!, '-c', pidFiles[2]!], 'keepalived.log');
  return { keepalived, haproxy };
}
