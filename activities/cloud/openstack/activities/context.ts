// What every OpenStack activity shares: the dependencies its factory takes (so tests hand in the
// environment and files; production uses the worker's), the client it opens for one attempt
// (credentials resolved here, inside the activity), and the wrapper that turns any error into a
// failure Temporal knows how to retry or not.
import { Context } from '@temporalio/activity';
import { processConfigEnv, resolveCloudConfig } from '../config/clouds.js';
import { OpenStackClient } from '../client.js';
import { toFailure } from '../errors.js';

/** Which cloud: the inventory's provider.openstack.cloud and region (no secrets: history-safe). */
export interface CloudTarget { cloud?: string; region: string }

export interface OpenStackDeps {
  env?: Record<string, string | undefined>;
  home?: string;
  cwd?: string;
  readText?: (path: string) => Promise<string | undefined>;
  fetch?: typeof fetch;
  /** Time between status reads while a server builds (default 2 s). */
  pollMs?: number;
}


function signal(): AbortSignal | undefined {
  try { return Context.current().cancellationSignal; } catch { return undefined; }
}

export async function openClient(target: CloudTarget, deps: OpenStackDeps): Promise<OpenStackClient> {
  const e = processConfigEnv({ ...(deps.env ? { env: deps.env } : {}), ...(deps.home ? { home: deps.home } : {}), ...(deps.cwd ? { cwd: deps.cwd } : {}), ...(deps.readText ? { readText: deps.readText } : {}) });
  const cfg = await resolveCloudConfig({ ...(target.cloud ? { cloud: target.cloud } : {}), region: target.region }, e);
  const s = signal();
  return new OpenStackClient(cfg, { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(s ? { signal: s } : {}) });
}

/** Runs one activity body against the cloud; every error leaves as an ApplicationFailure. */
export async function withCloud<T>(what: string, target: CloudTarget, deps: OpenStackDeps, fn: (c: OpenStackClient) => Promise<T>): Promise<T> {
  try {
    return await fn(await openClient(target, deps));
  } catch (err) {
    // A cancelled activity leaves as the cancellation the SDK raised, not as a cloud error.
    if (signal()?.aborted) throw err;
    throw toFailure(err, what);
  }
}
