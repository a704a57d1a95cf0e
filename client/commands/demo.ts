import type { Command } from 'commander';
import { CliExit } from '../exit-codes.js';
import { join } from 'node:path';
import type { DevServer } from '../devserver.js';
import { findRunbook } from '../runbooks.js';
import type { StartOptions } from '../start.js';
import type { snapshot } from '../watch.js';
import { fail, withExamples } from '../cli-shared.js';

export function registerDemo(program: Command): void {
  withExamples(program.command('demo'), 'mooring demo', 'mooring lab down              stop the lab afterwards')
    .description('The README\'s main job: bring up the lab, the embedded Temporal server (with Web UI) and a worker, then run inventory-check, etcd-status and etcd-backup on the lab')
    .option('--dir <dir>', 'lab directory (default .lab)')
    .option('--subnet <a.b.c>', 'loopback /24 for the lab nodes', '127.10.0')
    .option('--port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--manual-approval', 'wait for `mooring approve` instead of approving as "mooring-demo"')
    .option('--exit', 'stop the server and worker when the run ends (default when not on a terminal)')
    .action(async (o: { dir?: string; subnet: string; port: string; uiPort: string; manualApproval?: boolean; exit?: boolean }) => {
      const [{ Lab }, { loadInventory }, { createMooringWorker }, { installRuntime }, { portOpen, startDevServer }, { connectClient, runUrl }, { ClusterBusyError, startRunbook }, { decide }, { follow }] = await Promise.all([
        import('../../lab/lab.js'), import('../../config/load.js'), import('../../workers/worker.js'), import('../../workers/runtime.js'), import('../devserver.js'),
        import('../connect.js'), import('../start.js'), import('../decide.js'), import('../watch.js'),
      ]);
      installRuntime({ logLevel: 'WARN' });
      const say = (m: string) => process.stdout.write(`${m}\n`);
      const lab = new Lab({ ...(o.dir ? { dir: o.dir } : {}), subnet: o.subnet });
      say(`1/6 lab: real sshd on ${o.subnet}.x:22 for 7 SIMULATED hosts, real etcd 3.4 with TLS on 3 of them`);
      const inventoryFile = await lab.up();
      const address = `127.0.0.1:${o.port}`;
      process.env.MOORING_UI_URL ??= `http://127.0.0.1:${o.uiPort}`;
      let server: DevServer | undefined;
      if (await portOpen('127.0.0.1', Number(o.port))) say(`2/6 Temporal: using the server already on ${address}`);
      else {
        server = await startDevServer({ port: Number(o.port), uiPort: Number(o.uiPort), dbFile: join(lab.dir, 'temporal.db'), logFile: join(lab.dir, 'temporal.log') });
        say(`2/6 Temporal: dev server on ${address}, Web UI ${server.uiUrl} (data in ${join(lab.dir, 'temporal.db')})`);
      }
      const { worker, connection } = await createMooringWorker({ address });
      const running = worker.run();
      say('3/6 worker: polling task queue "mooring"');
      const mc = await connectClient({ address });
      try {
        const inv = await loadInventory(inventoryFile);
        let workflowId: string;
        let runId: string | undefined;
        try {
          const h = await startRunbook(mc.client, findRunbook('inventory-check'), inv);
          workflowId = h.workflowId;
          runId = h.firstExecutionRunId;
        } catch (err) {
          if (!(err instanceof ClusterBusyError)) throw err;
          say(`(${err.message})`);
          workflowId = err.workflowId;
          runId = err.runId;
        }
        say(`4/6 runbook inventory-check: ${workflowId}\n    Web UI: ${runUrl(mc.namespace, workflowId, runId)}`);
        if (o.manualApproval) say(`    waiting for: mooring approve ${workflowId} --by NAME`);
        else {
          await waitForGate(mc.client, workflowId);
          const d = await decide(mc.client, workflowId, { approved: true, by: 'mooring-demo', comment: 'approved by `mooring demo`; pass --manual-approval to decide yourself' });
          say(`    approved "${d.step}" as ${d.by} (recorded in the run's history)`);
        }
        const outcome = await follow(mc.client, workflowId, { ...(runId ? { runId } : {}), print: () => {} });
        if (outcome.progress?.report) say(`\n${outcome.progress.report}\n`);
        // inventory-check is the preflight for provisioning; the lab's etcd already runs, so its ports are taken.
        if (/ports 2379, 2380 already in use/.test(outcome.progress?.report ?? '')) say('(2379/2380 are busy on the etcd nodes because the lab\'s own etcd runs there: inventory-check is the check before provisioning)');
        say(`run ${outcome.status}: ${runUrl(mc.namespace, workflowId, outcome.runId)}`);
        if (outcome.status !== 'COMPLETED') process.exitCode = 1;

        // Runbooks without a gate: start (or join the one already running) and follow to the end.
        const runToEnd = async (step: string, name: string, opts: StartOptions = {}, after = '') => {
          const h = await startRunbook(mc.client, findRunbook(name), inv, opts).catch((err: unknown) => {
            if (err instanceof ClusterBusyError) return mc.client.workflow.getHandle(err.workflowId);
            throw err;
          });
          say(`\n${step} runbook ${name}: ${h.workflowId}\n    Web UI: ${runUrl(mc.namespace, h.workflowId)}`);
          const end = await follow(mc.client, h.workflowId, { print: () => {} });
          if (end.progress?.report) say(`\n${end.progress.report}\n`);
          say(`run ${end.status}: ${runUrl(mc.namespace, h.workflowId, end.runId)}${after}`);
          if (end.status !== 'COMPLETED') process.exitCode = 1;
        };
        // Then the lab's real etcd cluster, read-only, and a backup of it into the lab's S3
        // (snapshot, checks, encryption, upload, retention).
        await runToEnd('5/6', 'etcd-status');
        await runToEnd('6/6', 'etcd-backup', { trigger: 'mooring demo' }, `\n    the catalogue: mooring backup list -c ${inventoryFile}`);
        const stay = !o.exit && process.stdout.isTTY && !process.env.CI;
        if (stay && server) {
          say(`\nThe Web UI stays up at ${server.uiUrl} with the worker running. Ctrl-C to stop (the lab keeps running: \`mooring lab down\`).`);
          await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
        }
      } catch (err) {
        if (err instanceof CliExit) throw err;
        fail((err as Error).message);
      } finally {
        worker.shutdown();
        await running.catch(() => undefined);
        await connection.close();
        await mc.close();
        await server?.stop();
      }
    });
}

async function waitForGate(client: Parameters<typeof snapshot>[0], workflowId: string): Promise<void> {
  const { snapshot } = await import('../watch.js');
  for (let i = 0; i < 300; i++) {
    const s = await snapshot(client, workflowId);
    if (s.progress?.pendingApproval || s.status !== 'RUNNING') return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
