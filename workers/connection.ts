// Where Temporal is and how to authenticate, from (in order) command-line flags, the standard
// TEMPORAL_* environment variables / config profile (envconfig), then the local dev server.
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';
export { DEFAULT_TASK_QUEUE } from './task-queue.js';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  apiKey?: string;
}

export interface ResolvedConnection {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

export function resolveConnection(flags: ConnectionFlags = {}): ResolvedConnection {
  const env = loadClientConnectConfig();
  const options: NativeConnectionOptions = { ...env.connectionOptions };
  options.address = flags.address ?? options.address ?? DEFAULT_ADDRESS;
  if (flags.apiKey) options.apiKey = flags.apiKey;
  if (flags.tlsCert || flags.tlsKey || flags.tlsCa) {
    if (!!flags.tlsCert !== !!flags.tlsKey) throw new Error('--tls-cert and --tls-key go together: give both for mTLS');
    options.tls = {
      ...(flags.tlsCa ? { serverRootCACertificate: readPem(flags.tlsCa, '--tls-ca') } : {}),
      ...(flags.tlsCert && flags.tlsKey ? { clientCertPair: { crt: readPem(flags.tlsCert, '--tls-cert'), key: readPem(flags.tlsKey, '--tls-key') } } : {}),
    };
  }
  return { connectionOptions: options, namespace: flags.namespace ?? env.namespace ?? DEFAULT_NAMESPACE };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Retries a first connection with backoff: the worker SDK does not, and a server may still be starting. */
export async function withConnectRetry<T>(what: string, connect: () => Promise<T>, opts: { attempts?: number; log?: (m: string) => void } = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  let delay = 250;
  for (let i = 1; ; i++) {
    try {
      return await connect();
    } catch (err) {
      if (i >= attempts) throw new Error(`cannot connect to Temporal at ${what} after ${attempts} attempts: ${(err as Error).message}. Is the server running? Start one with \`mooring server\`.`);
      opts.log?.(`connect to ${what} failed (${(err as Error).message}); retrying in ${delay}ms`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
