// Small process helpers for the lab tests of the SIMULATED kubelet.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export { isExecutable as executable } from '../../client/tools.js';

export interface Run { code: number; out: string }

/** `cmd args`, its exit code and its stdout+stderr; never throws. */
export function run(cmd: string, args: string[], timeout = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** Running and not a zombie. */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** The argv of a running process ([] when gone). */
export const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
