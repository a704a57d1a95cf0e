// Doctor's Temporal checks, with the connection every other command uses (flags, TEMPORAL_*
// variables, envconfig profile, default 127.0.0.1:7233): the server answers, Mooring's search
// attributes are registered on the namespace, and a worker polls the task queue.
import { createConnection } from 'node:net';
import { Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/runbook/search-attributes.js';
import { resolveConnection, type ConnectionFlags } from '../../workers/connection.js';
import type { CheckResult } from './report.js';

// Values of temporal.api.enums.v1 (the proto package is the client's dependency, not Mooring's: only its types are imported).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;
const KEYWORD = 2;
const INDEXED_VALUE_TYPES = ['Unspecified', 'Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];

export async function temporalChecks(flags: ConnectionFlags, taskQueue: string, connectTimeoutMs = 5000): Promise<CheckResult[]> {
  const { connectionOptions, namespace } = resolveConnection(flags);
  const address = String(connectionOptions.address);
  const where = `${address} (namespace ${namespace})`;
  const flagsHint = `--address ${address} --namespace ${namespace}`;
  const skipped = (check: string): CheckResult => ({ check, status: 'skip', detail: 'needs Temporal' });
  const unreachable = (why: string): CheckResult[] => [{
    check: 'temporal', status: 'fail', detail: `cannot reach ${address}: ${why}`,
    fix: 'start one here with `mooring server` (dev) or `docker compose up -d`, or point at yours with --address HOST:PORT or TEMPORAL_ADDRESS (TLS: TEMPORAL_TLS_*, API key: TEMPORAL_API_KEY)',
  }, skipped('search attributes'), skipped('worker')];
  // A plain TCP connect first: a refused port is known at once, where the gRPC client waits out its deadline.
  const tcp = await tcpProbe(address, connectTimeoutMs);
  if (tcp) return unreachable(tcp);
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address, connectTimeout: connectTimeoutMs,
      ...(connectionOptions.tls !== undefined ? { tls: connectionOptions.tls } : {}),
      ...(typeof connectionOptions.apiKey === 'string' ? { apiKey: connectionOptions.apiKey } : {}),
      ...(connectionOptions.metadata ? { metadata: connectionOptions.metadata } : {}),
    });
  } catch (err) {
    return unreachable((err as Error).message.split('\n')[0] ?? 'error');
  }
  try {
    const info = await connection.workflowService.getSystemInfo({});
    const out: CheckResult[] = [{ check: 'temporal', status: 'ok', detail: `reachable at ${where}${info.serverVersion ? `, server ${info.serverVersion}` : ''}` }];
    out.push(await searchAttributes(connection, namespace, flagsHint));
    out.push(await pollers(connection, namespace, taskQueue, flagsHint));
    return out;
  } catch (err) {
    // Reachable, but the namespace or the credentials are refused (each call below names which).
    return [{ check: 'temporal', status: 'fail', detail: `${where} answers but refuses: ${(err as Error).message.split('\n')[0]}`, fix: 'check --namespace/TEMPORAL_NAMESPACE exists (`temporal operator namespace list`) and the credentials (TEMPORAL_API_KEY, TEMPORAL_TLS_*)' }];
  } finally {
    await connection.close();
  }
}

async function searchAttributes(connection: Connection, namespace: string, flagsHint: string): Promise<CheckResult> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = res.customAttributes ?? {};
  const wanted = SEARCH_ATTRIBUTE_FLAGS.map((f) => f.split('=') as [string, string]);
  const missing = wanted.filter(([name]) => registered[name] === undefined);
  const wrongType = wanted.filter(([name]) => registered[name] !== undefined && Number(registered[name]) !== KEYWORD);
  if (missing.length === 0 && wrongType.length === 0) return { check: 'search attributes', status: 'ok', detail: `${wanted.map(([n]) => n).join(', ')} registered (Keyword)` };
  const problems = [
    ...(missing.length ? [`missing: ${missing.map(([n]) => n).join(', ')}`] : []),
    ...(wrongType.length ? [`not Keyword: ${wrongType.map(([n]) => `${n} (${INDEXED_VALUE_TYPES[Number(registered[n])] ?? String(registered[n])})`).join(', ')}`] : []),
  ];
  return {
    check: 'search attributes', status: 'fail', detail: `on namespace ${namespace}, ${problems.join('; ')}: runs cannot start or be listed per cluster`,
    fix: missing.length
      ? missing.map(([n, type]) => `temporal operator search-attribute create ${flagsHint} --name ${n} --type ${type}`).join('\n')
      : 'a search attribute keeps its type: use a namespace where Mooring registers them (or delete and recreate them as Keyword)',
  };
}

async function pollers(connection: Connection, namespace: string, taskQueue: string, flagsHint: string): Promise<CheckResult> {
  const describe = async (type: number) => (await connection.workflowService.describeTaskQueue({
    namespace, taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL as temporal.api.enums.v1.TaskQueueKind }, taskQueueType: type as temporal.api.enums.v1.TaskQueueType,
  })).pollers ?? [];
  const [wf, act] = await Promise.all([describe(TASK_QUEUE_TYPE_WORKFLOW), describe(TASK_QUEUE_TYPE_ACTIVITY)]);
  const fix = `start one: mooring worker ${flagsHint} --task-queue ${taskQueue}`;
  // The server lists a poller for a few minutes after its last poll: a worker that just died still shows.
  if (wf.length && act.length) {
    const who = [...new Set([...wf, ...act].map((p) => p.identity ?? '?'))];
    return { check: 'worker', status: 'ok', detail: `${who.length} worker(s) polling task queue ${taskQueue}: ${who.join(', ')}` };
  }
  if (!wf.length && !act.length) return { check: 'worker', status: 'fail', detail: `no worker polls task queue ${taskQueue} on namespace ${namespace}: runs would wait forever`, fix };
  return { check: 'worker', status: 'fail', detail: `task queue ${taskQueue} has ${wf.length ? 'workflow' : 'activity'} pollers only`, fix };
}

/** Why nothing answers at host:port over TCP, or undefined when something does. */
function tcpProbe(address: string, timeoutMs: number): Promise<string | undefined> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) return Promise.resolve(`"${address}" is not HOST:PORT`);
  return new Promise((resolve) => {
    const s = createConnection({ host: m[1], port: Number(m[2]) });
    s.once('connect', () => { s.destroy(); resolve(undefined); });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : err.code ?? err.message));
    s.setTimeout(timeoutMs, () => { s.destroy(); resolve(`no answer within ${timeoutMs / 1000} s`); });
  });
}
