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

/**
 * `env` replaces process.env (tests). TLS: envconfig reads TEMPORAL_TLS_* (and TEMPORAL_API_KEY,
 * which turns TLS on by itself, as Temporal Cloud wants); the --tls-* flags override single parts
 * (e.g. another CA) and keep the rest, such as TEMPORAL_TLS_SERVER_NAME.
 */
export function resolveConnection(flags: ConnectionFlags = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  checkTlsEnv(env);
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: definedOnly(env) });
  } catch (err) {
    // e.g. a TEMPORAL_TLS_*_PATH naming a missing file: envconfig's message is a bare ENOENT.
    throw new Error(`Temporal connection settings (TEMPORAL_* variables or the temporal config profile): ${(err as Error).message}`);
  }
  const options: NativeConnectionOptions = { ...loaded.connectionOptions };
  options.address = flags.address ?? options.address ?? DEFAULT_ADDRESS;
  if (flags.apiKey) {
    options.apiKey = flags.apiKey;
    options.tls ??= true;
  }
  if (flags.tlsCert || flags.tlsKey || flags.tlsCa) {
    if (!!flags.tlsCert !== !!flags.tlsKey) throw new Error('--tls-cert and --tls-key go together: give both for mTLS');
    if (options.tls === false) throw new Error('--tls-* flags given but TEMPORAL_TLS=false turns TLS off: unset TEMPORAL_TLS or drop the flags');
    options.tls = {
      ...(typeof options.tls === 'object' ? options.tls : {}),
      ...(flags.tlsCa ? { serverRootCACertificate: readPem(flags.tlsCa, '--tls-ca') } : {}),
      ...(flags.tlsCert && flags.tlsKey ? { clientCertPair: { crt: readPem(flags.tlsCert, '--tls-cert'), key: readPem(flags.tlsKey, '--tls-key') } } : {}),
    };
  }
  return { connectionOptions: options, namespace: flags.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** What envconfig would silently drop: half a client certificate pair, a setting this SDK lacks. */
function checkTlsEnv(env: NodeJS.ProcessEnv): void {
  const has = (k: string) => !!env[`TEMPORAL_TLS_CLIENT_${k}_PATH`] || !!env[`TEMPORAL_TLS_CLIENT_${k}_DATA`];
  if (has('CERT') !== has('KEY')) {
    throw new Error(`TEMPORAL_TLS_CLIENT_${has('CERT') ? 'CERT' : 'KEY'}_* is set without TEMPORAL_TLS_CLIENT_${has('CERT') ? 'KEY' : 'CERT'}_*: mTLS needs the certificate and its key (set both, _PATH or _DATA)`);
  }
  if (/^(1|true|yes)$/i.test(env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION ?? '')) {
    throw new Error('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK (it would be ignored): set TEMPORAL_TLS_SERVER_NAME to a name in the server certificate instead');
  }
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
