// The real Temporal server for tests: Mooring's own dev-server launcher on free loopback ports,
// in memory, with the search attributes registered. Never a mock, never a download.
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../client/devserver.js';
import { freeLoopbackPorts } from './ports.js';

export interface TestTemporal {
  server: DevServer;
  address: string;
  uiUrl: string;
  client: Client;
  connection: Connection;
  stop(): Promise<void>;
}

export async function startTestTemporal(opts: { logFile?: string } = {}): Promise<TestTemporal> {
  // A "free" port can be taken by another process before the server binds it (seen in CI as
  // "exited (code 1) before listening"): try again on fresh ports.
  let server: DevServer | undefined;
  for (let attempt = 1; !server; attempt++) {
    const [port, uiPort] = await freeLoopbackPorts(2) as [number, number];
    try {
      server = await startDevServer({ port, uiPort, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default', identity: 'mooring-tests' });
  return {
    server, address: server.address, uiUrl: server.uiUrl, client, connection,
    async stop() {
      await connection.close();
      await server.stop();
    },
  };
}

let queue = 0;
/** A task queue no other test uses. */
export function uniqueTaskQueue(prefix: string): string {
  queue += 1;
  return `${prefix}-${process.pid}-${queue}-${Date.now()}`;
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export async function within<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
