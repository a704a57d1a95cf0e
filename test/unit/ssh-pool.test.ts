// The worker's SSH connection pool: what a connection may be reused for (never across pins),
// its bounds, idle timeout and shutdown. The connections here are SIMULATED (objects with the
// pool's view of a session: alive, close, markReused); the real ones are exercised by the lab
// tests, whose test worker runs with a pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SshPool } from '../../activities/ssh/pool.js';
import type { SshSession, SshTarget } from '../../activities/ssh/session.js';

/** SIMULATED session: records close and reuse. */
function fakeSession(name: string) {
  const s = { name, alive: true, closed: 0, reused: false, close() { s.closed++; s.alive = false; }, markReused() { s.reused = true; } };
  return s;
}
const asSession = (s: ReturnType<typeof fakeSession>) => s as unknown as SshSession;

const target = (o: Partial<SshTarget> = {}): SshTarget => ({ name: 'etcd-1', host: '10.0.0.1', port: 22, where: 'masters[0]', hostKey: 'ssh-ed25519 AAAAone', ...o });
const key = Buffer.from('private key A');

describe('SshPool', () => {
  it('keys connections by user, private key, host, port, pinned host key and bastion chain', () => {
    const base = SshPool.keyOf(target(), { user: 'root', privateKey: key });
    assert.equal(SshPool.keyOf(target({ name: 'other name', where: 'x' }), { user: 'root', privateKey: Buffer.from('private key A') }), base, 'names and messages do not matter');
    const different = [
      SshPool.keyOf(target({ hostKey: 'ssh-ed25519 AAAAtwo' }), { user: 'root', privateKey: key }),
      SshPool.keyOf({ name: 'etcd-1', host: '10.0.0.1', port: 22, where: 'masters[0]' }, { user: 'root', privateKey: key }),
      SshPool.keyOf(target({ host: '10.0.0.2' }), { user: 'root', privateKey: key }),
      SshPool.keyOf(target({ port: 2222 }), { user: 'root', privateKey: key }),
      SshPool.keyOf(target(), { user: 'debian', privateKey: key }),
      SshPool.keyOf(target(), { user: 'root', privateKey: Buffer.from('private key B') }),
      SshPool.keyOf(target(), { user: 'root', privateKey: key, bastion: { name: 'bastion', host: '10.0.0.9', port: 22, where: 'ssh.bastion', hostKey: 'ssh-ed25519 AAAAb1' } }),
      SshPool.keyOf(target(), { user: 'root', privateKey: key, bastion: { name: 'bastion', host: '10.0.0.9', port: 22, where: 'ssh.bastion', hostKey: 'ssh-ed25519 AAAAb2' } }),
    ];
    assert.equal(new Set([base, ...different]).size, different.length + 1, 'each difference gives another key');
    assert.ok(!base.includes('private key A'), 'the private key itself is not in the key');
  });

  it('hands a kept connection to the next caller with the same key only, and marks it reused', () => {
    const pool = new SshPool();
    const a = fakeSession('a');
    pool.give('k1', asSession(a));
    assert.equal(pool.take('k2'), undefined);
    assert.equal(pool.take('k1'), asSession(a));
    assert.ok(a.reused);
    assert.equal(pool.take('k1'), undefined, 'a lease is exclusive: taken once');
    pool.close();
  });

  it('never keeps or hands out a dead connection', () => {
    const pool = new SshPool();
    const dead = fakeSession('dead');
    dead.alive = false;
    pool.give('k', asSession(dead));
    assert.equal(dead.closed, 1);
    const stale = fakeSession('stale');
    pool.give('k', asSession(stale));
    stale.alive = false; // closed by the host while idle
    assert.equal(pool.take('k'), undefined);
    assert.equal(stale.closed, 1);
    pool.close();
  });

  it('keeps at most maxIdlePerKey per key and maxIdle in all (the oldest goes)', async () => {
    const pool = new SshPool({ maxIdlePerKey: 2, maxIdle: 3 });
    const s = ['a', 'b', 'c', 'd', 'e'].map(fakeSession);
    pool.give('k', asSession(s[0]!));
    pool.give('k', asSession(s[1]!));
    pool.give('k', asSession(s[2]!));
    assert.equal(s[2]!.closed, 1, 'a third idle connection for one key is closed');
    await sleep(5);
    pool.give('j', asSession(s[3]!));
    pool.give('j', asSession(s[4]!));
    assert.equal(pool.size(), 3);
    assert.equal(s[0]!.closed, 1, 'the oldest idle connection made room');
    pool.close();
  });

  it('closes an idle connection after the idle timeout, and all of them at close()', async () => {
    const pool = new SshPool({ idleTimeoutMs: 30 });
    const a = fakeSession('a');
    pool.give('k', asSession(a));
    await sleep(80);
    assert.equal(a.closed, 1);
    assert.equal(pool.take('k'), undefined);
    const b = fakeSession('b');
    pool.give('k', asSession(b));
    pool.close();
    assert.equal(b.closed, 1);
    const c = fakeSession('c');
    pool.give('k', asSession(c));
    assert.equal(c.closed, 1, 'a closed pool keeps nothing');
  });
});
