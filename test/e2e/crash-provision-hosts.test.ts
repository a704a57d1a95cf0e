// Crash sample of provision's host phase (the fixed CI sample of provision-hosts.crash.ts, whose
// harness it runs): seed 001's shape behind the SIMULATED OpenStack fake on real lab nodes (real
// sshd, etcd, HAProxy, keepalived, kubeadm, kube-apiserver), the worker process SIGKILLed right
// after the first control-plane join (master-2) completed, before the workflow could act on it; a
// new worker finishes the run. Checked: the smoke lines, 4 nodes Ready on the pinned release
// through the VIP, 3 healthy etcd members of one cluster, one gateway holding the VIP, kubeadm init
// once and one join per other node, exactly one of every cloud resource. netns tag hs, lan 27,
// loopback 127.82.0 (its own, so it can run beside the matrix; shared with `npm run test:provision`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crashHostsAt, setUpHostCrash, tearDownHostCrash, type HostCrashEnv } from '../crash/provision-hosts-crash.js';

/** provisionHosts' 20th activity: joinNode of master-2, the first control-plane join (provision-hosts-crash.ts). */
const AFTER_FIRST_CONTROL_PLANE_JOIN = 20;

describe('crash: kill -9 the worker in provision\'s host phase, right after the first control-plane join (seed 001 on real lab nodes)', { timeout: 900_000 }, () => {
  let e: HostCrashEnv | undefined;
  before(async () => { e = await setUpHostCrash({ tag: 'hs', lan: 27, loopback: '127.82.0' }); });
  after(async () => { await tearDownHostCrash(e); });

  it('a new worker finishes: the same healthy cluster, no second kubeadm init or join, no duplicate cloud resource', async (t) => {
    const { killedAfter, total, seconds, slowest, stillAfterKill } = await crashHostsAt(e!, AFTER_FIRST_CONTROL_PLANE_JOIN);
    t.diagnostic(`killed after ${killedAfter} of ${total} host-phase activities; seconds: ${JSON.stringify(seconds)}; still ${stillAfterKill} s after the kill; slowest: ${slowest.join(', ')}`);
    assert.equal(killedAfter, AFTER_FIRST_CONTROL_PLANE_JOIN, 'the joins run one at a time: nothing else completed with it');
  });
});
