// The /readyz probe's reading of curl and its verdicts, with curl's answers scripted (the command
// runner below stands in for the SSH session; the probe against a real kube-apiserver over real SSH
// is test/lab/apiserver-readyz.test.ts). Here: the cases a real apiserver is hard to make give on
// demand (401 to the end, a certificate that does not verify, no curl, a bad Retry-After).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/activity';
import type { ExecResult } from '../../activities/ssh/session.js';
import { failedChecks, parseReadyzAnswer, readyzCommand, waitForReadyz, type CommandRunner } from '../../activities/control-plane/readyz.js';

const http = (status: number, body: string, headers: Record<string, string> = {}): ExecResult => ({
  code: 0, stderr: '',
  stdout: `HTTP/2 ${status}\r\n${Object.entries({ 'content-type': 'text/plain', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`,
});
const curlFailed = (code: number, stderr: string): ExecResult => ({ code, stdout: '', stderr });

/** Answers in turn (the last one repeats), recording each command. */
function scripted(...answers: ExecResult[]): CommandRunner & { commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    exec(command: string) {
      commands.push(command);
      return Promise.resolve(answers[Math.min(commands.length - 1, answers.length - 1)]!);
    },
  };
}

const target = { host: 'master-1', ip: '10.0.1.21' };
const opts = (timeoutMs = 50) => ({ timeoutMs, intervalMs: 5, signal: new AbortController().signal });

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  }
  return assert.fail('expected a failure');
}

describe('the /readyz probe', () => {
  it('the command: curl with the cluster CA, bounded, every value quoted, no --insecure', () => {
    assert.equal(readyzCommand(target), "curl --silent --show-error --max-time '5' --cacert '/etc/kubernetes/pki/ca.crt' --dump-header - 'https://10.0.1.21:6443/readyz?verbose'");
  });

  it('reads the status, headers and the failed checks of a verbose answer', () => {
    const a = parseReadyzAnswer(http(500, '[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\nreadyz check failed\n', { 'Retry-After': '3' }));
    assert.equal(a.kind, 'http');
    assert.equal(a.kind === 'http' && a.status, 500);
    assert.equal(a.kind === 'http' && a.headers['retry-after'], '3');
    assert.deepEqual(failedChecks(a.kind === 'http' ? a.body : ''), ['etcd failed: reason withheld']);
    assert.deepEqual(parseReadyzAnswer(curlFailed(7, 'curl: (7) Failed to connect')), { kind: 'curl', exitCode: 7, message: 'curl: (7) Failed to connect' });
  });

  it('not ready, then 200: returns after asking again', async () => {
    const run = scripted(curlFailed(7, 'curl: (7) Failed to connect'), http(500, '[-]etcd failed: reason withheld\n'), http(200, 'ok'));
    const r = await waitForReadyz(run, target, opts(5000));
    assert.equal(r.probes, 3);
    assert.equal(r.url, 'https://10.0.1.21:6443/readyz?verbose');
  });

  it('never ready within the bound: retryable ApiserverNotReady with the failing checks', async () => {
    const f = await failure(waitForReadyz(scripted(http(500, '[-]etcd failed: reason withheld\n[-]poststarthook/rbac failed\n')), target, opts()));
    assert.equal(f.type, 'ApiserverNotReady');
    assert.equal(f.nonRetryable, false);
    assert.match(f.message, /last answer: HTTP 500: etcd failed: reason withheld; poststarthook\/rbac failed$/);
  });

  it('429 with Retry-After: nextRetryDelay as asked (at least 1 s, capped at 5 min); without it, asked again', async () => {
    const busy = await failure(waitForReadyz(scripted(http(429, 'Too many requests', { 'Retry-After': '2' })), target, opts()));
    assert.deepEqual([busy.type, busy.nonRetryable, busy.nextRetryDelay], ['ApiserverBusy', false, 2000]);
    const long = await failure(waitForReadyz(scripted(http(503, '', { 'Retry-After': '86400' })), target, opts()));
    assert.equal(long.nextRetryDelay, 5 * 60_000);
    const noHeader = scripted(http(503, ''), http(200, 'ok'));
    assert.equal((await waitForReadyz(noHeader, target, opts(5000))).probes, 2);
  });

  it('anonymous access refused to the end: non-retryable, naming the setting to change', async () => {
    const f = await failure(waitForReadyz(scripted(http(401, 'Unauthorized')), target, opts()));
    assert.deepEqual([f.type, f.nonRetryable], ['ApiserverProbeRefused', true]);
    assert.match(f.message, /refused an anonymous request .*allow anonymous GET \/readyz/);
    // A brief 403 while the apiserver's RBAC caches fill is waited out.
    assert.equal((await waitForReadyz(scripted(http(403, 'Forbidden'), http(200, 'ok')), target, opts(5000))).probes, 2);
  });

  it('what waiting cannot fix fails at once: no curl, an unreadable CA, a certificate that does not verify', async () => {
    const noCurl = await failure(waitForReadyz(scripted(curlFailed(127, 'sh: 1: curl: not found')), target, opts(5000)));
    assert.deepEqual([noCurl.type, noCurl.nonRetryable], ['ProbeToolMissing', true]);
    assert.match(noCurl.message, /install curl on the masters/);
    const ca = await failure(waitForReadyz(scripted(curlFailed(77, 'curl: (77) error setting certificate file')), target, opts(5000)));
    assert.match(ca.message, /kubeadm writes it at \/etc\/kubernetes\/pki\/ca\.crt/);
    const san = await failure(waitForReadyz(scripted(curlFailed(60, 'curl: (60) SSL: no alternative certificate subject name matches')), target, opts(5000)));
    assert.deepEqual([san.type, san.nonRetryable], ['ApiserverProbeRefused', true]);
    assert.match(san.message, /advertise address/);
  });
});
