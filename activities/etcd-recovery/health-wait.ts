// Waiting for a member that has just been started to answer healthy, inside one activity attempt.
// A started etcd listens on its client port at once but serves clients only once it is ready
// (joined, published): until then etcdctl's TLS dial hangs for its whole timeout. On the lab the
// majority's first grown member failed its one 3 s health check in every bench round and waited a
// failed attempt plus WAIT's backoff ("waited 4.28 s (1 retries)"); asking again inside the
// attempt with a short timeout notices readiness within about a second instead.
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { reportProgress } from '../heartbeat.js';
import type { SshSession } from '../ssh/session.js';
import type { EtcdMemberRef, EtcdSettings } from './context.js';
import { clientUrl, etcdctl, parseEndpointHealth } from './etcdctl.js';
import { unlessRefused, wasRefused } from './port-probe.js';

/** How long one attempt keeps asking (checks of 1 s, 2 s, then 3 s) before its last, full (3 s) check. */
export const HEALTH_WAIT_MS = 10_000;
export const HEALTH_POLL_MS = 250;

/**
 * Healthy now or soon, else a retryable NotHealthyYet (Temporal's retry policy goes on waiting).
 * Read-only, so asking again is as harmless as the retry was. Checks every HEALTH_POLL_MS, the first
 * with 1 s dial and command timeouts, the second 2 s, then 3 s, until `waitMs` has passed; then one check with the 3 s timeouts
 * the activity always used, so a member that is healthy but slow to answer is judged exactly as
 * before: the quick checks can only make "healthy" come sooner, never make "not healthy" final.
 * Bounded (10 s + one 3 s check + the commands' SSH round trips) well under WAIT's 30 s.
 */
export async function waitEtcdHealthy(s: SshSession, etcd: EtcdSettings, host: EtcdMemberRef, signal: AbortSignal, waitMs = HEALTH_WAIT_MS): Promise<{ healthy: true }> {
  const { ip } = host, port = etcd.clientPort;
  const check = async (seconds: number): Promise<string | undefined> => {
    const r = await s.exec(unlessRefused(ip, port, etcdctl(etcd.tls, [clientUrl(ip, port)], ['endpoint', 'health', '-w', 'json'], { timeoutSeconds: seconds })), { timeoutMs: 15_000, signal });
    // A member still starting (or down) refuses its client port: said at once, not after the dial timeout.
    if (wasRefused(r.stdout)) return `connection refused on ${ip}:${port}`;
    let healthy = false;
    try { healthy = parseEndpointHealth(r.stdout)[0]?.healthy === true; } catch { /* no JSON: not healthy */ }
    return healthy ? undefined : r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
  };
  const until = Date.now() + waitMs;
  let tries = 0;
  while (Date.now() + HEALTH_POLL_MS < until) {
    tries++;
    // 1 s, then 2 s, then the full 3 s: a loaded host whose healthy answer takes more than a
    // second costs one short failed check, not the whole wait.
    const why = await check(Math.min(tries, 3));
    if (why === undefined) return { healthy: true };
    reportProgress({ waiting: `${host.name} to answer healthy`, tries, last: why });
    await delay(HEALTH_POLL_MS, undefined, { signal });
  }
  const why = await check(3);
  if (why === undefined) return { healthy: true };
  throw ApplicationFailure.retryable(`${host.name} is not healthy yet: ${why}`, 'NotHealthyYet');
}
