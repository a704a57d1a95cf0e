// An SSH connection, on ssh2: pinned host keys, optional jump host (seed 002's gateways are
// bastions), exec with streamed output, exit codes, timeouts and cancellation. Used by one
// activity at a time; the worker's pool (pool.ts) may hand it to the next activity for the host.
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { CancelledFailure } from '@temporalio/common';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { checkHostKey, HostKeyMismatchError } from './host-key.js';
import { sh, shellQuote } from './quote.js';

export interface SshTarget {
  /** Name for messages (the inventory node name). */
  name: string;
  host: string;
  port: number;
  hostKey?: string;
  /** Inventory path of the node, for error messages (e.g. "masters[1]"). */
  where: string;
}

export interface SshOptions {
  user: string;
  privateKey: Buffer;
  connectTimeoutMs: number;
  bastion?: SshTarget & { user?: string };
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each chunk of output, e.g. to heartbeat progress. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Written to the command's standard input, which is then closed. */
  stdin?: string | Buffer;
}

export interface UploadOptions {
  /** Octal file mode, e.g. 0o600 for keys. */
  mode: number;
  /** "user" or "user:group"; left as the login user when absent. */
  owner?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class SshCommandError extends Error {
  override readonly name = 'SshCommandError';
  constructor(message: string, readonly result?: ExecResult) { super(message); }
}

/** No channel could be opened on the connection: the command was not started. */
export class ChannelOpenError extends SshCommandError {}

/**
 * How long a reused connection may take to open a channel before it is taken for dead (a host
 * that vanished without closing the TCP connection; ssh2's keepalive would notice only after
 * 15 s). A live connection answers within a round trip; a fresh one replaces a dead one.
 */
const REUSED_CHANNEL_OPEN_MS = 5000;

/**
 * The error for a command or connection stopped by its abort signal: a CancelledFailure, so an
 * activity passing its `cancellationSignal()` is recorded by Temporal as cancelled, not failed
 * (the SDK reports cancellation only for a CancelledFailure or an AbortError). The signal's own
 * reason (the SDK's CancelledFailure, saying why: CANCELLED, TIMED_OUT, WORKER_SHUTDOWN…) is kept
 * in the message and as the cause.
 */
export function cancellation(what: string, signal: AbortSignal | undefined): CancelledFailure {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new CancelledFailure(`${what} cancelled${why ? ` (${why})` : ''}`, [], reason instanceof Error ? reason : undefined);
}

export class SshSession {
  private closed = false;
  /** A command was cut short (timeout, cancellation, a cut stream): the connection is not handed on. */
  private broken = false;
  /** Handed out by the pool after an earlier activity used it. */
  reused = false;
  /** Channels opened since it was (re)leased. */
  channels = 0;

  private constructor(private readonly client: Client, private readonly hops: Client[], readonly target: SshTarget) {
    // A connection (or a hop) closed by the host, or dropped by ssh2's keepalive, is dead for good.
    for (const c of [client, ...hops]) c.on('close', () => { this.closed = true; });
  }

  /** Open, and no command on it was cut short: fit to hand to the next activity. */
  get alive(): boolean { return !this.closed && !this.broken; }

  /** Called by the pool when it leases the connection again. */
  markReused(): void { this.reused = true; this.channels = 0; }

  static async open(target: SshTarget, opts: SshOptions): Promise<SshSession> {
    const hops: Client[] = [];
    try {
      let sock: Duplex | undefined;
      if (opts.bastion) {
        const jump = await connect(opts.bastion, { ...opts, user: opts.bastion.user ?? opts.user });
        hops.push(jump);
        sock = await forward(jump, target);
      }
      const client = await connect(target, opts, sock);
      return new SshSession(client, hops, target);
    } catch (err) {
      hops.forEach((h) => h.end());
      throw err;
    }
  }

  /**
   * Opens a channel running `remote`. On a reused connection the open is bounded by
   * REUSED_CHANNEL_OPEN_MS; past it the connection is ended (so a late channel cannot run the
   * command) and a ChannelOpenError lets the caller retry on a fresh connection.
   */
  private channel(remote: string, cb: (err: Error | undefined, channel: ClientChannel) => void): void {
    this.channels++;
    let done = false;
    const fail = (why: string) => { this.broken = true; cb(new ChannelOpenError(`${this.target.name}: cannot start command: ${why}`), undefined as unknown as ClientChannel); };
    const timer = this.reused ? setTimeout(() => {
      if (done) return;
      done = true;
      this.close();
      fail(`the reused connection opened no channel within ${REUSED_CHANNEL_OPEN_MS}ms`);
    }, REUSED_CHANNEL_OPEN_MS) : undefined;
    try {
      this.client.exec(remote, (err, ch) => {
        if (done) { if (!err) ch.close(); return; }
        done = true;
        clearTimeout(timer);
        if (err) fail(err.message);
        else cb(undefined, ch);
      });
    } catch (err) {
      // ssh2 throws at once when the connection is already gone ("Not connected").
      done = true;
      clearTimeout(timer);
      fail((err as Error).message);
    }
  }

  /** Runs a command (already quoted by the caller via `sh`) and resolves with its exit code and output. */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const remote = opts.stdin === undefined ? tiedToChannel(command) : command;
    if (opts.signal?.aborted) return Promise.reject(cancellation(`${this.target.name}: command`, opts.signal));
    return new Promise((resolve, reject) => {
      this.channel(remote, (err, stream) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        let settled = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          fn();
        };
        // Best effort: ask the remote side to kill the command before closing the channel.
        const stop = () => { this.broken = true; try { stream.signal('KILL'); } catch { /* not supported */ } stream.close(); };
        const onAbort = () => finish(() => {
          stop();
          reject(cancellation(`${this.target.name}: command`, opts.signal));
        });
        const timer = opts.timeoutMs ? setTimeout(() => finish(() => {
          stop();
          reject(new SshCommandError(`${this.target.name}: command timed out after ${opts.timeoutMs}ms`));
        }), opts.timeoutMs) : undefined;
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        // Aborted while the channel was opening: the 'abort' event has already fired.
        if (opts.signal?.aborted) onAbort();
        stream.on('data', (d: Buffer) => { const s = d.toString('utf8'); stdout += s; opts.onOutput?.(s, 'stdout'); });
        stream.stderr.on('data', (d: Buffer) => { const s = d.toString('utf8'); stderr += s; opts.onOutput?.(s, 'stderr'); });
        stream.on('close', (code: number | null, signal?: string) => finish(() => {
          if (code === null || code === undefined) {
            this.broken = true;
            reject(new SshCommandError(`${this.target.name}: session ended before the command finished${signal ? ` (signal ${signal})` : ''}`, { code: -1, stdout, stderr }));
          } else resolve({ code, stdout, stderr });
        }));
        if (opts.stdin !== undefined) stream.end(opts.stdin);
      });
    });
  }

  /**
   * Runs a command and returns its standard output as a stream, with back-pressure (a slow reader
   * pauses the remote side, so memory stays flat whatever the size). The stream ends only after
   * the command exited 0; any other end (non-zero exit, cut session, cancellation) destroys it
   * with an error, so a consumer that checks digests at the end never sees a clean short read.
   */
  streamOut(command: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    if (opts.signal?.aborted) return Promise.reject(cancellation(`${this.target.name}: command`, opts.signal));
    return new Promise((resolve, reject) => {
      this.channel(tiedToChannel(command), (err, channel) => {
        if (err) return reject(err);
        const out = new PassThrough({ highWaterMark: 1024 * 1024 });
        let stderr = '';
        const onAbort = () => {
          this.broken = true;
          try { channel.signal('KILL'); } catch { /* not supported */ }
          channel.close();
          out.destroy(cancellation(`${this.target.name}: command`, opts.signal));
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        if (opts.signal?.aborted) onAbort(); // aborted while the channel was opening
        channel.on('data', (d: Buffer) => { if (!out.write(d)) channel.pause(); });
        out.on('drain', () => channel.resume());
        // The reader gave up (e.g. a digest check failed): stop the remote command too.
        out.on('close', () => { if (!out.writableFinished) { this.broken = true; channel.close(); } });
        channel.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString('utf8'); });
        channel.on('close', (code: number | null, signal?: string) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (code === 0) { out.end(); return; }
          const cut = code === null || code === undefined;
          if (cut) this.broken = true;
          out.destroy(new SshCommandError(cut
            ? `${this.target.name}: session ended before the command finished${signal ? ` (signal ${signal})` : ''}`
            : `${this.target.name}: exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ') || '(no stderr)'}`));
        });
        resolve(out);
      });
    });
  }

  /**
   * Runs a command with `source` streamed into its standard input (back-pressure both ways, so a
   * large file crosses with flat memory). Resolves once the command exited 0 after reading it all;
   * a source error closes the channel (the command sees a cut, not a clean end) and rejects.
   */
  streamIn(command: string, source: Readable, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (opts.signal?.aborted) return Promise.reject(cancellation(`${this.target.name}: command`, opts.signal));
    return new Promise((resolve, reject) => {
      this.channel(command, (err, channel) => {
        if (err) return reject(err);
        let stderr = '';
        let failure: Error | undefined;
        const fail = (e: Error) => {
          failure ??= e;
          this.broken = true;
          source.unpipe(channel);
          try { channel.signal('KILL'); } catch { /* not supported */ }
          channel.close();
        };
        const onAbort = () => fail(cancellation(`${this.target.name}: command`, opts.signal));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        if (opts.signal?.aborted) onAbort(); // aborted while the channel was opening
        const timer = opts.timeoutMs ? setTimeout(() => fail(new SshCommandError(`${this.target.name}: command timed out after ${opts.timeoutMs}ms`)), opts.timeoutMs) : undefined;
        source.once('error', (e: Error) => fail(e));
        channel.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString('utf8'); });
        // The channel closes only once its output was read to the end, even when there is none.
        channel.resume();
        channel.on('close', (code: number | null) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (failure) return reject(failure);
          if (code === 0) resolve();
          else reject(new SshCommandError(`${this.target.name}: exit ${code ?? 'none (session cut)'}: ${stderr.trim().split('\n').slice(-3).join(' / ') || '(no stderr)'}`));
        });
        source.pipe(channel);
      });
    });
  }

  /** Like exec, but a non-zero exit is an error carrying stderr. */
  async run(command: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) throw new SshCommandError(`${this.target.name}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ') || '(no stderr)'}`, r);
    return r.stdout;
  }

  /**
   * Writes a file atomically: content goes to a temporary file beside the target (same
   * filesystem), gets its mode and owner, then is renamed over the target. A reader never sees
   * a half-written file, and a retry simply writes it again.
   */
  async upload(path: string, content: string | Buffer, opts: UploadOptions): Promise<void> {
    if (!/^\/[A-Za-z0-9._\/-]+$/.test(path)) throw new SshCommandError(`${this.target.name}: refusing to upload to unsafe path ${JSON.stringify(path)}`);
    if (opts.owner !== undefined && !/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/.test(opts.owner)) throw new SshCommandError(`${this.target.name}: owner ${JSON.stringify(opts.owner)} is not user or user:group`);
    const mode = opts.mode.toString(8).padStart(4, '0');
    const tmp = `${path}.mooring-tmp`;
    const steps = [
      sh`umask 077 && cat > ${tmp}`,
      sh`chmod ${mode} ${tmp}`,
      ...(opts.owner ? [sh`chown ${opts.owner} ${tmp}`] : []),
      sh`mv -f ${tmp} ${path}`,
    ];
    await this.run(`${steps.join(' && ')} || { rm -f ${shellQuote(tmp)}; exit 1; }`, { stdin: content, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  close(): void {
    this.closed = true;
    this.client.end();
    this.hops.forEach((h) => h.end());
  }
}

/**
 * Wraps a command so it dies with its SSH channel. sshd does not signal a command when the
 * client goes away (and ignores signal requests under a forced command), so a timed-out,
 * cancelled or crashed activity would leave it running beside its own retry. The command runs
 * in a session of its own; a watcher reading the channel's stdin kills that session at EOF,
 * which is what the channel's end looks like from the host. Stdin is never written to here.
 */
export function tiedToChannel(command: string): string {
  // A background job's stdin is /dev/null unless redirected: hand the watcher the channel's
  // stdin explicitly (fd 3). If the kill races setsid(), fall back to the pid itself.
  return [
    'exec 3<&0',
    `setsid sh -c ${shellQuote(command)} </dev/null 3<&- &`,
    'c=$!',
    '(while IFS= read -r _; do :; done; kill -TERM -- "-$c" 2>/dev/null || kill -TERM "$c" 2>/dev/null) <&3 >/dev/null 2>&1 &',
    'w=$!',
    'wait "$c"; rc=$?',
    'kill "$w" 2>/dev/null',
    'exit "$rc"',
  ].join('; ').replace(/&;/g, '&');
}

function connect(target: SshTarget, opts: SshOptions & { user: string }, sock?: Duplex): Promise<Client> {
  if (opts.signal?.aborted) return Promise.reject(cancellation(`${target.name}: connection`, opts.signal));
  return new Promise((resolve, reject) => {
    const client = new Client();
    let mismatch: string | null = null;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: opts.user,
      privateKey: opts.privateKey,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        mismatch = checkHostKey(target.host, target.hostKey, key, target.where);
        return mismatch === null;
      },
    };
    if (sock) config.sock = sock;
    const onAbort = () => { client.end(); reject(cancellation(`${target.name}: connection`, opts.signal)); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    client.once('ready', () => { settled = true; opts.signal?.removeEventListener('abort', onAbort); resolve(client); });
    // ssh2 can emit more than one error for one failure (a reset socket, then "Connection lost
    // before handshake"), and errors after 'ready' too: a lasting listener keeps any of them
    // from becoming an uncaught exception that would take the whole worker down.
    client.on('error', (err: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (mismatch) return reject(new HostKeyMismatchError(mismatch));
      if (err.level === 'client-authentication') {
        const e = new Error(`${target.name} (${target.host}:${target.port}): the server refused key authentication for user "${opts.user}": check ssh.user and that the public key of ssh.privateKeyPath is in the host's authorized_keys`);
        e.name = 'AuthenticationFailed';
        return reject(e);
      }
      reject(new Error(`${target.name} (${target.host}:${target.port}): ${err.message}`));
    });
    client.connect(config);
  });
}

function forward(jump: Client, target: SshTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
      if (err) reject(new Error(`jump host cannot reach ${target.name} (${target.host}:${target.port}): ${err.message}`));
      else resolve(stream);
    });
  });
}
