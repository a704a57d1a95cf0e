// What `inventory-check` learns about a host, parsed from one read-only shell script. Pure.

export interface HostFacts {
  name: string;
  ip: string;
  os: string;
  kernel: string;
  uptimeSeconds: number;
  disk: { mount: string; sizeBytes: number; availBytes: number; usedPercent: number };
  /** Expected ports something already listens on (on this host's address or a wildcard). */
  busyPorts: number[];
  freePorts: number[];
}

const SEP = '--mooring--';

/** The read-only script run on each host; sections are separated so parsing never guesses. */
export const FACTS_SCRIPT = [
  'uname -sr',
  `echo ${SEP}`,
  '( . /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" ) || echo unknown',
  `echo ${SEP}`,
  'cut -d" " -f1 /proc/uptime',
  `echo ${SEP}`,
  'df -Pk / | tail -n 1',
  `echo ${SEP}`,
  'ss -ltnH 2>/dev/null || netstat -ltn 2>/dev/null | tail -n +3',
].join('; ');

export function parseFacts(stdout: string, host: { name: string; ip: string }, expectedPorts: readonly number[]): HostFacts {
  const parts = stdout.split(`${SEP}\n`);
  if (parts.length !== 5) throw new Error(`${host.name}: unexpected output from the facts script (${parts.length} sections, want 5)`);
  const [kernel, os, uptime, df, listening] = parts.map((p) => p.trim()) as [string, string, string, string, string];
  // df -Pk: Filesystem 1024-blocks Used Available Capacity Mounted-on
  const cols = df.split(/\s+/);
  const sizeKb = Number(cols[1]);
  const availKb = Number(cols[3]);
  const listeningPorts = listeningOn(listening, host.ip);
  return {
    name: host.name,
    ip: host.ip,
    kernel,
    os,
    uptimeSeconds: Math.round(Number(uptime)),
    disk: { mount: cols[5] ?? '/', sizeBytes: sizeKb * 1024, availBytes: availKb * 1024, usedPercent: Number((cols[4] ?? '0').replace('%', '')) },
    busyPorts: expectedPorts.filter((p) => listeningPorts.has(p)),
    freePorts: expectedPorts.filter((p) => !listeningPorts.has(p)),
  };
}

/** Ports bound on `ip` or on a wildcard address, from `ss -ltnH` (or netstat) lines. */
export function listeningOn(output: string, ip: string): Set<number> {
  const ports = new Set<number>();
  for (const line of output.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // ss: State Recv-Q Send-Q Local Peer; netstat: Proto Recv-Q Send-Q Local Foreign State
    const local = cols[3];
    if (!local) continue;
    const at = local.lastIndexOf(':');
    const addr = local.slice(0, at).replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const port = Number(local.slice(at + 1));
    if (!Number.isInteger(port)) continue;
    if (addr === ip || addr === '0.0.0.0' || addr === '*' || addr === '::' || addr === `::ffff:${ip}`) ports.add(port);
  }
  return ports;
}
