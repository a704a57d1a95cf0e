import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assess, followerRecoveryVerdict, initialCluster, majorityRecoveryVerdict, quorumLostConfirmed, quorumOf, type MemberView } from '../../workflows/etcd-recovery/assessment.js';

const view = (name: string, healthy: boolean, extra: Partial<MemberView> = {}): MemberView => ({
  name, ip: `10.0.0.${name.slice(-1)}`, reachable: healthy, healthy, isLeader: false, clusterId: 'c1', ...extra,
});

describe('etcd cluster assessment', () => {
  it('quorum sizes', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 7].map(quorumOf), [1, 2, 2, 3, 3, 4]);
  });

  it('healthy cluster with one leader has quorum', () => {
    const a = assess([view('e1', true, { isLeader: true }), view('e2', true), view('e3', true)]);
    assert.deepEqual([a.quorum, a.leader, a.failed], [true, 'e1', []]);
  });

  it('one failed follower: follower recovery allowed for it, refused for a healthy one, majority refused', () => {
    const a = assess([view('e1', true, { isLeader: true }), view('e2', false), view('e3', true)]);
    assert.equal(a.quorum, true);
    assert.deepEqual(followerRecoveryVerdict(a, 'e2'), { ok: true });
    const healthy = followerRecoveryVerdict(a, 'e3');
    assert.ok(!healthy.ok && /e3 is healthy/.test(healthy.reason));
    const majority = majorityRecoveryVerdict(a);
    assert.ok(!majority.ok && /quorum is intact \(2 of 3 healthy, leader e1\)/.test(majority.reason));
    const unknown = followerRecoveryVerdict(a, 'e9');
    assert.ok(!unknown.ok && /not an etcd member/.test(unknown.reason));
  });

  it('majority lost: follower recovery refused and pointed to majority recovery', () => {
    const a = assess([view('e1', true), view('e2', false), view('e3', false)]);
    assert.equal(a.quorum, false);
    const v = followerRecoveryVerdict(a, 'e2');
    assert.ok(!v.ok && /quorum is lost \(1 of 3 healthy, 2 needed\).*recover etcd majority/.test(v.reason));
    assert.deepEqual(majorityRecoveryVerdict(a), { ok: true });
  });

  it('no leader among healthy members is not a quorum (election in progress or split)', () => {
    const a = assess([view('e1', true), view('e2', true), view('e3', false)]);
    assert.equal(a.quorum, false);
  });

  it('healthy members with different cluster IDs block membership changes', () => {
    const a = assess([view('e1', true, { isLeader: true }), view('e2', true, { clusterId: 'c2' }), view('e3', false), view('e4', true), view('e5', true)]);
    const v = followerRecoveryVerdict(a, 'e3');
    assert.ok(!v.ok && /disagree on the cluster ID \(c1, c2\)/.test(v.reason));
  });

  it('quorum loss is confirmed only by repeated probes that all agree', () => {
    const lost = assess([view('e1', true), view('e2', false), view('e3', false)]);
    const fine = assess([view('e1', true, { isLeader: true }), view('e2', true), view('e3', false)]);
    assert.equal(quorumLostConfirmed([lost], 3), false);
    assert.equal(quorumLostConfirmed([lost, fine, lost], 3), false);
    assert.equal(quorumLostConfirmed([lost, lost, lost], 3), true);
  });

  it('initial-cluster strings', () => {
    assert.equal(initialCluster([{ name: 'etcd-1', ip: '192.168.0.10' }, { name: 'etcd-2', ip: '192.168.0.11' }], 2380),
      'etcd-1=https://192.168.0.10:2380,etcd-2=https://192.168.0.11:2380');
  });
});

describe('run tags for moved-aside data', () => {
  it('differ for two runs started the same minute (UUIDv7 run IDs share their time prefix)', async () => {
    const { runTag } = await import('../../workflows/etcd-recovery/target.js');
    const a = runTag('ops/lab', '01a20c7e-1111-7aaa-8bbb-0123456789ab');
    const b = runTag('ops/lab', '01a20c7e-2222-7ccc-9ddd-ba9876543210');
    assert.notEqual(a, b);
    assert.match(a, /^mooring-ops-lab-[0-9a-f]{12}$/);
  });
});
