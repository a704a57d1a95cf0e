// A member whose etcd process is gone (killed, crashed, stopped) refuses TCP connections on its
// client port at once, yet `etcdctl endpoint health` keeps redialling until its whole dial timeout
// (3 s) has passed before it says so. A refused connect from the member's own host to its own
// client URL is as sure a "not serving" as etcdctl's verdict: this check gives it in milliseconds
// and leaves every other case (accepted, slow, filtered, no bash) to etcdctl exactly as before.
import { sh } from '../ssh/quote.js';

/** The line the command prints instead of running etcdctl when the client port refused. */
export const REFUSED_MARKER = '--mooring-client-port-refused--';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * `command`, unless a TCP connect to ip:port (bash's /dev/tcp, bounded to 1 s) is refused: then it
 * prints REFUSED_MARKER and runs nothing. Only exit 1 together with bash's "Connection refused"
 * counts: a bash built without /dev/tcp ("No such file or directory"), a timeout (124), a missing
 * `timeout` or `bash` (127), an unreachable route or an accepted connect all run `command`.
 */
export function unlessRefused(ip: string, port: number, command: string): string {
  if (!IPV4.test(ip) || !Number.isInteger(port) || port < 1 || port > 65535) return command;
  const connect = sh`LC_ALL=C timeout 1 bash -c ${`: </dev/tcp/${ip}/${port}`}`;
  return `e=$(${connect} 2>&1 >/dev/null); case "$?:$e" in 1:*'Connection refused'*) echo ${REFUSED_MARKER} ;; *) ${command} ;; esac`;
}

/** Whether a command built by unlessRefused found the port refusing (and so ran nothing). */
export function wasRefused(stdout: string): boolean {
  return stdout.split('\n', 1)[0] === REFUSED_MARKER;
}
