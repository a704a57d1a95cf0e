// Runtime.install must run once per process before any connection: structured JSON logs to
// stderr, and Prometheus metrics on loopback when asked for.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

export function installRuntime(opts: { logLevel?: LogLevel; metricsPort?: number } = {}): void {
  if (installed) return;
  installed = true;
  const logger = new DefaultLogger(opts.logLevel ?? 'INFO', (entry) => {
    const { level, message, meta, timestampNanos } = entry;
    process.stderr.write(`${JSON.stringify({ ts: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level, msg: message, ...meta })}\n`);
  });
  Runtime.install({
    logger,
    ...(opts.metricsPort ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${opts.metricsPort}` } } } } : {}),
  });
}
