#!/usr/bin/env node
// `mooring`: the command line for every runbook. Each command has --help with examples.
//
// Start-up stays fast because the command modules below import only commander, each other and
// light helpers at the top; what a command needs to do its work (@temporalio/client and worker,
// the AWS SDK, ssh2, the lab, zod and yaml for inventories) is imported inside its action handler
// or its preAction hook. Defining a command must never load those: `mooring --help` and
// `mooring validate` would pay for them (about 2 s), and test/unit/cli-startup.test.ts checks it.
import { Command } from 'commander';
import { registerValidate } from './commands/validate.js';
import { registerServer } from './commands/server.js';
import { registerWorker } from './commands/worker.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerDecide } from './commands/decide.js';
import { registerList } from './commands/list.js';
import { registerLab } from './commands/lab.js';
import { registerDemo } from './commands/demo.js';
import { registerBackup } from './commands/backup.js';
import { registerRecover } from './commands/recover.js';

const program = new Command('mooring')
  .description('Operate self-hosted HA Kubernetes (OpenStack, Proxmox VE) as durable Temporal workflows')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', `
Getting started:
  mooring demo                                   lab + Temporal + worker + a first runbook
  mooring validate -c cluster.yaml               check an inventory
  mooring server & mooring worker &              the embedded Temporal server and a worker
  mooring run inventory-check -c cluster.yaml    start a runbook (prints its Web UI link)
  mooring status inventory-check/CLUSTER -f      follow it; approve with mooring approve ID --by NAME

Connection: --address/--namespace or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_* (default 127.0.0.1:7233, namespace default).`);

// The AWS SDK warns on every S3 client about Node.js versions its future releases will drop
// (NodeVersionSupportWarning, six lines on stderr of `backup list` and of the worker). Which Node
// Mooring supports is `engines` in package.json and the README; the SDK's documented switch turns
// that one warning off, unless the user set it themselves. Other warnings still print.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `mooring validate -c x.yaml | head -1`: a reader that stops early ends the command quietly, as
// with other command-line tools, instead of an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

registerValidate(program);
registerServer(program);
registerWorker(program);
registerRun(program);
registerStatus(program);
registerDecide(program);
registerList(program);
registerLab(program);
registerBackup(program);
registerRecover(program);
registerDemo(program);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`mooring: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
