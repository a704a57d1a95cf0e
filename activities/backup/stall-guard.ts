// A transfer into a file on a node, cut off when it stops making progress. `etcdctl snapshot save`
// against a member that died (or was partitioned) after it answered `endpoint status` does not
// fail: its gRPC stream waits for the member until etcdctl's command timeout, which is sized for
// the whole database (two minutes at least, five for 3.5 GiB). A member that sends no byte for
// `stallSeconds` has stopped sending; the save is killed so the backup moves to the next member
// that long after the death instead of minutes later.
import { sh } from '../ssh/quote.js';

export const stallMessage = (file: string, seconds: number) => `mooring: no byte arrived in ${file} for ${seconds} s: the member stopped sending; the transfer was stopped`;

/**
 * A POSIX shell command that runs `command` (one simple command, already quoted, so that `$!` is
 * its own process) in the background and waits for it, while a watchdog polls the size of `growing`
 * (the file the transfer writes) every second. When the size (or its absence) stays the same for
 * `stallSeconds` in a row, the watchdog leaves a marker beside the file and kills the command; the
 * whole then exits 75 with stallMessage() as its last stderr line. Otherwise it exits with the
 * command's own status as soon as the command ends (a wait, not a poll: the watchdog's sleep holds
 * no output pipe, so nothing waits for it).
 */
export function stallGuarded(command: string, growing: string, stallSeconds: number): string {
  if (!Number.isInteger(stallSeconds) || stallSeconds < 2) throw new Error(`stallSeconds must be an integer ≥ 2, not ${stallSeconds}`);
  const marker = `${growing}.stalled`;
  return [
    sh`rm -f ${marker}`,
    `${command} & pid=$!`,
    '( last=; still=0',
    '  while kill -0 "$pid" 2>/dev/null; do',
    '    sleep 1 </dev/null >/dev/null 2>&1',
    sh`    n=$(stat -c %s ${growing} 2>/dev/null || echo none)`,
    '    if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; last=$n; fi',
    `    if [ "$still" -ge ${stallSeconds} ]; then`,
    sh`      : > ${marker}; kill "$pid" 2>/dev/null; exit 0`,
    '    fi',
    '  done ) </dev/null >/dev/null 2>&1 & watchdog=$!',
    'wait "$pid"; rc=$?',
    'kill "$watchdog" 2>/dev/null',
    // A command that ended well in the same instant keeps its success.
    sh`if [ -e ${marker} ] && [ "$rc" != 0 ]; then rm -f ${marker}; echo ${stallMessage(growing, stallSeconds)} >&2; exit 75; fi`,
    sh`rm -f ${marker}`,
    'exit $rc',
  ].join('\n');
}
