// The client library the CLI is built on: connection, identity for the audit trail, UI links.
import { Client, Connection } from '@temporalio/client';
import { userInfo, hostname } from 'node:os';
import { resolveConnection, withConnectRetry, type ConnectionFlags } from '../workers/connection.js';
import { codecFromEnv, encryptingDataConverter } from '../workers/codec/config.js';

export interface MooringClient {
  client: Client;
  namespace: string;
  close(): Promise<void>;
}

/** Who is acting, recorded by the server in every event this client causes. */
export function cliIdentity(): string {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry in some containers */ }
  return `${user}@${hostname()} (mooring-cli)`;
}

export async function connectClient(flags: ConnectionFlags = {}, opts: { attempts?: number } = {}): Promise<MooringClient> {
  const { connectionOptions, namespace } = resolveConnection(flags);
  // The same codec as the worker (MOORING_CODEC_KEYS): inputs the CLI sends are encrypted, and
  // results, progress and failures it reads are decrypted.
  const codec = await codecFromEnv('the CLI');
  const { address, tls, apiKey, metadata } = connectionOptions;
  const connection = await withConnectRetry(String(address), () => Connection.connect({
    address: String(address),
    ...(tls !== undefined ? { tls } : {}),
    ...(typeof apiKey === 'string' ? { apiKey } : {}),
    ...(metadata ? { metadata } : {}),
  }), { attempts: opts.attempts ?? 3 });
  const client = new Client({ connection, namespace, identity: cliIdentity(), ...(codec ? { dataConverter: encryptingDataConverter(codec) } : {}) });
  openConnections += 1;
  let closed = false;
  return {
    client, namespace,
    async close() {
      if (closed) return;
      closed = true;
      openConnections -= 1;
      await connection.close();
    },
  };
}

let openConnections = 0;
/** Connections made by connectClient and not closed yet (tests check every command path closes its own). */
export const openClientConnections = (): number => openConnections;

export function uiBaseUrl(): string {
  return process.env.MOORING_UI_URL ?? 'http://127.0.0.1:8233';
}

export function runUrl(namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiBaseUrl()}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
