// The majority confirmation's probe (observe.ts, leaderlessAtOnce), run for real with the machine's
// sh and bash against a SIMULATED etcdctl (a shell script on PATH that answers `endpoint status`
// and `endpoint health` the way etcdctl does, as each case needs). What it must show: only a
// member's own "leader 0" answer is taken at once; a member that is merely slow, or whose status
// fails, goes on to the same `endpoint health` check as before, and so is never taken for lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { belowQuorum, judgeObservation, observeCommand, type ObserveOptions } from '../../activities/etcd-recovery/observe.js';
import type { EtcdTarget, MemberView } from '../../activities/etcd-recovery/context.js';

// etcdctl's compact JSON (uint64 IDs as decimal), as etcd 3.4's `endpoint status -w json` prints
// it (copied from a real 3.4.23 member: with no leader the "leader" field is left out and
// "errors" says so; '0' is also accepted, as another version might print it).
const statusJson = (leader: string) => `[{"Endpoint":"https://127.0.0.1:2379","Status":{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":42,"raft_term":7},"version":"3.4.30","dbSize":20480,${leader === 'none' ? '' : `"leader":${leader},`}"raftIndex":50,"raftTerm":7,"raftAppliedIndex":50,${leader === 'none' ? '"errors":["etcdserver: no leader"],' : ''}"dbSizeInUse":20480}}]`;
const MEMBER_ID = '10276657743932975437';

/** SIMULATED etcdctl: FAKE_STATUS = leader | noleader | leader0 | slow | fail | fail-once, FAKE_HEALTH = ok | fail; every call logged. */
const FAKE_ETCDCTL = `#!/bin/sh
case "$*" in
  *'endpoint status'*) echo status >> "$FAKE_LOG"
    case "$FAKE_STATUS" in
      leader) echo '${statusJson(MEMBER_ID)}' ;;
      noleader) echo '${statusJson('none')}' ;;
      leader0) echo '${statusJson('0')}' ;;
      slow) sleep 1; echo '${statusJson(MEMBER_ID)}' ;;
      fail) echo 'context deadline exceeded' >&2; exit 1 ;;
      fail-once) if [ -e "$FAKE_LOG.once" ]; then echo '${statusJson(MEMBER_ID)}'; else touch "$FAKE_LOG.once"; echo 'context deadline exceeded' >&2; exit 1; fi ;;
    esac ;;
  *'endpoint health'*) echo health >> "$FAKE_LOG"
    case "$FAKE_HEALTH" in
      ok) echo '[{"endpoint":"https://127.0.0.1:2379","health":true,"took":"2ms"}]' ;;
      *) echo '[{"endpoint":"https://127.0.0.1:2379","health":false,"error":"context deadline exceeded"}]'; exit 1 ;;
    esac ;;
esac
`;

describe('observeCommand with leaderlessAtOnce: "no leader" at once, everything else judged by health as before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mooring-observe-'));
  let srv: Server;
  let port = 0;
  before(async () => {
    writeFileSync(join(dir, 'etcdctl'), FAKE_ETCDCTL);
    chmodSync(join(dir, 'etcdctl'), 0o755);
    // Something listens on the client port, so the refused-port check lets etcdctl run.
    srv = createServer((c) => c.end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    port = (srv.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => srv.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (): EtcdTarget => ({
    ssh: { user: 'root', privateKey: { env: 'UNUSED' }, connectTimeoutSeconds: 5 } as unknown as EtcdTarget['ssh'],
    etcd: { tls: { caCert: '/etc/etcd/ssl/ca.pem', clientCert: '/etc/etcd/ssl/c.pem', clientKey: '/etc/etcd/ssl/c-key.pem' }, clientPort: port, peerPort: 2380, dataDir: '/var/lib/etcd', configPath: '/etc/etcd/etcd.conf.yaml', serverCert: '', serverKey: '', peerCert: '', peerKey: '' },
  });
  const base: MemberView = { name: 'e1', ip: '127.0.0.1', reachable: false, healthy: false, isLeader: false };

  /** Runs the probe as a member host would (async: the test's own event loop accepts the connect). */
  async function probe(status: string, health: string, leaderlessAtOnce = true, opts: ObserveOptions = { leaderlessAtOnce }) {
    const log = join(dir, `log-${status}-${health}-${JSON.stringify(opts).replace(/\W/g, '')}`);
    writeFileSync(log, '');
    const started = Date.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      const p = spawn('sh', ['-c', observeCommand(target(), { name: 'e1', ip: '127.0.0.1', sshPort: 22, where: 'etcd[0]' }, opts)], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_STATUS: status, FAKE_HEALTH: health, FAKE_LOG: log },
      });
      let out = '';
      p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      p.on('error', reject);
      p.on('close', () => resolve(out));
    });
    return { view: judgeObservation(base, stdout), calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), ms: Date.now() - started };
  }

  it('a member answering status with leader 0: unhealthy, noLeader, and health never asked', async () => {
    const r = await probe('noleader', 'ok');
    assert.deepEqual(r.calls, ['status']);
    assert.equal(r.view.healthy, false);
    assert.equal(r.view.noLeader, true);
    assert.equal(r.view.reachable, true);
    assert.equal(r.view.raftTerm, 7);
    const zero = await probe('leader0', 'ok');
    assert.deepEqual(zero.calls, ['status']);
    assert.equal(zero.view.noLeader, true);
  });

  it('a member with a leader: health is asked, healthy, the status taken before it is reported', async () => {
    const r = await probe('leader', 'ok');
    assert.deepEqual(r.calls, ['status', 'health']);
    assert.equal(r.view.healthy, true);
    assert.equal(r.view.isLeader, true);
    assert.equal(r.view.noLeader, undefined);
    assert.equal(r.view.revision, 42);
  });

  it('a merely slow member (status takes 1 s, then names a leader) is healthy, not lost', async () => {
    const r = await probe('slow', 'ok');
    assert.deepEqual(r.calls, ['status', 'health']);
    assert.equal(r.view.healthy, true);
    assert.ok(r.ms >= 1000, `the probe waited for the slow answer (${r.ms} ms)`);
  });

  it('a status that fails (timeout) goes on to health as before: healthy if health says so, status asked again for the view', async () => {
    const r = await probe('fail-once', 'ok');
    assert.deepEqual(r.calls, ['status', 'health', 'status']);
    assert.equal(r.view.healthy, true);
    assert.equal(r.view.noLeader, undefined);
    const bad = await probe('fail', 'fail');
    assert.deepEqual(bad.calls, ['status', 'health']);
    assert.equal(bad.view.healthy, false);
    assert.equal(bad.view.noLeader, undefined, 'a failed status is never read as "no leader"');
  });

  it('a leader ID that merely starts with 0-like digits is not "leader 0"', async () => {
    const r = judgeObservation(base, `--mooring-member-has-no-leader--\n${statusJson(MEMBER_ID)}\n`);
    assert.equal(r.noLeader, undefined, 'the marker alone is not trusted: the parsed leader must be 0');
    assert.equal(r.healthy, false);
  });

  it('without the option the probe is health first, as before (a leaderless member waits for health)', async () => {
    const r = await probe('noleader', 'fail', false);
    assert.deepEqual(r.calls, ['health']);
    assert.equal(r.view.healthy, false);
    assert.equal(r.view.noLeader, undefined);
  });

  it('status only (fewer than a quorum listening): never health; a stale leader named is reported, never healthy', async () => {
    const stale = await probe('leader', 'ok', true, { statusOnly: true });
    assert.deepEqual(stale.calls, ['status']);
    assert.equal(stale.view.healthy, false);
    assert.equal(stale.view.reachable, true);
    assert.equal(stale.view.noLeader, undefined);
    assert.equal(stale.view.raftTerm, 7);
    const none = await probe('noleader', 'ok', true, { statusOnly: true });
    assert.equal(none.view.noLeader, true);
    const failed = await probe('fail', 'ok', true, { statusOnly: true });
    assert.deepEqual(failed.calls, ['status']);
    assert.equal(failed.view.healthy, false);
    assert.equal(failed.view.raftTerm, undefined);
  });
});

describe('belowQuorum: when the health checks of the confirmation can be skipped', () => {
  it('only refused connects count as not serving', () => {
    assert.equal(belowQuorum(['refused', 'refused', 'not refused']), true, '1 of 3 may serve: below quorum 2');
    assert.equal(belowQuorum(['refused', 'not refused', 'not refused']), false, '2 of 3: a quorum may be serving, health decides');
    assert.equal(belowQuorum(['refused', 'unknown', 'not refused']), false, 'an unreachable host may still run a serving member');
    assert.equal(belowQuorum(['refused', 'refused', 'not refused', 'not refused', 'unknown']), false, '3 of 5');
    assert.equal(belowQuorum(['refused', 'refused', 'refused', 'not refused', 'not refused']), true, '2 of 5');
    assert.equal(belowQuorum(['refused']), true);
    assert.equal(belowQuorum(['not refused']), false);
  });
});
