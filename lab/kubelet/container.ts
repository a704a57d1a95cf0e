// SIMULATED kubelet (lab only): one "container" of a static pod is one real process of the node,
// started from the manifest's command and args with the manifest's env. It runs detached (its own
// process group, output to a log file in the state dir), so, as with a real container runtime,
// it outlives a kubelet restart; a restarted kubelet adopts it by pid (see static-pods.ts). A
// process that exits is restarted with a doubling back-off; stopping is by pid only: SIGTERM,
// then SIGKILL after the pod's grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ContainerRecord {
  pod: string;
  container: string;
  hash: string;
  id: string;
  pid: number;
  startedAt: string;
  argv: string[];
  restartCount: number;
}

export interface ContainerState {
  running: boolean;
  id: string;
  pid?: number;
  startedAt?: string;
  restartCount: number;
  lastTermination?: { exitCode: number | null; signal: string | null; finishedAt: string; id: string };
  waitingReason?: string;
}

/** Back-off after the n-th consecutive crash: 1, 2, 4 … 32 s (the real kubelet: 10 s to 5 min). */
export const backoffMs = (crashes: number) => Math.min(32_000, 1000 * 2 ** Math.max(0, crashes - 1));
/** A process that ran this long is healthy again: its next crash starts the back-off over. */
const STABLE_MS = 60_000;

export const newContainerId = () => randomBytes(32).toString('hex');

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The pid runs `argv` (a recorded pid may have been reused by anything since): its command line
 * is argv, or ends with it after an interpreter (a script's pid shows `/bin/sh script args`).
 */
export function runsArgv(pid: number, argv: string[]): boolean {
  try {
    const parts = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const tail = parts.slice(-argv.length);
    return tail.length === argv.length && tail.every((a, i) => a === argv[i]);
  } catch {
    return false;
  }
}

export class Container {
  private child?: ChildProcess;
  private pid?: number;
  private id = newContainerId();
  private startedAt?: string;
  private restartCount = 0;
  private crashes = 0;
  private lastTermination?: ContainerState['lastTermination'];
  private waitingReason?: string;
  private timer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    readonly pod: string,
    readonly name: string,
    readonly hash: string,
    readonly argv: string[],
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly log: (msg: string) => void,
    private readonly changed: () => void,
  ) {}

  state(): ContainerState {
    const running = this.pid !== undefined && alive(this.pid);
    return {
      running,
      id: this.id,
      ...(running ? { pid: this.pid, startedAt: this.startedAt } : {}),
      restartCount: this.restartCount,
      ...(this.lastTermination ? { lastTermination: this.lastTermination } : {}),
      ...(!running && this.waitingReason ? { waitingReason: this.waitingReason } : {}),
    };
  }

  record(): ContainerRecord | undefined {
    if (this.pid === undefined || !alive(this.pid) || !this.startedAt) return undefined;
    return { pod: this.pod, container: this.name, hash: this.hash, id: this.id, pid: this.pid, startedAt: this.startedAt, argv: this.argv, restartCount: this.restartCount };
  }

  /** Takes over a process a previous kubelet started (same pod hash and command line). */
  adopt(r: ContainerRecord): void {
    this.pid = r.pid;
    this.id = r.id;
    this.startedAt = r.startedAt;
    this.restartCount = r.restartCount;
    this.log(`${this.pod}/${this.name}: adopted running pid ${r.pid} (container ${r.id.slice(0, 13)})`);
    this.watchAdopted();
  }

  /** Stops a leftover process of a previous kubelet, by its recorded pid. */
  async adoptAndStop(r: ContainerRecord, graceMs: number): Promise<void> {
    this.pid = r.pid;
    await this.stop(graceMs);
  }

  start(): void {
    if (this.stopping) return;
    const fd = openSync(this.logFile, 'a');
    try {
      this.id = newContainerId();
      const child = spawn(this.argv[0]!, this.argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env } });
      this.child = child;
      this.pid = child.pid;
      this.startedAt = new Date().toISOString();
      this.waitingReason = undefined;
      child.on('error', (e) => this.exited(null, null, `cannot start: ${e.message}`));
      child.on('exit', (code, signal) => this.exited(code, signal));
      child.unref();
      this.log(`${this.pod}/${this.name}: started pid ${child.pid} (container ${this.id.slice(0, 13)}): ${this.argv.join(' ')}`);
    } finally {
      closeSync(fd);
    }
    this.changed();
  }

  private watchAdopted(): void {
    const pid = this.pid;
    const poll = setInterval(() => {
      if (this.pid !== pid) return clearInterval(poll);
      if (!alive(pid!)) {
        clearInterval(poll);
        this.exited(null, null, 'adopted process gone');
      }
    }, 1000);
    poll.unref();
  }

  private exited(code: number | null, signal: string | null, why?: string): void {
    if (this.pid === undefined && why === undefined) return;
    const ranMs = this.startedAt ? Date.now() - Date.parse(this.startedAt) : 0;
    this.lastTermination = { exitCode: code, signal, finishedAt: new Date().toISOString(), id: this.id };
    this.pid = undefined;
    this.child = undefined;
    if (this.stopping) return this.changed();
    this.crashes = ranMs > STABLE_MS ? 1 : this.crashes + 1;
    this.restartCount++;
    const wait = backoffMs(this.crashes);
    this.waitingReason = this.crashes > 1 ? 'CrashLoopBackOff' : 'Error';
    this.log(`${this.pod}/${this.name}: exited (${why ?? `code ${code}, signal ${signal}`}); restart in ${wait / 1000} s`);
    this.timer = setTimeout(() => this.start(), wait);
    this.changed();
  }

  /** SIGTERM the process, SIGKILL it after `graceMs`; resolves when it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const pid = this.pid;
    if (pid === undefined || !alive(pid)) return;
    this.log(`${this.pod}/${this.name}: stopping pid ${pid} (SIGTERM, SIGKILL after ${graceMs / 1000} s)`);
    const signal = (s: NodeJS.Signals) => { try { process.kill(pid, s); } catch { /* gone */ } };
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      signal('SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
    }
    this.pid = undefined;
    this.changed();
  }
}
