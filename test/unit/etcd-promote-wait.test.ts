// promoteLearner waits for a learner to catch up inside one attempt (issue 14: failing at once cost
// a whole retry backoff). The SSH session is a SIMULATED one that answers etcdctl's member list and
// member promote with etcd's real output shapes and messages; the real thing runs in
// test/e2e/recover-etcd.test.ts and the recovery bench.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addLearner, promoteLearner } from '../../activities/etcd-recovery/membership.js';
import type { SshSession } from '../../activities/ssh/session.js';
import type { EtcdSettings } from '../../activities/etcd-recovery/context.js';

const etcd: EtcdSettings = {
  tls: { caCert: '/etc/etcd/ssl/ca.pem', clientCert: '/etc/etcd/ssl/client.pem', clientKey: '/etc/etcd/ssl/client-key.pem' },
  clientPort: 2379, peerPort: 2380, dataDir: '/var/lib/etcd', configPath: '/etc/etcd/etcd.conf.yaml',
  serverCert: '/etc/etcd/ssl/server.pem', serverKey: '/etc/etcd/ssl/server-key.pem', peerCert: '/etc/etcd/ssl/peer.pem', peerKey: '/etc/etcd/ssl/peer-key.pem',
};
// etcd's member list JSON: IDs are uint64 numbers (255 = "ff").
const LIST = (learner: boolean) => `{"header":{"cluster_id":17,"member_id":1},"members":[{"ID":1,"name":"etcd-1","peerURLs":["https://10.0.0.1:2380"]},{"ID":255,"name":"etcd-2","peerURLs":["https://10.0.0.2:2380"],"isLearner":${learner}}]}`;
const NOT_READY = 'Error: etcdserver: can only promote a learner member which is in sync with leader\n';

/** SIMULATED session: `member promote` is refused `refusals` times, then succeeds. */
function simulated(refusals: number, otherError?: string) {
  const commands: string[] = [];
  let left = refusals;
  const s = {
    target: { name: 'etcd-1' },
    run: async (cmd: string) => { commands.push(cmd); return LIST(true); },
    exec: async (cmd: string) => {
      commands.push(cmd);
      if (otherError) return { code: 1, stdout: '', stderr: otherError };
      if (left-- > 0) return { code: 1, stdout: '', stderr: NOT_READY };
      return { code: 0, stdout: 'Member ff promoted in cluster 11\n', stderr: '' };
    },
  };
  return { s: s as unknown as SshSession, promotes: () => commands.filter((c) => c.includes("'promote'")).length };
}

describe('promoteLearner polls a learner that is not in sync yet', () => {
  it('refused twice, then promoted, in one attempt', async () => {
    const { s, promotes } = simulated(2);
    const started = Date.now();
    assert.deepEqual(await promoteLearner(s, etcd, ['https://10.0.0.1:2379'], 'ff', new AbortController().signal), { promoted: true });
    assert.equal(promotes(), 3);
    assert.ok(Date.now() - started >= 400, 'waited between the tries');
  });

  it('still behind when the bound runs out: a retryable LearnerNotReady for Temporal\'s backoff', async () => {
    const { s, promotes } = simulated(1000);
    await assert.rejects(promoteLearner(s, etcd, ['https://10.0.0.1:2379'], 'ff', new AbortController().signal, 600),
      (e: Error & { type?: string; nonRetryable?: boolean }) => e.type === 'LearnerNotReady' && e.nonRetryable === false);
    assert.ok(promotes() >= 2 && promotes() <= 4, `tried ${promotes()} times within 600 ms`);
  });

  it('any other refusal is not waited on', async () => {
    const { s, promotes } = simulated(0, 'Error: etcdserver: permission denied\n');
    await assert.rejects(promoteLearner(s, etcd, ['https://10.0.0.1:2379'], 'ff', new AbortController().signal), /member promote ff failed: Error: etcdserver: permission denied/);
    assert.equal(promotes(), 1);
  });

  it('cancellation stops the wait', async () => {
    const { s } = simulated(1000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(promoteLearner(s, etcd, ['https://10.0.0.1:2379'], 'ff', ac.signal), /abort/i);
  });
});

// addLearner: etcd's strict reconfiguration check refuses `member add` as "unhealthy cluster" until the
// leader has heard from every voting member for 5 s (right after an election: the leader recovery).
const UNHEALTHY = '{"level":"warn","msg":"retrying of unary invoker failed"}\nError: etcdserver: unhealthy cluster\n';
const ADDED = '{"header":{"cluster_id":17,"member_id":1},"member":{"ID":4095,"peerURLs":["https://10.0.0.3:2380"],"isLearner":true},"members":[]}';

/** SIMULATED session: `member add` is refused `refusals` times, then adds. */
function simulatedAdd(refusals: number, otherError?: string) {
  const commands: string[] = [];
  let left = refusals;
  const s = {
    target: { name: 'etcd-1' },
    run: async (cmd: string) => { commands.push(cmd); return LIST(false); },
    exec: async (cmd: string) => {
      commands.push(cmd);
      if (otherError) return { code: 1, stdout: '', stderr: otherError };
      if (left-- > 0) return { code: 1, stdout: '', stderr: UNHEALTHY };
      return { code: 0, stdout: ADDED, stderr: '' };
    },
  };
  return { s: s as unknown as SshSession, adds: () => commands.filter((c) => c.includes("'add'")).length };
}
const who = { name: 'etcd-3', ip: '10.0.0.3' };

describe('addLearner asks again while etcd refuses as "unhealthy cluster"', () => {
  it('refused twice, then added, in one attempt', async () => {
    const { s, adds } = simulatedAdd(2);
    const r = await addLearner(s, etcd, ['https://10.0.0.1:2379'], who, new AbortController().signal);
    assert.deepEqual(r, { id: 'fff', alreadyPresent: false, isLearner: true });
    assert.equal(adds(), 3);
  });

  it('still refused when the bound runs out: a retryable ClusterNotReady', async () => {
    const { s, adds } = simulatedAdd(1000);
    await assert.rejects(addLearner(s, etcd, ['https://10.0.0.1:2379'], who, new AbortController().signal, 600),
      (e: Error & { type?: string; nonRetryable?: boolean }) => e.type === 'ClusterNotReady' && e.nonRetryable === false);
    assert.ok(adds() >= 2 && adds() <= 4, `tried ${adds()} times within 600 ms`);
  });

  it('any other failure is not asked again in the attempt (the retry looks before it acts)', async () => {
    const { s, adds } = simulatedAdd(0, 'Error: context deadline exceeded\n');
    await assert.rejects(addLearner(s, etcd, ['https://10.0.0.1:2379'], who, new AbortController().signal), /member add etcd-3 failed: Error: context deadline exceeded/);
    assert.equal(adds(), 1);
  });
});
