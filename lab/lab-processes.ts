// Every process that belongs to a lab, found from /proc rather than from pid files: what the lab
// started on this machine (one of its programs, with a command line naming the lab directory; a
// `tail -f` of a lab log is the operator's, not the lab's) and everything running
// inside one of its nodes (a process whose /etc/etcd is bound from that node's directory), such
// as etcd started by the SIMULATED systemctl or a command an SSH session left behind. `down`
// stops them all, `power-off` stops one node's, and tests prove none is left.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/** The programs the lab starts outside its nodes (object storage; sshd before it enters its namespace). */
const LAB_PROGRAMS = new Set(['weed', 'sshd', 'unshare', 'nsenter', 'etcd']);

export interface LabProcess { pid: number; node?: string; command: string }

interface MountEntry { dev: string; root: string; mountPoint: string }

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

function mounts(pid: number | 'self'): MountEntry[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    return { dev: f[2]!, root: unescape(f[3]!), mountPoint: unescape(f[4]!) };
  });
}

/** Mount points of this process's namespace at or under `dir`: the lab mounts only inside its nodes, so none is expected. */
export function mountPointsUnder(dir: string): string[] {
  return mounts('self').map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** How a bind mount of `path` (a directory on this machine) shows in another namespace's mountinfo. */
function bindSource(path: string): string {
  const covering = mounts('self').filter((m) => m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`));
  const m = covering.reduce((a, b) => (b.mountPoint.length >= a.mountPoint.length ? b : a));
  return `${m.dev} ${join(m.root, relative(m.mountPoint, path))}`;
}

function read(file: string): string | undefined {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
}

/** This process and its ancestors: the CLI running `lab down --dir X` names X too. */
function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1 && !out.has(pid);) {
    out.add(pid);
    const stat = read(`/proc/${pid}/stat`);
    pid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : 0;
  }
  return out;
}

/**
 * The lab's live processes. `nodes` maps node name to the directory bound over the node's
 * /etc/etcd; a namespace is recognised by that bind, never by a namespace number alone (those
 * are reused once a namespace is gone).
 */
export function labProcesses(labDir: string, nodes: ReadonlyMap<string, string>): LabProcess[] {
  const sources = new Map([...nodes].map(([name, etcDir]) => [bindSource(etcDir), name]));
  const own = readlinkSync('/proc/self/ns/mnt');
  const nodeOfNs = new Map<string, string | undefined>();
  const skip = selfAndAncestors();
  const out: LabProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || skip.has(pid)) continue;
    try {
      const stat = read(`/proc/${pid}/stat`);
      if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
      const command = argv.join(' ');
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (ns !== own && !nodeOfNs.has(ns)) {
        const etc = mounts(pid).filter((m) => m.mountPoint === '/etc/etcd').pop();
        nodeOfNs.set(ns, etc ? sources.get(`${etc.dev} ${etc.root}`) : undefined);
      }
      const node = ns === own ? undefined : nodeOfNs.get(ns);
      if (node) out.push({ pid, node, command });
      else if (LAB_PROGRAMS.has(basename(argv[0] ?? '')) && command.includes(`${labDir}/`)) out.push({ pid, command });
    } catch { /* exited while we looked */ }
  }
  return out;
}
