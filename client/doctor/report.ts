// What `mooring doctor` finds: one result per check, each failure with the command or change that
// fixes it, and how the results print for people.
import { bold, dim } from '../render.js';

/** ok; fail (the command exits non-zero); warn (worth knowing, not a failure); skip (not applicable here). */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to run or change; present on fail and warn. */
  fix?: string;
}

const MARK: Record<CheckStatus, string> = { ok: '✔', fail: '✘', warn: '!', skip: '-' };

export function renderChecks(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map((r) => {
    const head = `${MARK[r.status]} ${r.check.padEnd(width)}  ${r.status === 'skip' ? dim(r.detail) : r.detail}`;
    return r.fix ? `${head}\n${' '.repeat(width + 4)}fix: ${r.fix.split('\n').join(`\n${' '.repeat(width + 9)}`)}` : head;
  });
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  const summary = failed ? bold(`${failed} check(s) failed`) : bold('all checks passed');
  return `${lines.join('\n')}\n\n${summary}${warned ? `, ${warned} warning(s)` : ''}`;
}
