// expectEtcdHealthy waits for a just-started member inside one attempt (issue 14: the majority's
// first grown member failed one 3 s check into WAIT's backoff in every bench round). The SSH
// session is a SIMULATED one answering `etcdctl endpoint health` with etcd's real JSON; the real
// thing runs in test/e2e/recover-etcd.test.ts and the recovery bench.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitEtcdHealthy } from '../../activities/etcd-recovery/health-wait.js';
import type { SshSession } from '../../activities/ssh/session.js';
import type { EtcdSettings } from '../../activities/etcd-recovery/context.js';

const etcd: EtcdSettings = {
  tls: { caCert: '/etc/etcd/ssl/ca.pem', clientCert: '/etc/etcd/ssl/client.pem', clientKey: '/etc/etcd/ssl/client-key.pem' },
  clientPort: 2379, peerPort: 2380, dataDir: '/var/lib/etcd', configPath: '/etc/etcd/etcd.conf.yaml',
  serverCert: '/etc/etcd/ssl/server.pem', serverKey: '/etc/etcd/ssl/server-key.pem', peerCert: '/etc/etcd/ssl/peer.pem', peerKey: '/etc/etcd/ssl/peer-key.pem',
};
const host = { name: 'etcd-2', ip: '10.0.0.2', sshPort: 22, where: 'etcd.members[1]' };
const HEALTHY = '[{"endpoint":"https://10.0.0.2:2379","health":true,"took":"3ms"}]\n';
const NOT_READY = '[{"endpoint":"https://10.0.0.2:2379","health":false,"took":"1s","error":"context deadline exceeded"}]\n';

/** SIMULATED session: the first `failures` health checks time out (not ready), then healthy. */
function simulated(failures: number) {
  const commands: string[] = [];
  let left = failures;
  const s = {
    target: { name: 'etcd-2' },
    exec: async (cmd: string) => {
      commands.push(cmd);
      if (left-- > 0) return { code: 1, stdout: NOT_READY, stderr: 'Error: unhealthy cluster\n' };
      return { code: 0, stdout: HEALTHY, stderr: '' };
    },
  };
  const timeouts = () => commands.map((c) => /--command-timeout='?(\d+)s/.exec(c)?.[1]);
  return { s: s as unknown as SshSession, commands, timeouts };
}

describe('waitEtcdHealthy: a member not ready yet is asked again inside the attempt', () => {
  it('not ready twice, then healthy, in one attempt, the checks timeouts growing 1 s, 2 s, 3 s', async () => {
    const { s, commands, timeouts } = simulated(2);
    assert.deepEqual(await waitEtcdHealthy(s, etcd, host, new AbortController().signal), { healthy: true });
    assert.equal(commands.length, 3);
    assert.deepEqual(timeouts(), ['1', '2', '3']);
  });

  it('still not ready when the wait runs out: one last check with the full 3 s timeouts, then a retryable NotHealthyYet', async () => {
    const { s, timeouts } = simulated(1000);
    await assert.rejects(waitEtcdHealthy(s, etcd, host, new AbortController().signal, 600),
      (e: Error & { type?: string; nonRetryable?: boolean }) => e.type === 'NotHealthyYet' && e.nonRetryable === false && /unhealthy cluster/.test(e.message));
    const t = timeouts();
    assert.equal(t.at(-1), '3', 'the last check is the one the activity always made');
    assert.ok(t.length >= 2 && t[0] === '1', JSON.stringify(t));
  });

  it('a member healthy but slower than the quick checks is still found healthy by the last, full check', async () => {
    const { s, timeouts } = simulated(0);
    // SIMULATED slow member: the 1 s and 2 s checks time out, a 3 s check gets the answer.
    const exec = s.exec.bind(s);
    (s as unknown as { exec: typeof exec }).exec = async (cmd, o) => (!cmd.includes("--command-timeout='3s'") ? { code: 1, stdout: NOT_READY, stderr: 'Error: context deadline exceeded\n' } : exec(cmd, o));
    assert.deepEqual(await waitEtcdHealthy(s, etcd, host, new AbortController().signal, 600), { healthy: true });
    assert.equal(timeouts().at(-1), '3');
  });
});
