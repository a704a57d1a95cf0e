// SSH connections kept per worker between activities. A new connection costs a TCP and SSH
// handshake, key exchange and public-key authentication (measured in docs/performance.md: most of
// a short activity's time); a runbook runs a dozen activities on the same three hosts, so the
// worker keeps a finished activity's connection and hands it to the next activity for that host.
//
// What a connection may be reused for is decided by its key: login user, private key (by digest),
// host, port, the pinned host key, and the bastion chain with its own pin. A connection verified
// against one pin is never handed to a caller that pins another key (or none), so a changed
// inventory pin is checked on a fresh handshake. Each connection serves one activity at a time (a
// lease, as today's one-connection-per-activity), so sshd's per-connection session limit and a
// command's kill-on-channel-close behave as before. Bounded: at most `maxIdlePerKey` idle
// connections per key and `maxIdle` in all (the oldest goes first); an idle connection is closed
// after `idleTimeoutMs`, and a dead one (closed by the host, or failing ssh2's keepalive) leaves
// the pool at once. The worker closes the pool when it shuts down.
import { createHash } from 'node:crypto';
import type { SshOptions, SshSession, SshTarget } from './session.js';

export interface SshPoolOptions {
  /** Idle connections kept per key (host + user + key + pins + bastion); default 4. */
  maxIdlePerKey?: number;
  /** Idle connections kept in all; default 256. */
  maxIdle?: number;
  /** An idle connection is closed after this long; default 60 s. */
  idleTimeoutMs?: number;
}

interface Idle { key: string; session: SshSession; since: number; timer: NodeJS.Timeout }

export class SshPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;
  private readonly maxIdlePerKey: number;
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  /** Counters for benches and tests: connections reused, handed back, dropped. */
  readonly stats = { reused: 0, kept: 0, closed: 0 };

  constructor(opts: SshPoolOptions = {}) {
    this.maxIdlePerKey = opts.maxIdlePerKey ?? 4;
    this.maxIdle = opts.maxIdle ?? 256;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  }

  /** What a connection may be reused for. The private key enters only as a digest, kept in memory. */
  static keyOf(target: SshTarget, opts: Pick<SshOptions, 'user' | 'privateKey' | 'bastion'>): string {
    const b = opts.bastion;
    return JSON.stringify([
      opts.user, createHash('sha256').update(opts.privateKey).digest('hex'),
      target.host, target.port, target.hostKey ?? null,
      b ? [b.host, b.port, b.user ?? opts.user, b.hostKey ?? null] : null,
    ]);
  }

  /** A live idle connection for `key`, now leased to the caller, or undefined. */
  take(key: string): SshSession | undefined {
    const list = this.idle.get(key) ?? [];
    let found: SshSession | undefined;
    while (!found && list.length) {
      const e = list.pop()!; // the most recently used: the least likely to have gone stale
      clearTimeout(e.timer);
      if (e.session.alive) found = e.session;
      else this.discard(e.session);
    }
    if (!list.length) this.idle.delete(key);
    if (found) { this.stats.reused++; found.markReused(); }
    return found;
  }

  /** Hands a leased connection back: kept when it is healthy and there is room, else closed. */
  give(key: string, session: SshSession): void {
    if (this.closed || !session.alive) return this.discard(session);
    const list = this.idle.get(key) ?? [];
    if (list.length >= this.maxIdlePerKey) return this.discard(session);
    if (this.size() >= this.maxIdle) this.evictOldest();
    const entry: Idle = { key, session, since: Date.now(), timer: setTimeout(() => this.expire(entry), this.idleTimeoutMs) };
    entry.timer.unref(); // an idle connection's timer alone never keeps a process alive
    list.push(entry);
    this.idle.set(key, list);
    this.stats.kept++;
  }

  size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Closes every idle connection and refuses to keep any more (leased ones close when given back). */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const e of list) { clearTimeout(e.timer); this.discard(e.session); }
    this.idle.clear();
  }

  private expire(entry: Idle): void {
    const list = this.idle.get(entry.key);
    const i = list?.indexOf(entry) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (!list!.length) this.idle.delete(entry.key);
    this.discard(entry.session);
  }

  private evictOldest(): void {
    let oldest: Idle | undefined;
    for (const list of this.idle.values()) for (const e of list) if (!oldest || e.since < oldest.since) oldest = e;
    if (oldest) { clearTimeout(oldest.timer); this.expire(oldest); }
  }

  private discard(session: SshSession): void {
    this.stats.closed++;
    session.close();
  }
}
