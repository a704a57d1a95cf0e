// Options and helpers every CLI command shares: connection flags, --output, inventory loading,
// and one way to turn errors into a message and an exit code.
import { Command, Option } from 'commander';
import type { Inventory } from '../config/schema.js';
import type { ConnectionFlags } from '../workers/connection.js';
import { CliExit, ExitCode } from './exit-codes.js';
import { OUTPUT_FORMATS, renderData } from './render.js';

export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--address <host:port>', 'Temporal frontend address').env('TEMPORAL_ADDRESS'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE'))
    .option('--tls-cert <file>', 'client certificate for mTLS (PEM)')
    .option('--tls-key <file>', 'client key for mTLS (PEM)')
    .option('--tls-ca <file>', 'CA that signed the server certificate (PEM)')
    .addOption(new Option('--api-key <key>', 'Temporal Cloud API key (prefer the env variable: flags show in `ps`)').env('TEMPORAL_API_KEY').hideHelp());
}

export function connectionFlags(o: Record<string, unknown>): ConnectionFlags {
  const pick = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const flags: ConnectionFlags = {};
  const set = <K extends keyof ConnectionFlags>(k: K, v: string | undefined) => { if (v) flags[k] = v; };
  set('address', pick('address'));
  set('namespace', pick('namespace'));
  set('tlsCert', pick('tlsCert'));
  set('tlsKey', pick('tlsKey'));
  set('tlsCa', pick('tlsCa'));
  set('apiKey', pick('apiKey'));
  return flags;
}

/** -o/--output of every command that shows data: `table` for people, `json` or `yaml` (the same fields) for scripts. */
export const outputOption = () => new Option('-o, --output <format>', 'table for people; json or yaml for scripts (same fields)').choices(OUTPUT_FORMATS).default('table');

/**
 * Prints `value` as JSON or YAML when the command was asked for one and returns true; returns
 * false for `table`, so the caller prints its table: `if (await printData(o, rows)) return;`.
 */
export async function printData(o: { output?: unknown }, value: unknown): Promise<boolean> {
  if (o.output !== 'json' && o.output !== 'yaml') return false;
  process.stdout.write(await renderData(value, o.output));
  return true;
}

/** Adds an "Examples:" section to a command's --help (every command teaches by example; a test checks it). */
export function withExamples<C extends Command>(cmd: C, ...lines: string[]): C {
  cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  return cmd;
}

/** Loads and validates the inventory; on problems prints every one and exits 2 before anything is touched. */
export async function inventoryOrExit(file: string): Promise<Inventory> {
  // zod and yaml load here rather than at start-up: `mooring --help` needs neither.
  const { InventoryError, loadInventory } = await import('../config/load.js');
  try {
    return await loadInventory(file);
  } catch (err) {
    if (err instanceof InventoryError) {
      throw new CliExit(`${err.message}\nNothing was started. Fix the inventory and run \`mooring validate -c ${file}\`.`, ExitCode.invalidInput, false);
    }
    throw err;
  }
}

/** Parses durations like 30s, 15m, 2h into milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`"${value}" is not a duration: use a number with s, m, h or d, e.g. 30m`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * Ends the command with `message` and an exit code (see exit-codes.ts). It throws rather than
 * exiting, so every `finally` on the way out runs and closes its Temporal connection; the
 * entry point prints the message and sets the exit code.
 */
/** `--canary KEY=VALUE`: a key that must read back after a runbook. */
export function parseCanary(value: unknown): { key: string; value: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const at = value.indexOf('=');
  if (at <= 0) fail(`--canary "${value}" must be KEY=VALUE`, ExitCode.invalidInput);
  return { key: value.slice(0, at), value: value.slice(at + 1) };
}

export function fail(message: string, code: number = ExitCode.failed): never {
  throw new CliExit(message, code);
}
