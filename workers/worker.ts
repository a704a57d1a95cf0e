// The Mooring worker ("controller"): one task queue, workflows bundled once, activities built
// from real dependencies, graceful shutdown on SIGINT/SIGTERM (the runtime traps them).
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { DEFAULT_TASK_QUEUE, resolveConnection, withConnectRetry, type ConnectionFlags } from './connection.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: do it once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
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
}

export async function createMooringWorker(opts: WorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection; taskQueue: string; namespace: string }> {
  const { connectionOptions, namespace } = resolveConnection(opts);
  const connection = await withConnectRetry(String(connectionOptions.address), () => NativeConnection.connect(connectionOptions));
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(opts.activityDeps),
      shutdownGraceTime: `${opts.shutdownGraceSeconds ?? 10}s`,
      ...(opts.identity ? { identity: opts.identity } : {}),
    });
    return { worker, connection, taskQueue, namespace };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** Runs until SIGINT/SIGTERM, then closes the connection after run() resolves. */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const { worker, connection, taskQueue, namespace } = await createMooringWorker(opts);
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'INFO', msg: 'worker started', taskQueue, namespace, pid: process.pid })}\n`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}
