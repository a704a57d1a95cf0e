// haproxy.cfg for the cluster's entry points, planned as typed sections from the inventory and
// written by one serializer: the API on the VIP to the masters, ingress 80/443 to the workers,
// and a local /healthz that keepalived's vrrp_script asks (seed 002). Pure.
import type { Inventory } from '../../config/schema.js';
import { confWord, intOption, ipv4Option, nameOption, portOption } from './words.js';

/** The port kube-apiserver listens on on every master (kubeadm's default). */
export const APISERVER_PORT = 6443;
export const HEALTHZ_PATH = '/healthz';
/** Per-server state as CSV (the stats page), for people and for the lab tests; local only. */
export const STATS_PATH = '/stats';
/** Loopback only: nothing outside the host needs it, keepalived asks from the same host. */
export const DEFAULT_MONITOR = { address: '127.0.0.1', port: 8404 } as const;
export const DEFAULT_CHECK: HealthCheckTiming = { interMs: 2000, fall: 3, rise: 2 };

/** Frontend and backend names; each frontend sends to the backend of the same name. */
export const HAPROXY_NAMES = { monitor: 'healthz', api: 'kube-apiserver', http: 'ingress-http', https: 'ingress-https' } as const;

export interface BackendServer {
  name: string;
  address: string;
  port: number;
}

export interface HealthCheckTiming {
  /** Time between checks. */
  interMs: number;
  /** Consecutive failed checks before a server is taken out. */
  fall: number;
  /** Consecutive good checks before it is put back. */
  rise: number;
}

type Entry = 'api' | 'http' | 'https';

export interface HaproxyOptions {
  /** Address the API and ingress frontends bind; default the VIP, '*' for every address. */
  bindAddress?: string;
  /** Frontend ports; default loadBalancer.apiPort, 80, 443 and DEFAULT_MONITOR.port. */
  ports?: Partial<Record<Entry | 'monitor', number>>;
  monitorAddress?: string;
  /** Back ends; default the masters on 6443 and the workers on 80 and 443. [] drops that entry point. */
  servers?: Partial<Record<Entry, BackendServer[]>>;
  check?: Partial<HealthCheckTiming>;
  /**
   * readyz: an HTTPS GET of the apiserver's /readyz (anonymous by default in kubeadm clusters),
   * which also turns false while an apiserver shuts down, so it is drained first. tcp: a connect
   * check only, for back ends that are not apiservers (the lab).
   */
  apiCheck?: 'readyz' | 'tcp';
  /** chroot and run as the haproxy user, as Debian's package expects; off for an unprivileged lab run. */
  dropPrivileges?: boolean;
  /** syslog: /dev/log, as under systemd; stdout: for `haproxy -db` in the foreground. */
  log?: 'syslog' | 'stdout';
}

export type Directive = readonly (string | number)[];

export interface Section {
  kind: 'global' | 'defaults' | 'frontend' | 'backend';
  name?: string;
  directives: Directive[];
}

export interface HaproxyConfig {
  sections: Section[];
}

/** The configuration as data, so tests and later steps can inspect it without parsing text. */
export function planHaproxyConfig(inv: Inventory, opts: HaproxyOptions = {}): HaproxyConfig {
  const bind = opts.bindAddress === '*' ? '*' : ipv4Option(opts.bindAddress ?? inv.loadBalancer.vip, 'haproxy bindAddress');
  const check = { ...DEFAULT_CHECK, ...opts.check };
  intOption(check.interMs, 100, 3_600_000, 'haproxy check.interMs');
  intOption(check.fall, 1, 100, 'haproxy check.fall');
  intOption(check.rise, 1, 100, 'haproxy check.rise');
  const port = (entry: Entry | 'monitor', fallback: number) => portOption(opts.ports?.[entry] ?? fallback, `haproxy ports.${entry}`);
  const servers = (entry: Entry, fallback: BackendServer[]) => (opts.servers?.[entry] ?? fallback).map((s, i) => {
    const field = `haproxy servers.${entry}[${i}]`;
    return { name: nameOption(s.name, `${field}.name`), address: ipv4Option(s.address, `${field}.address`), port: portOption(s.port, `${field}.port`) };
  });
  const monitorAddress = ipv4Option(opts.monitorAddress ?? DEFAULT_MONITOR.address, 'haproxy monitorAddress');

  const sections: Section[] = [
    globalSection(opts.dropPrivileges ?? true, opts.log ?? 'syslog'),
    defaultsSection(),
    {
      kind: 'frontend', name: HAPROXY_NAMES.monitor, directives: [
        ['bind', `${monitorAddress}:${port('monitor', DEFAULT_MONITOR.port)}`],
        ['mode', 'http'],
        ['option', 'httplog'],
        ['timeout', 'client', '5s'],
        ['timeout', 'http-request', '5s'],
        // monitor-uri answers 200 while HAProxy runs and is not logged, so a check every 2s stays quiet.
        ['monitor-uri', HEALTHZ_PATH],
        ['stats', 'enable'],
        ['stats', 'uri', STATS_PATH],
      ],
    },
  ];
  const entry = (e: Entry, frontendPort: number, backend: BackendServer[], health: Directive[], serverExtra: Directive) => {
    if (backend.length === 0) return;
    sections.push({ kind: 'frontend', name: HAPROXY_NAMES[e], directives: [['bind', `${bind}:${frontendPort}`], ['default_backend', HAPROXY_NAMES[e]]] });
    sections.push({
      kind: 'backend', name: HAPROXY_NAMES[e], directives: [
        ['balance', 'roundrobin'],
        ...health,
        ...backend.map((s) => ['server', s.name, `${s.address}:${s.port}`, 'check', ...serverExtra,
          'inter', duration(check.interMs), 'fall', check.fall, 'rise', check.rise]),
      ],
    });
  };
  const readyz = (opts.apiCheck ?? 'readyz') === 'readyz';
  entry('api', port('api', inv.loadBalancer.apiPort),
    servers('api', inv.masters.map((m) => ({ name: m.name, address: m.ip, port: APISERVER_PORT }))),
    readyz ? [['option', 'httpchk'], ['http-check', 'connect', 'ssl'], ['http-check', 'send', 'meth', 'GET', 'uri', '/readyz'], ['http-check', 'expect', 'status', 200]] : [],
    // The apiserver's certificate is issued by the cluster CA, which HAProxy does not hold; the
    // check only asks whether it is ready, the TCP stream itself is passed through untouched.
    readyz ? ['verify', 'none'] : []);
  entry('http', port('http', 80), servers('http', inv.workers.map((w) => ({ name: w.name, address: w.ip, port: 80 }))), [], []);
  entry('https', port('https', 443), servers('https', inv.workers.map((w) => ({ name: w.name, address: w.ip, port: 443 }))), [], []);
  return { sections };
}

export function renderHaproxyConfig(inv: Inventory, opts: HaproxyOptions = {}): string {
  return serializeHaproxyConfig(planHaproxyConfig(inv, opts), `cluster ${inv.cluster.name}`);
}

export function serializeHaproxyConfig(cfg: HaproxyConfig, origin = 'Mooring'): string {
  const lines = [`# Written by Mooring for ${origin}; changes here are overwritten.`];
  for (const s of cfg.sections) {
    const header = s.name === undefined ? s.kind : `${s.kind} ${confWord(s.name, `haproxy ${s.kind} name`)}`;
    lines.push('', header);
    for (const d of s.directives) lines.push(`    ${d.map((w) => confWord(w, `haproxy ${header}, ${String(d[0])}`)).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function globalSection(dropPrivileges: boolean, log: 'syslog' | 'stdout'): Section {
  return {
    kind: 'global', directives: [
      log === 'syslog' ? ['log', '/dev/log', 'local0'] : ['log', 'stdout', 'format', 'raw', 'local0'],
      ...(dropPrivileges ? [['chroot', '/var/lib/haproxy'], ['user', 'haproxy'], ['group', 'haproxy']] : []),
      // No maxconn: HAProxy derives it from the file-descriptor limit the host grants (systemd's
      // LimitNOFILE). A fixed number above that limit makes HAProxy 2.6 refuse to start.
    ],
  };
}

function defaultsSection(): Section {
  return {
    kind: 'defaults', directives: [
      // TCP passthrough: TLS to the apiserver and to the ingress ends at the back ends, not here.
      ['mode', 'tcp'],
      ['log', 'global'],
      ['option', 'tcplog'],
      ['option', 'dontlognull'],
      // A connection to a server that died but is not yet marked down is retried on another one.
      ['option', 'redispatch'],
      ['retries', 3],
      ['timeout', 'connect', '5s'],
      // Watches are long-lived and can be idle for minutes; cutting them forces clients to re-list.
      ['timeout', 'client', '1h'],
      ['timeout', 'server', '1h'],
      ['timeout', 'check', '5s'],
    ],
  };
}

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
