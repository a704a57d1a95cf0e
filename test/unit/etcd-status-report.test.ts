// etcd-status's conclusions from probe results, and etcdctl's JSON as etcd 3.4 really prints it
// (uint64 IDs beyond Number.MAX_SAFE_INTEGER, no "leader" key when there is none).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EtcdMemberStatus } from '../../activities/etcd/status.js';
import { reasonOf } from '../../activities/etcd/status.js';
import { parseEndpointStatus, parseMemberList } from '../../activities/etcd-recovery/etcdctl.js';
import { bytes, etcdStatusFindings, renderEtcdStatusTable } from '../../workflows/etcd-status-report.js';

const list = (names: string[], extra: { id: string; name: string; isLearner: boolean }[] = []) => [
  ...names.map((n, i) => ({ id: `a${i}`, name: n, peerURLs: [], clientURLs: [], isLearner: false })),
  ...extra.map((m) => ({ ...m, peerURLs: [], clientURLs: [] })),
];
const probe = (name: string, o: Partial<EtcdMemberStatus> = {}): EtcdMemberStatus => ({
  name, ip: `10.0.0.${name.slice(-1)}`, endpoint: `https://10.0.0.${name.slice(-1)}:2379`, reachable: true, healthy: true, isLeader: false,
  answered: true, errors: [], clusterId: 'c1', memberId: `a${Number(name.slice(-1)) - 1}`, raftTerm: 2, raftIndex: 9, revision: 1, dbSize: 20480, version: '3.4.23',
  memberList: list(['etcd-1', 'etcd-2', 'etcd-3']), ...o,
});

describe('etcd-status report', () => {
  it('a healthy cluster has no findings and a row per member', () => {
    const probes = [probe('etcd-1', { isLeader: true }), probe('etcd-2'), probe('etcd-3')];
    assert.deepEqual(etcdStatusFindings(probes), []);
    const table = renderEtcdStatusTable(probes).split('\n');
    assert.equal(table.length, 5);
    assert.equal(table[2], '| etcd-1 | https://10.0.0.1:2379 | healthy | leader | 2 | 9 | 1 | 20 KiB | 3.4.23 | a0 |');
    assert.match(table[3]!, /\| etcd-2 \| .* \| healthy \| follower \|/);
  });

  it('a dead member, a host without SSH, a learner and a stranger are each a finding', () => {
    const members = list(['etcd-1', 'etcd-2', 'etcd-3'], [{ id: 'ff', name: 'etcd-9', isLearner: true }, { id: 'ee', name: '', isLearner: false }]);
    const probes = [
      probe('etcd-1', { isLeader: true, memberList: members }),
      probe('etcd-2', { healthy: false, answered: false, problem: 'connect: connection refused', memberList: undefined, raftTerm: undefined }),
      probe('etcd-3', { reachable: false, healthy: false, answered: false, problem: 'connect ECONNREFUSED', memberList: undefined }),
    ];
    assert.deepEqual(etcdStatusFindings(probes), [
      'etcd-2: etcd not healthy (connect: connection refused)',
      'etcd-3: host unreachable over SSH (connect ECONNREFUSED)',
      'no quorum: 1 of 3 members healthy, 2 needed',
      'etcd-9 is a learner (not voting)',
      'member ee was added but never started',
      'etcd-9 (ff) is a member but not in the inventory',
    ]);
    assert.match(renderEtcdStatusTable(probes), /\| etcd-2 \| https:\/\/10\.0\.0\.2:2379 \| \*\*unhealthy\*\* \|  \|  \|/);
    assert.match(renderEtcdStatusTable(probes), /\| etcd-3 \| .* \| \*\*unreachable\*\* \|/);
  });

  it('a member without a leader says so; a member missing from the list is named', () => {
    const probes = [
      probe('etcd-1', { healthy: false, errors: ['etcdserver: no leader'], memberList: list(['etcd-1', 'etcd-2']) }),
      probe('etcd-2', { healthy: false, answered: false, memberList: undefined }),
      probe('etcd-3', { healthy: false, answered: false, memberList: undefined }),
    ];
    const f = etcdStatusFindings(probes);
    assert.ok(f.includes('etcd-1 reports: etcdserver: no leader'));
    assert.ok(f.includes('no quorum: 0 of 3 members healthy, 2 needed, no leader'));
    assert.ok(f.includes('etcd-3 is in the inventory but not in the member list'));
  });

  it('etcd 3.4 JSON: uint64 IDs stay exact (as hex), a missing leader is no leader', () => {
    const status = parseEndpointStatus('[{"Endpoint":"https://127.21.0.11:2379","Status":{"header":{"cluster_id":3517758728033772343,"member_id":18351827913995851066,"revision":1,"raft_term":3},"version":"3.4.23","dbSize":20480,"raftIndex":9,"raftTerm":3,"raftAppliedIndex":9,"errors":["etcdserver: no leader"],"dbSizeInUse":16384}}]')[0]!;
    assert.equal(status.memberId, (18351827913995851066n).toString(16));
    assert.equal(status.clusterId, (3517758728033772343n).toString(16));
    assert.equal(status.leaderId, undefined);
    assert.deepEqual(status.errors, ['etcdserver: no leader']);
    const members = parseMemberList('{"header":{"cluster_id":3517758728033772343,"member_id":1,"raft_term":2},"members":[{"ID":18351827913995851066,"name":"etcd-2","peerURLs":["https://127.21.0.12:2380"],"clientURLs":["https://127.21.0.12:2379"]}]}');
    assert.equal(members.members[0]?.id, (18351827913995851066n).toString(16));
    assert.notEqual(members.members[0]?.id, Number('18351827913995851066').toString(16), 'a JS number would have rounded it');
  });

  it('the reason for an unhealthy member is etcdctl\'s own short one', () => {
    const stderr = '{"level":"warn","msg":"retrying of unary invoker failed","error":"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = \\"transport: Error while dialing dial tcp 127.21.0.13:2379: connect: connection refused\\""}\nError: unhealthy cluster';
    assert.equal(reasonOf('[{"endpoint":"https://127.21.0.13:2379","health":false,"error":"context deadline exceeded"}]', stderr), 'connect: connection refused');
    assert.equal(reasonOf('[{"endpoint":"x","health":false,"error":"context deadline exceeded"}]', 'Error: unhealthy cluster'), 'context deadline exceeded');
    assert.equal(reasonOf('', ''), 'no answer');
  });

  it('sizes read like people write them', () => {
    assert.deepEqual([bytes(512), bytes(20480), bytes(3 * 1024 * 1024)], ['512 B', '20 KiB', '3.0 MiB']);
  });
});
