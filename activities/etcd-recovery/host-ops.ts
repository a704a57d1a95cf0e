// Changes on one member's host: stop/start etcd through systemctl, move a data dir aside (never
// delete it), write the member config. Each checks the host's state first, so repeating is safe.
import type { SshSession } from '../ssh/session.js';
import { ApplicationFailure } from '@temporalio/activity';
import { sh } from '../ssh/quote.js';

export async function etcdActive(s: SshSession, signal: AbortSignal): Promise<boolean> {
  return (await s.exec('systemctl is-active --quiet etcd', { timeoutMs: 15_000, signal })).code === 0;
}

// Check, act and check again in one exec (one round trip instead of three); the same checks as
// three separate commands, and a retry finds the unit in the state it left it.
export async function stopEtcd(s: SshSession, signal: AbortSignal): Promise<{ wasActive: boolean }> {
  const out = (await s.run('if systemctl is-active --quiet etcd; then w=active; systemctl stop etcd || exit $?; else w=inactive; fi; if systemctl is-active --quiet etcd; then echo "$w still-active"; else echo "$w"; fi', { timeoutMs: 60_000, signal })).trim();
  if (out.endsWith('still-active')) throw new Error(`${s.target.name}: etcd is still active after systemctl stop`);
  return { wasActive: out === 'active' };
}

export async function startEtcd(s: SshSession, signal: AbortSignal): Promise<{ wasActive: boolean }> {
  const out = (await s.run('if systemctl is-active --quiet etcd; then echo active; else systemctl start etcd && echo inactive; fi', { timeoutMs: 60_000, signal })).trim();
  return { wasActive: out === 'active' };
}

/**
 * Moves `dir` to `dir.<tag>`. The tag comes from the run (workflow ID), so a retry that finds the
 * directory already moved reports it instead of moving a newer one. An empty or missing dir is left.
 */
export async function moveAside(s: SshSession, dir: string, tag: string, signal: AbortSignal): Promise<{ movedTo?: string; alreadyMoved: boolean }> {
  const dest = `${dir}.${tag}`;
  const state = (await s.run(sh`full=no; if [ -d ${dir} ] && [ -n "$(ls -A ${dir} 2>/dev/null)" ]; then full=yes; fi; if [ -e ${dest} ]; then echo "moved-$full"; elif [ $full = yes ]; then echo present; else echo absent; fi`, { timeoutMs: 15_000, signal })).trim();
  if (state === 'moved-no') return { movedTo: dest, alreadyMoved: true };
  if (state === 'moved-yes') {
    // Something wrote a new data dir after this run moved the old one (a member started too early?).
    throw ApplicationFailure.nonRetryable(`${s.target.name}: ${dest} exists from this run but ${dir} holds data again: inspect both before going on; nothing was moved`, 'PreconditionFailed');
  }
  if (state === 'absent') return { alreadyMoved: false };
  await s.run(sh`mv ${dir} ${dest} && mkdir -p ${dir} && chmod 700 ${dir}`, { timeoutMs: 60_000, signal });
  return { movedTo: dest, alreadyMoved: false };
}

export async function writeConfig(s: SshSession, path: string, content: string, signal: AbortSignal): Promise<void> {
  await s.upload(path, content, { mode: 0o644, timeoutMs: 30_000, signal });
}
