import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { connectionFlags, withConnectionOptions, withExamples } from '../cli-shared.js';

export function registerWorker(program: Command): void {
  withExamples(withConnectionOptions(program.command('worker')), 'mooring worker', 'TEMPORAL_ADDRESS=temporal.internal:7233 mooring worker --metrics-port 9464', 'mooring doctor              is a worker polling? (run it next to the worker)')
    .description('Run the Mooring worker (the controller that executes runbooks); stops gracefully on SIGINT/SIGTERM')
    .addOption(new Option('--task-queue <name>', 'task queue to poll').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE'))
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:PORT')
    .option('--log-level <level>', 'TRACE, DEBUG, INFO, WARN or ERROR', 'INFO')
    .addHelpText('after', '\nLogs are JSON lines on stderr. Several workers may poll the same queue; a killed worker\'s\nactivities are retried on another within their heartbeat timeout.')
    .action(async (o: Record<string, string>) => {
      const [{ runWorker }, { installRuntime }] = await Promise.all([import('../../workers/worker.js'), import('../../workers/runtime.js')]);
      installRuntime({ logLevel: o.logLevel as 'INFO', ...(o.metricsPort ? { metricsPort: Number(o.metricsPort) } : {}) });
      await runWorker({ ...connectionFlags(o), taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE });
    });
}
