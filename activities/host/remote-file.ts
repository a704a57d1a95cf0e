// Idempotent file writes on a host: the content goes over the SSH channel's stdin (never on a
// command line), lands in a temp file beside the target, and replaces the target only when it
// differs, so a re-run reports "unchanged" and restarts nothing.
import { sh } from '../ssh/quote.js';
import type { SshSession } from '../ssh/session.js';

export const CHANGED = 'mooring:changed';

/**
 * Writes `content` to `path` (mode, parent made) unless it is there already; true when it changed
 * the file. `check(tmp)`, when given, is a command that must accept the new file before it
 * replaces the old one (e.g. `haproxy -c -f`): a file that fails it is removed, never installed.
 */
export async function ensureRemoteFile(s: SshSession, path: string, content: string, mode: number, signal: AbortSignal, check?: (tmp: string) => string): Promise<boolean> {
  const tmp = `${path}.mooring-tmp`;
  const m = mode.toString(8).padStart(4, '0');
  const out = await s.run([
    sh`mkdir -p "$(dirname ${path})"`,
    sh`(umask 077 && cat > ${tmp})`,
    sh`if cmp -s ${tmp} ${path} && [ "$(stat -c %a ${path})" = ${mode.toString(8)} ]; then rm -f ${tmp}; else chmod ${m} ${tmp} && `
      + (check ? `{ ${check(tmp)} || { code=$?; rm -f ${sh`${tmp}`}; exit "$code"; }; } && ` : '') + sh`mv ${tmp} ${path} && echo ${CHANGED}; fi`,
  ].join(' && '), { stdin: content, timeoutMs: 60_000, signal });
  return out.includes(CHANGED);
}

/** Runs a command that prints CHANGED when it acted; true when it did. */
export async function runChecked(s: SshSession, command: string, signal: AbortSignal, timeoutMs = 120_000): Promise<boolean> {
  return (await s.run(command, { timeoutMs, signal })).includes(CHANGED);
}
