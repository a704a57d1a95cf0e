// Is a master's kube-apiserver back after its restart? The container running says nothing about
// the apiserver serving: it may still be replaying its watch caches from etcd. Its own answer does:
// GET /readyz is 200 once every readiness check passes (kubernetes.io/docs/reference/using-api/
// health-checks). Anonymous requests may read it by default: kube-apiserver allows anonymous
// authentication, and the default RBAC role system:public-info-viewer, bound to
// system:unauthenticated, grants GET on /healthz, /livez, /readyz and /version (KEP-789).
//
// Asked on the master itself, over the SSH session Mooring already has (production masters are
// often reachable only through a bastion; the worker may have no route to 6443), with curl and the
// cluster CA that kubeadm lays down, so the apiserver's certificate is verified, not skipped.
import { ApplicationFailure } from '@temporalio/activity';
import { sh } from '../ssh/quote.js';
import type { ExecOptions, ExecResult } from '../ssh/session.js';
import { retryAfterMs } from '../http/retry-after.js';

/** kubeadm's default localAPIEndpoint.bindPort: where each master's own apiserver listens. */
export const APISERVER_PORT = 6443;
/** The cluster CA kubeadm writes on every master (certificatesDir /etc/kubernetes/pki). */
export const CLUSTER_CA = '/etc/kubernetes/pki/ca.crt';
/** A Retry-After longer than this is not waited for inside a control-plane restart. */
export const MAX_READYZ_RETRY_AFTER_MS = 5 * 60_000;

/** What runs the probe: an SSH session to the master (anything with its `exec`). */
export interface CommandRunner {
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
}

export interface ReadyzTarget {
  /** The master's name, for messages. */
  host: string;
  /** The address its apiserver serves on (in its certificate: kubeadm's advertise address). */
  ip: string;
  port?: number;
  caFile?: string;
}

export interface ReadyzOptions {
  /** How long this attempt waits for a 200 before it fails (retryably). */
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  /** Each answer that was not 200, for heartbeats ("503 after 4 s: [-]etcd failed"). */
  onAnswer?: (summary: string) => void;
}

export interface ReadyzResult {
  url: string;
  /** How long this attempt waited for the 200. */
  waitedMs: number;
  probes: number;
}

/** One answer: an HTTP status with its headers and body, or curl's failure (exit code and message). */
export type ReadyzAnswer =
  | { kind: 'http'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'curl'; exitCode: number; message: string };

const CURL_MAX_SECONDS = 5;

/** curl on the master: verified TLS against the cluster CA, headers and body on stdout, bounded. */
export function readyzCommand(t: ReadyzTarget): string {
  const url = readyzUrl(t);
  return sh`curl --silent --show-error --max-time ${CURL_MAX_SECONDS} --cacert ${t.caFile ?? CLUSTER_CA} --dump-header - ${url}`;
}

export const readyzUrl = (t: ReadyzTarget) => `https://${t.ip}:${t.port ?? APISERVER_PORT}/readyz?verbose`;

/** Reads curl's output (headers, a blank line, the body) or its failure. */
export function parseReadyzAnswer(r: ExecResult): ReadyzAnswer {
  if (r.code !== 0) return { kind: 'curl', exitCode: r.code, message: (r.stderr.trim() || r.stdout.trim()).slice(0, 300) };
  const text = r.stdout.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  const [statusLine = '', ...lines] = head.split('\n');
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  if (!Number.isInteger(status)) return { kind: 'curl', exitCode: 0, message: `no HTTP status line in curl's output: ${text.slice(0, 200)}` };
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const at = l.indexOf(':');
    if (at > 0) headers[l.slice(0, at).trim().toLowerCase()] = l.slice(at + 1).trim();
  }
  return { kind: 'http', status, headers, body };
}

/** The readiness checks /readyz?verbose lists as failed ("[-]etcd failed: reason withheld"). */
export const failedChecks = (body: string) => body.split('\n').filter((l) => l.startsWith('[-]')).map((l) => l.slice(3).trim());

function describe(a: ReadyzAnswer): string {
  if (a.kind === 'curl') return `curl exit ${a.exitCode}: ${a.message}`;
  const failed = failedChecks(a.body);
  return `HTTP ${a.status}${failed.length ? `: ${failed.slice(0, 4).join('; ')}${failed.length > 4 ? ` and ${failed.length - 4} more` : ''}` : a.body.trim() ? `: ${a.body.trim().slice(0, 120)}` : ''}`;
}

// curl exit codes that waiting does not change: 2 failed init, 6 cannot resolve, 77 CA file unreadable,
// 60 the server's certificate does not verify against the CA (wrong CA, or an address not in its SANs).
const CURL_FATAL: Record<number, string> = {
  77: `the CA file cannot be read: kubeadm writes it at ${CLUSTER_CA}`,
  60: 'the apiserver\'s certificate does not verify against the cluster CA for this address: check that the inventory\'s address of the master is its advertise address (in the certificate\'s SANs)',
};

/**
 * Asks /readyz until it answers 200, for at most `timeoutMs`. Fails with a retryable
 * ApplicationFailure (ApiserverNotReady, naming the last answer) when time is up; with
 * nextRetryDelay when the apiserver answers 429/503 with Retry-After (it asks to be left alone:
 * the next attempt comes when it said); non-retryably when waiting cannot help (no curl, a CA or
 * certificate that does not verify, anonymous access to /readyz refused until the end).
 */
export async function waitForReadyz(run: CommandRunner, t: ReadyzTarget, o: ReadyzOptions): Promise<ReadyzResult> {
  const url = readyzUrl(t);
  const started = Date.now();
  const interval = o.intervalMs ?? 1000;
  let last: ReadyzAnswer | undefined;
  let probes = 0;
  for (;;) {
    const r = await run.exec(readyzCommand(t), { timeoutMs: (CURL_MAX_SECONDS + 15) * 1000, signal: o.signal });
    probes++;
    if (r.code === 127) {
      throw ApplicationFailure.create({ type: 'ProbeToolMissing', nonRetryable: true, message: `${t.host}: curl is not installed, so ${url} cannot be asked whether the apiserver is ready: install curl on the masters (kubernetes.apiserverReadiness: readyz)` });
    }
    last = parseReadyzAnswer(r);
    if (last.kind === 'http' && last.status === 200) return { url, waitedMs: Date.now() - started, probes };
    const elapsed = Date.now() - started;
    if (last.kind === 'curl' && CURL_FATAL[last.exitCode]) {
      throw ApplicationFailure.create({ type: 'ApiserverProbeRefused', nonRetryable: true, message: `${t.host}: ${url}: ${describe(last)}; ${CURL_FATAL[last.exitCode]}` });
    }
    if (last.kind === 'http' && (last.status === 429 || last.status === 503)) {
      const wait = retryAfterMs(last.headers);
      if (wait !== undefined) {
        throw ApplicationFailure.create({
          type: 'ApiserverBusy', nonRetryable: false, nextRetryDelay: Math.min(Math.max(wait, 1000), MAX_READYZ_RETRY_AFTER_MS),
          message: `${t.host}: ${url} answered ${last.status} with Retry-After ${last.headers['retry-after']}: asking again then`,
        });
      }
    }
    o.onAnswer?.(`${describe(last)} after ${Math.round(elapsed / 1000)} s`);
    if (elapsed + interval > o.timeoutMs) break;
    await sleep(interval, o.signal);
  }
  const waited = Math.round((Date.now() - started) / 1000);
  if (last.kind === 'http' && (last.status === 401 || last.status === 403)) {
    // A freshly started apiserver may refuse briefly before its RBAC caches fill; to the end, it is configuration.
    throw ApplicationFailure.create({
      type: 'ApiserverProbeRefused', nonRetryable: true,
      message: `${t.host}: ${url} refused an anonymous request for ${waited} s (${describe(last)}): allow anonymous GET /readyz (kube-apiserver's default; with --anonymous-auth=false, an AuthenticationConfiguration whose anonymous.conditions list /readyz)`,
    });
  }
  throw ApplicationFailure.create({
    type: 'ApiserverNotReady', nonRetryable: false,
    message: `${t.host}: the kube-apiserver did not answer 200 at ${url} within ${waited} s (${probes} probes); last answer: ${describe(last)}`,
  });
}

/** A pause that ends early, with the signal's reason, when the activity is cancelled. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason as Error); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
