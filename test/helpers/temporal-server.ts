// The real Temporal server (temporal-server built from go.temporal.io/server by
// scripts/build-temporal.sh into ~/.cache/mooring/temporal/<version>/), not the dev server: the
// dev server has no TLS settings. Here it runs on SQLite in memory with its frontend on TLS, and
// mutual TLS when asked, on this suite's loopback address 127.78.0.1. Never a download: a missing
// build is an error that says how to make it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { portOpen } from '../../client/devserver.js';
import { findTool, PROJECT_ROOT } from '../../client/tools.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/runbook/search-attributes.js';
import { eventually } from './temporal.js';
import { freeLoopbackPorts } from './ports.js';

export const TLS_LAB_IP = '127.78.0.1';

/** The cached server build: the version docker/versions.env pins, else the newest one cached. */
export function temporalServerBinary(): string {
  const root = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mooring', 'temporal');
  const pinned = existsSync(join(PROJECT_ROOT, 'docker/versions.env'))
    ? /^TEMPORAL_VERSION=v?(\S+)$/m.exec(readFileSync(join(PROJECT_ROOT, 'docker/versions.env'), 'utf8'))?.[1] : undefined;
  const cached = existsSync(root) ? readdirSync(root).filter((d) => /^\d+\.\d+\.\d+$/.test(d) && existsSync(join(root, d, 'temporal-server'))) : [];
  const byVersion = (a: string, b: string) => a.split('.').map(Number).reduce((c, n, i) => c || n - Number(b.split('.')[i]), 0);
  const version = pinned ?? cached.sort(byVersion).pop();
  const bin = version ? join(root, version, 'temporal-server') : undefined;
  if (!bin || !existsSync(bin)) {
    throw new Error(`no Temporal server build${version ? ` of ${version}` : ''} in ${root}: run scripts/build-temporal.sh (set-up does it), which builds go.temporal.io/server from the Go module proxy`);
  }
  return bin;
}

export interface TlsFiles { caCert: string; serverCert: string; serverKey: string; workerCert: string; workerKey: string }

export interface TemporalServer { address: string; process: ChildProcess; logFile: string; stop(): Promise<void> }

/**
 * Starts temporal-server with TLS on the frontend (`mutual`: client certificates required).
 * `jwksUrl`: the server also wants a bearer token (an API key): a JWT signed by a key of that JWKS,
 * checked by Temporal's default claim mapper and authorizer ("<namespace>:<role>" permissions).
 */
export async function startTlsTemporalServer(dir: string, tls: TlsFiles, opts: { mutual: boolean; serverName: string; jwksUrl?: string }): Promise<TemporalServer> {
  const [frontend, frontendHttp, history, matching, worker, internal, ...membership] = await freeLoopbackPorts(12) as number[];
  const svc = (grpcPort: number, membershipPort: number, extra = '') => `    rpc:\n      grpcPort: ${grpcPort}\n      membershipPort: ${membershipPort}\n      bindOnIP: ${TLS_LAB_IP}\n${extra}`;
  const sqlite = `      sql:\n        pluginName: sqlite\n        databaseName: default\n        connectAddr: localhost\n        connectProtocol: tcp\n        connectAttributes:\n          mode: memory\n          cache: private\n        maxConns: 1\n        maxIdleConns: 1\n        maxConnLifetime: 1h\n`;
  const client = `      client:\n        serverName: ${opts.serverName}\n        rootCaFiles: [${tls.caCert}]\n`;
  const config = `log:
  stdout: true
  level: warn
persistence:
  defaultStore: db
  visibilityStore: visibility
  numHistoryShards: 1
  datastores:
    db:
${sqlite}    visibility:
${sqlite}global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${TLS_LAB_IP}
  pprof:
    port: 0
${opts.jwksUrl ? `  authorization:\n    jwtKeyProvider:\n      keySourceURIs: [${opts.jwksUrl}]\n      refreshInterval: 1m\n    permissionsClaimName: permissions\n    authorizer: default\n    claimMapper: default\n` : ''}  tls:
    frontend:
      server:
        certFile: ${tls.serverCert}
        keyFile: ${tls.serverKey}
        requireClientAuth: ${opts.mutual}
        clientCaFiles: [${tls.caCert}]
${client}    systemWorker:
      certFile: ${tls.workerCert}
      keyFile: ${tls.workerKey}
${client}services:
  frontend:
${svc(frontend!, membership[0]!, `      httpPort: ${frontendHttp}\n`)}  history:
${svc(history!, membership[1]!)}  matching:
${svc(matching!, membership[2]!)}  worker:
${svc(worker!, membership[3]!)}${opts.jwksUrl ? `  internal-frontend:\n${svc(internal!, membership[4]!, `      httpPort: ${membership[5]}\n`)}` : ''}clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${TLS_LAB_IP}:${frontend}
dcRedirectionPolicy:
  policy: noop
`;
  const configFile = join(dir, 'temporal-server.yaml');
  writeFileSync(configFile, config);
  const logFile = join(dir, 'temporal-server.log');
  const out = openSync(logFile, 'a');
  // With an authorizer, the server's own system workers (which have no token) go through the
  // internal frontend, which skips authorization, as Temporal advises for JWT set-ups.
  const services = opts.jwksUrl ? ['frontend', 'internal-frontend', 'history', 'matching', 'worker'].flatMap((s) => ['--service', s]) : [];
  const child = spawn(temporalServerBinary(), ['--config-file', configFile, '--allow-no-auth', 'start', ...services], { stdio: ['ignore', out, out] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 90_000;
  while (!(await portOpen(TLS_LAB_IP, frontend!))) {
    if (child.exitCode !== null) throw new Error(`temporal-server exited (${child.exitCode}) before listening; see ${logFile}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`temporal-server did not listen within 90 s; see ${logFile}`); }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    address: `${TLS_LAB_IP}:${frontend}`, process: child, logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function runTemporalCli(args: string[]): Promise<{ code: number; out: string }> {
  const temporal = findTool('temporal', 'MOORING_TEMPORAL_BIN');
  return new Promise((resolve) => execFile(temporal, args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` })));
}

/**
 * The namespace `default` and Mooring's search attributes on a fresh server, through the temporal
 * CLI with `flags` (address, TLS files, API key): what docker/setup-namespace.sh does for compose.
 * A new server answers "not found" for a while, hence the retries.
 */
export async function prepareNamespace(flags: string[]): Promise<void> {
  await eventually('namespace default', async () => (await runTemporalCli(['operator', 'namespace', 'create', '--namespace', 'default', ...flags])).code === 0
    || (await runTemporalCli(['operator', 'namespace', 'describe', '--namespace', 'default', ...flags])).code === 0, 60_000, 1000);
  for (const sa of SEARCH_ATTRIBUTE_FLAGS) {
    const [name, type] = sa.split('=') as [string, string];
    await eventually(`search attribute ${name}`, async () => {
      const r = await runTemporalCli(['operator', 'search-attribute', 'create', '--namespace', 'default', '--name', name, '--type', type, ...flags]);
      if (r.code !== 0 && !/already exists/i.test(r.out)) throw new Error(r.out.trim());
      return true;
    }, 60_000, 1000);
  }
}
