#!/usr/bin/env node
// `mooring`: the command line for every runbook. Each command has --help with examples.
//
// Start-up stays fast because the command modules below import only commander, each other and
// light helpers at the top; what a command needs to do its work (@temporalio/client and worker,
// the AWS SDK, ssh2, the lab, zod and yaml for inventories) is imported inside its action handler
// or its preAction hook. Defining a command must never load those: `mooring --help` and
// `mooring validate` would pay for them (about 2 s), and test/unit/cli-startup.test.ts checks it.
import { Command, CommanderError } from 'commander';
import { CliExit, EXIT_CODE_HELP, ExitCode } from './exit-codes.js';
import { registerValidate } from './commands/validate.js';
import { registerServer } from './commands/server.js';
import { registerWorker } from './commands/worker.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerDecide } from './commands/decide.js';
import { registerList } from './commands/list.js';
import { registerLab } from './commands/lab.js';
import { registerDemo } from './commands/demo.js';
import { registerDemoProvision } from './commands/demo-provision.js';
import { registerBackup } from './commands/backup.js';
import { registerRecover } from './commands/recover.js';
import { registerCompletion } from './commands/completion.js';
import { registerDoctor } from './commands/doctor.js';
import { registerCodecServer } from './commands/codec-server.js';
import { registerUpgrade } from './commands/upgrade.js';
import { registerProvision } from './commands/provision.js';

export function buildProgram(): Command {
  const program = new Command('mooring')
    // Usage errors and --help come back as a CommanderError instead of process.exit (every
    // subcommand inherits this), so runCli decides the exit code and nothing skips a `finally`.
    .exitOverride()
  .description('Operate self-hosted HA Kubernetes (OpenStack, Proxmox VE) as durable Temporal workflows')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', `
Examples (getting started):
  mooring demo-provision                         npm start: seed 001 provisioned behind the OpenStack fake on the lab
  mooring demo                                   lab + Temporal + worker + a first runbook
  mooring validate -c cluster.yaml               check an inventory
  mooring server & mooring worker &              the embedded Temporal server and a worker
  mooring run inventory-check -c cluster.yaml    start a runbook (prints its Web UI link)
  mooring status inventory-check/CLUSTER -f      follow it; approve with mooring approve ID --by NAME
  mooring doctor -c cluster.yaml                 check this machine's set-up, with the fix for each failure
  mooring completion bash|zsh                    shell completion (install: mooring completion --help)

Connection: --address/--namespace or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_* (default 127.0.0.1:7233, namespace default). Payload encryption: MOORING_CODEC_KEYS
(README, "Security"); \`mooring codec-server\` serves it to the Web UI.

${EXIT_CODE_HELP}`);

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
  registerUpgrade(program);
  registerProvision(program);
  registerDemo(program);
  registerDemoProvision(program);
  registerDoctor(program);
  registerCompletion(program);
  registerCodecServer(program);
  return program;
}

/**
 * Runs one command and returns its exit code. A command ends by returning, or by `fail()`
 * (CliExit), after its own `finally` blocks closed what it opened: nothing here calls process.exit.
 */
export async function runCli(argv: string[], from: 'node' | 'user' = 'user'): Promise<number> {
  // Commands that report several problems set process.exitCode (validate, demo); read it, and
  // leave the caller's value as it was.
  const callers = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv, { from });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CliExit) {
      process.stderr.write(err.prefixed ? `mooring: ${err.message}\n` : `${err.message}\n`);
      return err.code;
    }
    // Commander printed the help, version or usage error already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
    process.stderr.write(`mooring: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.failed;
  } finally {
    process.exitCode = callers;
  }
}

// The AWS SDK warns on every S3 client about Node.js versions its future releases will drop
// (NodeVersionSupportWarning, six lines on stderr of `backup list` and of the worker). Which Node
// Mooring supports is `engines` in package.json and the README; the SDK's documented switch turns
// that one warning off, unless the user set it themselves. Other warnings still print.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Run as the program (not when imported by a test).
if (process.argv[1] && /(?:^|[\\/])(?:cli\.js|mooring(?:\.js)?)$/.test(process.argv[1])) {
  // `mooring validate -c x.yaml | head -1`: a reader that stops early ends the command quietly, as
  // with other command-line tools, instead of an EPIPE stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.exitCode = await runCli(process.argv, 'node');
}
