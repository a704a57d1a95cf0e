// The stack docker-compose.yml deploys, proven as processes (CI has no Docker engine): the real
// Temporal server of the pinned release (built from go.temporal.io/server by set-up, not the dev
// server) on Debian's PostgreSQL, its schema and Mooring's namespace and search attributes set up
// by the same docker/ scripts compose runs, two Mooring workers (`mooring worker` processes) on
// one task queue, and a follower recovery on the lab during which the server is restarted and
// the worker running its activity is SIGKILLed: the run finishes on the other worker.
// Loopback: services on 127.70.0.x, the lab on 127.71.0.x.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import { freePorts } from '../../lab/ports.js';
import { findTool } from '../../client/tools.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/runbook/search-attributes.js';
import { mooring } from '../helpers/cli.js';
import { readEnvFile } from '../helpers/compose.js';
import { scratchDir } from '../helpers/scratch.js';
import { eventually, uniqueTaskQueue } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { setupNamespace, setupSchema, startTemporalServer, temporalBuildDir, type ServerProcess } from './temporal-server.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const PG_IP = '127.70.0.1';
const TEMPORAL_IP = '127.70.0.2';
const LAB_SUBNET = '127.71.0';
const WORKFLOW_ID = 'ops/lab';

describe('production stack as processes: Temporal server on PostgreSQL, two workers, the compose scripts', () => {
  const dir = scratchDir('mooring-stack-');
  let pg: TestPostgres | undefined;
  let server: ServerProcess | undefined;
  let grpcPort: number;
  let schemaLog: string;
  let namespaceLog: string;
  let connection: Connection | undefined;
  let client: Client;
  let lab: Lab | undefined;
  let workers: WorkerProcess[] = [];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const [pgPort, port] = await freePorts(2) as [number, number];
    grpcPort = port;
    pg = startPostgres(PG_IP, pgPort);
    schemaLog = await setupSchema(pg);
    server = await startTemporalServer(pg, TEMPORAL_IP, grpcPort, join(dir, 'temporal-server.log'));
    namespaceLog = await setupNamespace(server.address);
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: 'default', identity: 'mooring-tests' });
    lab = new Lab({ dir: scratchDir('mooring-stack-lab-'), subnet: LAB_SUBNET });
    await lab.up();
    const taskQueue = uniqueTaskQueue('stack');
    workers = [1, 2].map((i) => startWorkerProcess(server!.address, taskQueue, join(dir, `worker-${i}.log`)));
    await Promise.all(workers.map((w) => w.ready));
    env = { TEMPORAL_ADDRESS: server.address, MOORING_TASK_QUEUE: taskQueue };
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    await server?.stop();
    await lab?.down().catch(() => undefined);
    pg?.stop();
  });

  it('runs the versions docker/versions.env pins: the Temporal release, the PostgreSQL major', () => {
    const versions = readEnvFile();
    const { dir: bin, version } = temporalBuildDir();
    assert.equal(version, versions.TEMPORAL_VERSION);
    assert.match(execFileSync(join(bin, 'temporal-server'), ['--version']).toString(), new RegExp(`version ${version.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(pg!.version.split('.')[0], versions.POSTGRESQL_VERSION!.split('.')[0], 'the test runs the PostgreSQL major compose pins');
  });

  it('docker/setup-postgres.sh set up both databases, and a second run changes nothing and succeeds', async () => {
    assert.match(schemaLog, /databases temporal and temporal_visibility are at the schema of/);
    const again = await setupSchema(pg!);
    // temporal-sql-tool's own account: both databases already at the newest version, nothing applied.
    const current = [...again.matchAll(/found zero updates from current version (\d+\.\d+)/g)].map((m) => m[1]);
    assert.equal(current.length, 2, again);
  });

  it('docker/setup-namespace.sh created the namespace and registered every search attribute the workflows set', async () => {
    assert.match(namespaceLog, /namespace default created/);
    const list = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['operator', 'search-attribute', 'list', '--address', server!.address, '--namespace', 'default']).toString();
    for (const flag of SEARCH_ATTRIBUTE_FLAGS) {
      const [name] = flag.split('=');
      assert.match(list, new RegExp(`\\b${name}\\b\\s+Keyword`), `${name} registered as Keyword`);
    }
    const again = await setupNamespace(server!.address);
    assert.match(again, /namespace default exists/);
    assert.match(again, /search attribute MooringPhase exists/);
  });

  it('a follower recovery survives a server restart at its gate and its worker SIGKILLed mid-activity, finishing on the other worker', async (t) => {
    const members = lab!.etcdMembers();
    await hostEtcdctl(lab!.etcdSettings, members[0]!, members.map((m) => clientEndpoint(lab!.etcdSettings, m)), ['put', 'canary', 'before-the-failure'], 5);
    lab!.killEtcd('etcd-2');
    const running = mooring(['recover', 'etcd', 'follower', '-c', lab!.inventoryFile, '--canary', 'canary=before-the-failure'], env, 600_000);
    const handle = client.workflow.getHandle(WORKFLOW_ID);
    await eventually('the approval gate', async () => (await handle.query(progressQuery)).pendingApproval, 120_000, 300);

    // Restart the server: the run and its gate live in PostgreSQL, not in the server process.
    await server!.stop();
    server = await startTemporalServer(pg!, TEMPORAL_IP, grpcPort, join(dir, 'temporal-server.log'));
    const gate = await eventually('the gate after the restart', async () => (await handle.query(progressQuery)).pendingApproval, 120_000, 500);
    assert.ok(gate, 'the gate is still pending after the restart');

    const approved = await mooring(['approve', WORKFLOW_ID, '--by', 'oncall', '--comment', 'production-stack test'], env);
    assert.equal(approved.code, 0, approved.stderr);

    // The worker running the first activity after the approval is killed while it runs it.
    const identities = new Map(workers.map((w) => [`${w.child.pid}@${hostname()}`, w]));
    const running1 = await eventually('an activity started on one of the workers', async () => {
      const d = await handle.describe();
      return d.raw.pendingActivities?.find((a) => a.lastWorkerIdentity && identities.has(a.lastWorkerIdentity) && a.lastStartedTime) ?? undefined;
    }, 120_000, 50);
    const victim = identities.get(running1.lastWorkerIdentity!)!;
    t.diagnostic(`killing worker ${running1.lastWorkerIdentity} while it runs ${running1.activityType?.name ?? '?'}`);
    const survivor = workers.find((w) => w !== victim)!;
    const killedAt = Date.now();
    assert.equal(await victim.kill9(), 'SIGKILL');

    const r = await running;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await Promise.all(members.map((m) => memberHealthy(lab!.etcdSettings, m)))).every(Boolean), 'three healthy members');

    // After the kill, every activity ran on the surviving worker.
    const survivorIdentity = `${survivor.child.pid}@${hostname()}`;
    const history = await handle.fetchHistory();
    const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
    const startedAfterKill = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes && ms(e.eventTime) > killedAt);
    assert.ok(startedAfterKill.length > 0, 'activities ran after the kill');
    for (const e of startedAfterKill) assert.equal(e.activityTaskStartedEventAttributes!.identity, survivorIdentity);
  });
});
