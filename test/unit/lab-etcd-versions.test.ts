// Which etcd a lab member runs: the version strings the Lab and `lab up --etcd` accept, the cache
// set-up fills, and the mixes etcd cannot run as one cluster.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMixable, clusterVersion, resolveEtcd, type EtcdBuild } from '../../lab/etcd-versions.js';
import { cachedEtcdBuilds, findTool } from '../../client/tools.js';

describe('lab etcd versions', () => {
  let cache: string;
  const saved = process.env.XDG_CACHE_HOME;
  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'etcd-versions-'));
    process.env.XDG_CACHE_HOME = cache;
    for (const v of ['3.6.16', '3.5.35', '3.10.0']) {
      mkdirSync(join(cache, 'mooring', 'etcd', v), { recursive: true });
      for (const t of ['etcd', 'etcdctl', 'etcdutl']) writeFileSync(join(cache, 'mooring', 'etcd', v, t), '');
    }
    mkdirSync(join(cache, 'mooring', 'etcd', '.build-3.6.17.abc')); // a build in progress is no release
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it('a minor means its pinned build, an exact version that build; both from the cache', () => {
    assert.deepEqual(resolveEtcd('3.6'), { version: '3.6.16', binDir: join(cache, 'mooring', 'etcd', '3.6.16') });
    assert.deepEqual(resolveEtcd('v3.5'), { version: '3.5.35', binDir: join(cache, 'mooring', 'etcd', '3.5.35') });
    assert.equal(resolveEtcd('3.10.0').version, '3.10.0');
  });

  it('a release that is not built says how to build it', () => {
    assert.throws(() => resolveEtcd('3.6.4'), /etcd 3\.6\.4 is not built .*run `scripts\/build-etcd\.sh 3\.6\.4`/);
    assert.throws(() => resolveEtcd('3.7'), /the lab has 3\.4 \(Debian\) and builds 3\.5 \(3\.5\.35\), 3\.6 \(3\.6\.16\)/);
    assert.throws(() => resolveEtcd('latest'), /not one the lab knows/);
  });

  it('3.4 is the Debian package, without a directory of its own', () => {
    const b = resolveEtcd('3.4');
    assert.match(b.version, /^3\.4\.\d+$/);
    assert.equal(b.binDir, undefined);
  });

  it('members more than one minor apart are refused; the cluster runs at the lowest', () => {
    const of = (o: Record<string, string>) => new Map<string, EtcdBuild>(Object.entries(o).map(([n, version]) => [n, { version }]));
    assert.throws(() => checkMixable(of({ 'etcd-1': '3.4.23', 'etcd-2': '3.6.16' })), /one minor apart.*etcd-1=3\.4\.23, etcd-2=3\.6\.16/);
    assert.doesNotThrow(() => checkMixable(of({ 'etcd-1': '3.5.35', 'etcd-2': '3.6.16', 'etcd-3': '3.6.16' })));
    assert.equal(clusterVersion(of({ 'etcd-1': '3.6.16', 'etcd-2': '3.5.35', 'etcd-3': '3.6.4' })), '3.5.35');
  });

  it('the worker finds a cached etcdutl, the newest release first, after PATH', () => {
    assert.deepEqual(cachedEtcdBuilds().map((d) => d.split('/').pop()), ['3.10.0', '3.6.16', '3.5.35']);
    assert.throws(() => findTool('etcdutl-mooring-test', undefined, cachedEtcdBuilds()), /etcdutl-mooring-test not found/);
    writeFileSync(join(cache, 'mooring', 'etcd', '3.10.0', 'etcdutl-mooring-test'), '');
    assert.equal(findTool('etcdutl-mooring-test', undefined, cachedEtcdBuilds()), join(cache, 'mooring', 'etcd', '3.10.0', 'etcdutl-mooring-test'));
  });
});
