// The embedded Temporal: `temporal server start-dev` (the real server with its Web UI) on
// loopback, with a persistent SQLite file and Mooring's search attributes registered.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection } from 'node:net';
import { SEARCH_ATTRIBUTE_FLAGS } from '../workflows/runbook/search-attributes.js';
import { findTool } from './tools.js';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file for persistence across restarts; in-memory when absent. */
  dbFile?: string;
  namespace?: string;
  logFile?: string;
  /** Keep running after this process exits (for `mooring server --detach`). */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function devServerArgs(o: Required<Pick<DevServerOptions, 'ip' | 'port' | 'uiPort' | 'namespace'>> & { dbFile?: string }): string[] {
  return [
    'server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--ui-port', String(o.uiPort),
    '--namespace', o.namespace, '--ui-disable-news-fetch', '--log-level', 'warn',
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...SEARCH_ATTRIBUTE_FLAGS.flatMap((f) => ['--search-attribute', f]),
  ];
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  if (await portOpen(ip, port)) throw new Error(`something already listens on ${ip}:${port}: is a Temporal server already running? Use it (TEMPORAL_ADDRESS=${ip}:${port}) or pick --port`);
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });
  const out = opts.logFile ? (mkdirSync(dirname(opts.logFile), { recursive: true }), openSync(opts.logFile, 'a')) : 'ignore';
  const child = spawn(findTool('temporal', 'MOORING_TEMPORAL_BIN'), devServerArgs({ ip, port, uiPort, namespace: opts.namespace ?? 'default', ...(opts.dbFile ? { dbFile: opts.dbFile } : {}) }), {
    stdio: ['ignore', out, out],
    detached: opts.detached ?? false,
  });
  if (opts.detached) child.unref();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(ip, port))) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 200, 'waiting'))]);
    if (code !== 'waiting') throw new Error(`temporal server start-dev exited (code ${String(code)}) before listening${opts.logFile ? `; see ${opts.logFile}` : ''}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`temporal server did not listen on ${ip}:${port} within 60s`); }
  }
  return {
    address: `${ip}:${port}`,
    uiUrl: `http://${ip}:${uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
  });
}
