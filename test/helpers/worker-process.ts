// The production worker as a separate OS process (`mooring worker`), so crash tests can kill it
// for real with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logged that it polls its task queue. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<NodeJS.Signals | null>;
  stop(): Promise<void>;
}

/** `command` replaces `mooring worker` (e.g. the crash harness's worker); it gets --address and --task-queue. */
export function startWorkerProcess(address: string, taskQueue: string, logFile: string, command?: string[]): WorkerProcess {
  const log = openSync(logFile, 'a');
  const args = command ? [...command, '--address', address, '--task-queue', taskQueue] : [join(PROJECT_ROOT, 'bin', 'mooring.js'), 'worker', '--address', address, '--task-queue', taskQueue, '--log-level', 'WARN'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', log, 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const ready = new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('"worker started"')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`worker exited early (code ${code}, signal ${signal}): ${seen.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return {
    child, ready, exited,
    async kill9() {
      child.kill('SIGKILL');
      return (await exited).signal;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}
