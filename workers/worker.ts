// The Mooring worker ("controller"): one task queue, workflows bundled once, activities built
// from real dependencies, graceful shutdown on SIGINT/SIGTERM (the runtime traps them).
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { DEFAULT_TASK_QUEUE, resolveConnection, withConnectRetry, type ConnectionFlags } from './connection.js';
import type { AesGcmPayloadCodec } from './codec/aes-gcm.js';
import { SshPool } from '../activities/ssh/pool.js';
import { FAILURE_CONVERTER_PATH, codecFromEnv, encryptingDataConverter } from './codec/config.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

const bundles = new Map<boolean, Promise<WorkflowBundleWithSourceMap>>();
/**
 * Bundling takes seconds: do it once per process and shape. With the payload codec on, the
 * workflow sandbox needs the failure converter that encodes messages (`encodeFailures`), so that
 * a workflow's own failures are encrypted too; the bundle is the only way into the sandbox.
 */
export function workflowBundle(opts: { encodeFailures?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  const encodeFailures = opts.encodeFailures ?? false;
  let bundle = bundles.get(encodeFailures);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger, ...(encodeFailures ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {}) });
    bundles.set(encodeFailures, bundle);
  }
  return bundle;
}

/** Worker options that differ with the payload codec: the data converter and the matching bundle. */
export async function codecWorkerOptions(codec: AesGcmPayloadCodec | undefined) {
  return codec
    ? { dataConverter: encryptingDataConverter(codec), workflowBundle: await workflowBundle({ encodeFailures: true }) }
    : { workflowBundle: await workflowBundle() };
}

const quietBundlerLogger = {
  log() {}, trace() {}, debug() {}, info() {},
  warn(message: string, meta?: Record<string, unknown>) { process.stderr.write(`bundler: ${message} ${meta ? JSON.stringify(meta) : ''}\n`); },
  error(message: string, meta?: Record<string, unknown>) { process.stderr.write(`bundler: ${message} ${meta ? JSON.stringify(meta) : ''}\n`); },
};

export interface WorkerOptions extends ConnectionFlags {
  taskQueue?: string;
  activityDeps?: ActivityDeps;
  /** Seconds in-flight activities get to finish on shutdown before they are cancelled. */
  shutdownGraceSeconds?: number;
  identity?: string;
  /** The payload codec; by default the one MOORING_CODEC_KEYS configures (none when unset). */
  codec?: AesGcmPayloadCodec | null;
}

export async function createMooringWorker(opts: WorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection; sshPool: SshPool; taskQueue: string; namespace: string; codecKeyIds?: string[] }> {
  const { connectionOptions, namespace } = resolveConnection(opts);
  // Keys are resolved before connecting: a missing key is a configuration error to report now.
  const codec = opts.codec === undefined ? await codecFromEnv('the worker') : opts.codec ?? undefined;
  const connection = await withConnectRetry(String(connectionOptions.address), () => NativeConnection.connect(connectionOptions));
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  // SSH connections reused across this worker's activities (activities/ssh/pool.ts); closed after run().
  const sshPool = opts.activityDeps?.sshPool ?? new SshPool();
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      ...(await codecWorkerOptions(codec)),
      activities: createActivities({ ...opts.activityDeps, sshPool }),
      shutdownGraceTime: `${opts.shutdownGraceSeconds ?? 10}s`,
      ...(opts.identity ? { identity: opts.identity } : {}),
    });
    return { worker, connection, sshPool, taskQueue, namespace, ...(codec ? { codecKeyIds: codec.keyIds } : {}) };
  } catch (err) {
    sshPool.close();
    await connection.close();
    throw err;
  }
}

/** Runs until SIGINT/SIGTERM, then closes the connection after run() resolves. */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const { worker, connection, sshPool, taskQueue, namespace, codecKeyIds } = await createMooringWorker(opts);
  // Key ids (never keys) say whether payloads are encrypted and with which key.
  const encryption = codecKeyIds ? { payloadEncryption: 'on', encryptKeyId: codecKeyIds[0], decryptKeyIds: codecKeyIds } : { payloadEncryption: 'off' };
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, namespace, ...encryption, pid: process.pid })}\n`);
  try {
    await worker.run();
  } finally {
    // run() resolves once in-flight activities finished or were cancelled: no lease is left.
    sshPool.close();
    await connection.close();
  }
}
