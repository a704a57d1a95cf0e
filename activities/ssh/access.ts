// How activities reach a host: SSH settings from the inventory (references only), the private
// key read here, inside the activity, and never returned or logged.
import { readFile } from 'node:fs/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { ChannelOpenError, SshSession, cancellation, type SshTarget } from './session.js';
import { SshPool } from './pool.js';

export interface HostRef {
  name: string;
  ip: string;
  sshPort: number;
  hostKey?: string;
  /** Inventory path, for messages: "masters[0]". */
  where: string;
}

export interface SshAccess {
  user: string;
  privateKeyPath: string;
  connectTimeoutSeconds: number;
  bastion?: { host: string; port: number; user?: string; hostKey?: string };
}

export interface SshDeps {
  readPrivateKey?: (path: string) => Promise<Buffer>;
  /** The worker's connection pool; without one every activity opens and closes its own connection. */
  sshPool?: SshPool;
}

/**
 * Gives the activity a session for `fn`: a pooled connection to the same host with the same user,
 * key and pins when the worker has one idle, else a new one. Afterwards the connection goes back
 * to the pool when no command on it was cut short, else it is closed. Bad keys/pins are not retried.
 */
export async function withSession<T>(deps: SshDeps, access: SshAccess, host: HostRef, signal: AbortSignal, fn: (s: SshSession) => Promise<T>): Promise<T> {
  let privateKey: Buffer;
  try {
    privateKey = await (deps.readPrivateKey ?? readFile)(access.privateKeyPath);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`ssh.privateKeyPath ${access.privateKeyPath}: cannot read the key (${(err as NodeJS.ErrnoException).code ?? 'error'}): fix the path or its permissions`, 'InvalidInput');
  }
  const target: SshTarget = { name: host.name, host: host.ip, port: host.sshPort, where: host.where };
  if (host.hostKey) target.hostKey = host.hostKey;
  const bastion = access.bastion
    ? { name: 'bastion', host: access.bastion.host, port: access.bastion.port, where: 'ssh.bastion', ...(access.bastion.hostKey ? { hostKey: access.bastion.hostKey } : {}), ...(access.bastion.user ? { user: access.bastion.user } : {}) }
    : undefined;
  const options = { user: access.user, privateKey, connectTimeoutMs: access.connectTimeoutSeconds * 1000, signal, ...(bastion ? { bastion } : {}) };
  const pool = deps.sshPool;
  const key = pool ? SshPool.keyOf(target, options) : '';
  const open = async () => {
    try {
      return await SshSession.open(target, options);
    } catch (err) {
      const e = err as Error;
      if (e.name === 'HostKeyMismatch' || e.name === 'AuthenticationFailed') throw ApplicationFailure.nonRetryable(e.message, e.name);
      throw err;
    }
  };
  let session = pool?.take(key) ?? await open();
  try {
    try {
      return await fn(session);
    } catch (err) {
      // A pooled connection that died while idle (the host rebooted, sshd restarted, a firewall
      // dropped it) fails the activity's first channel, before any command ran: go again once on
      // a fresh connection. Anything later is the activity's own failure, retried by Temporal.
      if (!(session.reused && session.channels === 1 && err instanceof ChannelOpenError) || signal.aborted) throw err;
      session.close();
      session = await open();
      return await fn(session);
    }
  } catch (err) {
    // Whatever a command's cancellation turned into on its way up (a wrapped error, a stream's
    // AbortError, a cut channel), the activity was cancelled: say so, so Temporal records it as such.
    if (signal.aborted && !(err instanceof CancelledFailure)) throw cancellation(`${host.name}: activity`, signal);
    throw err;
  } finally {
    if (pool) pool.give(key, session);
    else session.close();
  }
}
