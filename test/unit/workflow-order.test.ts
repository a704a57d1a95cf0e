// Workflow code orders strings by code point, never by the worker's locale.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints } from '../../workflows/runbook/order.js';
import { chooseSnapshot } from '../../workflows/etcd-recovery/snapshot-choice.js';
import { orderCandidates } from '../../workflows/etcd-backup/backup.js';
import type { MemberView } from '../../workflows/etcd-recovery/assessment.js';

const sign = (n: number) => Math.sign(n);

describe('compareCodePoints', () => {
  // Pairs where code-point order is not what a locale-aware collation gives (ICU puts lower case
  // before upper case of the same letter and all letters in alphabetical order; '_' before digits),
  // and one where UTF-16 code units disagree with code points.
  const cases: [string, string, number][] = [
    ['B', 'a', -1], // 0x42 < 0x61; localeCompare says 'a' first
    ['etcd-B', 'etcd-a', -1],
    ['etcd9', 'etcd_1', -1], // '9' 0x39 < '_' 0x5F; ICU sorts punctuation before digits
    ['\uFF5E', '\u{1F600}', -1], // U+FF5E < U+1F600, though its code unit 0xFF5E > 0xD83D
    ['etcd-1', 'etcd-1', 0],
    ['etcd-1', 'etcd-10', -1],
    ['', 'a', -1],
  ];
  for (const [a, b, want] of cases) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => {
      assert.equal(sign(compareCodePoints(a, b)), want);
      assert.equal(sign(compareCodePoints(b, a)), want === 0 ? 0 : -want);
      // The order is what the code points say, independent of locale data.
      const pa = [...a].map((c) => c.codePointAt(0)!);
      const pb = [...b].map((c) => c.codePointAt(0)!);
      const i = pa.findIndex((x, k) => x !== pb[k]);
      const byPoints = i === -1 ? sign(pa.length - pb.length) : pb[i] === undefined ? 1 : sign(pa[i]! - pb[i]!);
      assert.equal(byPoints, want, 'the expected order is the code-point order');
    });
  }
  it('differs from localeCompare where the locale would reorder (what the workflows used before)', () => {
    const names = ['etcd-a', 'etcd-B', 'etcd_1', 'etcd9'];
    assert.deepEqual([...names].sort(compareCodePoints), ['etcd-B', 'etcd-a', 'etcd9', 'etcd_1']);
    assert.notDeepEqual([...names].sort((x, y) => x.localeCompare(y, 'en')), [...names].sort(compareCodePoints));
  });
});

describe('workflow orderings use code-point order', () => {
  it('chooseSnapshot: equal mtimes are broken by host in code-point order', () => {
    const check = (path: string) => ({ path, ok: true, revision: 1, totalKeys: 1, hash: 1, mtime: 100, size: 1 });
    const choice = chooseSnapshot([{ host: 'node-a', checks: [check('/a.db')] }, { host: 'node-B', checks: [check('/b.db')] }]);
    assert.equal(choice?.host, 'node-B');
  });
  it('orderCandidates: equal followers are ordered by name in code-point order', () => {
    const v = (name: string): MemberView => ({ name, ip: '10.0.0.1', reachable: true, healthy: true, isLeader: false, clusterId: 'c', revision: 5 });
    assert.deepEqual(orderCandidates([v('etcd-a'), v('etcd-B')]), ['etcd-B', 'etcd-a']);
  });
});
