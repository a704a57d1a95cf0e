// Small process helpers for the lab: start detached in its own process group, stop for sure.
import { spawn, execFile } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

/** Running (a zombie is not: where nothing reaps it, kill(pid, 0) would call it alive forever). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return stateOf(pid) !== 'Z';
}

/**
 * `pid` runs and is still the program the lab started (its command line holds `marker`): a pid
 * recorded before a reboot may belong to anything now, and must never be signalled.
 */
export function runningAs(pid: number | undefined, marker: string): pid is number {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/** The one-letter state in /proc/PID/stat (R, S, D, Z, …), or undefined when gone. */
export function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** SIGKILL and wait (synchronously, briefly) until the process is gone, so its ports are closed when this returns. */
export function killNow(pid: number, timeoutMs = 2000): void {
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 10);
}

/** Starts a long-running program detached (own process group) with output to a log file. */
export function startDetached(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
  child.unref();
  if (!child.pid) throw new Error(`cannot start ${cmd}`);
  return child.pid;
}

/** SIGTERM the process group, then SIGKILL whatever is left after `graceMs`. */
export async function stopGroup(pid: number, graceMs = 3000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => { try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } } };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) signal('SIGKILL');
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Parent pid → child pids, for every process on the machine. */
function processTree(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* exited while we looked */ }
  }
  return children;
}

/** The direct children of `pid` (for a listening sshd: one per open connection). */
export function childrenOf(pid: number): number[] {
  return processTree().get(pid) ?? [];
}

/** Every process descended from `pid` (sshd forks sessions into their own sessions/groups). */
export function descendants(pid: number): number[] {
  const children = processTree();
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => { out.push(c); walk(c); });
  walk(pid);
  return out;
}

/** Stops `pid`, its group, and everything it forked, for sure. */
export async function stopTree(pid: number, graceMs = 3000): Promise<void> {
  if (!alive(pid)) return;
  const below = descendants(pid);
  await stopGroup(pid, graceMs);
  for (const d of below) { try { process.kill(d, 'SIGKILL'); } catch { /* gone */ } }
}
