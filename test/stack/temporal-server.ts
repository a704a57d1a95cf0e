// The real Temporal server of the release docker-compose.yml pins (TEMPORAL_VERSION in
// docker/versions.env), as built by scripts/build-temporal.sh, configured the way the
// temporalio/server image is: its embedded configuration template read from the same environment
// variables compose sets. Plus the two docker/ scripts compose's admin-tools services run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { readEnvFile } from '../helpers/compose.js';
import type { TestPostgres } from './postgres.js';

const run = promisify(execFile);

/** ~/.cache/mooring/temporal/<TEMPORAL_VERSION>, or a clear error naming the set-up step. */
export function temporalBuildDir(): { dir: string; version: string } {
  const version = readEnvFile().TEMPORAL_VERSION!;
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mooring', 'temporal', version);
  if (!existsSync(join(dir, 'temporal-server')) || !existsSync(join(dir, 'temporal-sql-tool'))) {
    throw new Error(`the Temporal server ${version} is not built in ${dir}: run npm run setup (or scripts/build-temporal.sh)`);
  }
  return { dir, version };
}

/** PATH with the built server tools and the Temporal CLI first: what the admin-tools image has. */
function toolsPath(): string {
  return [temporalBuildDir().dir, join(findTool('temporal', 'MOORING_TEMPORAL_BIN'), '..'), process.env.PATH ?? ''].join(delimiter);
}

/** docker/setup-postgres.sh, with the variables compose's temporal-schema service sets. */
export async function setupSchema(pg: TestPostgres): Promise<string> {
  const { stdout, stderr } = await run('sh', [join(PROJECT_ROOT, 'docker', 'setup-postgres.sh')], {
    env: { ...process.env, PATH: toolsPath(), POSTGRES_SEEDS: pg.host, DB_PORT: String(pg.port), POSTGRES_USER: pg.user, SQL_PASSWORD: pg.password },
    timeout: 180_000,
  });
  return stdout + stderr;
}

/** docker/setup-namespace.sh, with the variables compose's temporal-namespace service sets. */
export async function setupNamespace(address: string): Promise<string> {
  const { stdout, stderr } = await run('sh', [join(PROJECT_ROOT, 'docker', 'setup-namespace.sh')], {
    env: { ...process.env, PATH: toolsPath(), TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' },
    timeout: 240_000,
  });
  return stdout + stderr;
}

export interface ServerProcess {
  child: ChildProcess;
  address: string;
  /** SIGTERM, then SIGKILL after 30 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** temporal-server start, every service in one process, on `ip` (frontend gRPC on `grpcPort`). */
export async function startTemporalServer(pg: TestPostgres, ip: string, grpcPort: number, logFile: string): Promise<ServerProcess> {
  const { dir } = temporalBuildDir();
  const log = openSync(logFile, 'a');
  const child = spawn(join(dir, 'temporal-server'), ['start'], {
    stdio: ['ignore', log, log],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // As in docker-compose.yml's temporal service.
      DB: 'postgres12', DB_PORT: String(pg.port), POSTGRES_USER: pg.user, POSTGRES_PWD: pg.password, POSTGRES_SEEDS: pg.host,
      BIND_ON_IP: ip, FRONTEND_GRPC_PORT: String(grpcPort),
      DYNAMIC_CONFIG_FILE_PATH: join(PROJECT_ROOT, 'docker', 'dynamicconfig.yaml'),
      LOG_LEVEL: 'warn',
    },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const address = `${ip}:${grpcPort}`;
  const cli = findTool('temporal', 'MOORING_TEMPORAL_BIN');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`temporal-server exited (${child.exitCode ?? child.signalCode}) before serving; see ${logFile}`);
    try {
      await run(cli, ['operator', 'cluster', 'health', '--address', address], { timeout: 10_000 });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal-server on ${address} not healthy after 120 s (see ${logFile}): ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return {
    child, address,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}
