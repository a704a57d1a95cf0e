import type { Command } from 'commander';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../tools.js';
import { withExamples } from '../cli-shared.js';

export function registerServer(program: Command): void {
  withExamples(program.command('server'), 'mooring server                    Web UI on http://127.0.0.1:8233', 'mooring server --in-memory --port 7300 --ui-port 8300')
    .description('Run the embedded Temporal dev server (real server + Web UI) with persistence and Mooring\'s search attributes')
    .option('--ip <address>', 'address to listen on (keep it on loopback)', '127.0.0.1')
    .option('--port <port>', 'frontend gRPC port', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--db <file>', 'SQLite file that keeps workflows across restarts', join(PROJECT_ROOT, '.lab', 'temporal.db'))
    .option('--in-memory', 'keep nothing across restarts')
    .addHelpText('after', '\nRuns in the foreground until Ctrl-C. Then: `mooring worker` in another terminal.')
    .action(async (o: { ip: string; port: string; uiPort: string; db: string; inMemory?: boolean }) => {
      const { startDevServer } = await import('../devserver.js');
      const server = await startDevServer({ ip: o.ip, port: Number(o.port), uiPort: Number(o.uiPort), ...(o.inMemory ? {} : { dbFile: o.db }) });
      process.stdout.write(`Temporal dev server on ${server.address}, Web UI ${server.uiUrl}${o.inMemory ? ' (in memory)' : `, data in ${o.db}`}\nCtrl-C to stop.\n`);
      const stop = () => { void server.stop(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise((r) => server.process.once('exit', r));
    });
}
