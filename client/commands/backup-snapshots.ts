// `mooring backup run | list | verify`: take a backup now, read the remote catalogue, prove a
// stored snapshot restores. `list` reads the bucket directly from this machine (no worker needed):
// the object store's secret references are resolved here, from this shell's environment or files.
import type { Command } from 'commander';
import { CliExit } from '../exit-codes.js';
import { Option } from 'commander';
import { DEFAULT_TASK_QUEUE } from '../../workers/task-queue.js';
import { fail, inventoryOrExit, outputOption, printData, withConnectionOptions, withExamples } from '../cli-shared.js';
import type * as StartAndFollowModule from './start-and-follow.js';
import { humanBytes, table } from '../render.js';
import type * as ObjectStoreModule from '../../activities/backup/object-store.js';
import { backupTargetOf } from '../../workflows/etcd-backup/target.js';
import type * as BackupActivitiesModule from '../../activities/backup/index.js';
import type { StoredSnapshot } from '../../activities/backup/snapshot-meta.js';
import type { Inventory } from '../../config/schema.js';

// Loaded by each command's preAction hook, not when the CLI starts: the AWS SDK and the Temporal
// client take a second to load, and `mooring --help` or `validate` need neither (see client/cli.ts).
let startAndFollow: typeof StartAndFollowModule.startAndFollow;
let openObjectStore: typeof ObjectStoreModule.openObjectStore;
let remotePrefix: typeof BackupActivitiesModule.remotePrefix;
async function loadImplementation(): Promise<void> {
  [{ startAndFollow }, { openObjectStore }, { remotePrefix }] = await Promise.all([
    import('./start-and-follow.js'), import('../../activities/backup/object-store.js'), import('../../activities/backup/index.js'),
  ]);
}

const taskQueueOption = () => new Option('--task-queue <name>', 'task queue of the worker').default(DEFAULT_TASK_QUEUE).env('MOORING_TASK_QUEUE');

export function registerBackupSnapshots(backup: Command): void {
  withConnectionOptions(backup.command('run'))
    .description('Take a backup now: snapshot a healthy member, check, encrypt, upload, apply retention (runs as ops/<cluster>)')
    .requiredOption('-c, --config <file>', 'inventory file with a backup section')
    .option('--dry-run', 'take nothing; print what retention would delete now in the bucket and on each member, and why')
    .option('--no-wait', 'return after starting instead of following the run')
    .addOption(taskQueueOption())
    .addOption(outputOption())
    .addHelpText('after', '\nExit status: 0 backed up off-site, 6 degraded (no off-site copy: the snapshot stays on the member, nothing deleted), 1 failed, 3 cluster busy.\n\nExamples:\n  mooring backup run -c cluster.yaml\n  mooring backup run -c cluster.yaml --dry-run     # retention plan only, nothing deleted\n  mooring backup run -c cluster.yaml --dry-run -o yaml   # the same plan for a script')
    .hook('preAction', loadImplementation)
    .action(async (o: Record<string, string | boolean>) => {
      const inv = await withBackupOrExit(String(o.config));
      await startAndFollow(o, inv, 'etcd-backup', { ...(o.dryRun ? { planOnly: true } : {}), trigger: 'mooring backup run' }, o.dryRun ? 'dry run' : undefined);
    });

  withConnectionOptions(backup.command('list'))
    .description('The remote catalogue: every snapshot of the cluster in the bucket, oldest first, with time, member, revision, size and state')
    .requiredOption('-c, --config <file>', 'inventory file with a backup section (its object store secrets are read here)')
    .addOption(outputOption())
    .addHelpText('after', '\nState: verified = checked on the node before upload and committed with its manifest;\n       restores = `backup verify` proved the round trip; BAD = a verify found the snapshot bad;\n       incomplete = no manifest (never restored); "last verify inconclusive" = the worker could not check it\n       (no space, tool missing, timeout): not held against the snapshot.\n\nExample:\n  mooring backup list -c cluster.yaml\n  mooring backup list -c cluster.yaml -o json\n  mooring backup verify -c cluster.yaml <ID>')
    .hook('preAction', loadImplementation)
    .action(async (o: Record<string, string>) => {
      const inv = await withBackupOrExit(String(o.config));
      const b = backupTargetOf(inv)!;
      let rows: StoredSnapshot[];
      try {
        const store = await openObjectStore(b.objectStore, { maxAttempts: 2, requestTimeoutMs: 15_000 });
        try { rows = await store.listSnapshots(remotePrefix(b)); } finally { store.close(); }
      } catch (err) {
        if (err instanceof CliExit) throw err;
        fail((err as Error).message);
      }
      if (await printData(o, rows.map((r) => ({ id: idOf(r.key), ...r })))) return;
      if (rows.length === 0) return void process.stdout.write(`no snapshots of ${inv.cluster.name} in s3://${b.objectStore.bucket}/${remotePrefix(b)}\n`);
      process.stdout.write(`${table(['id', 'taken at', 'member', 'revision', 'size', 'state'], rows.map((r) => [
        idOf(r.key), r.takenAt, r.member, String(r.revision), humanBytes(r.size), stateOf(r),
      ]))}\n`);
    });

  withExamples(withConnectionOptions(backup.command('verify')), 'mooring backup list -c cluster.yaml              pick an ID', 'mooring backup verify -c cluster.yaml prod-20261206T030000Z-e2')
    .description('Prove a stored snapshot restores: download, decrypt, sha256 against the catalogue, snapshot status, trial restore into a scratch dir (on the worker)')
    .requiredOption('-c, --config <file>', 'inventory file with a backup section')
    .argument('<id>', 'snapshot id from `mooring backup list` (or its full object key)')
    .option('--no-wait', 'return after starting instead of following the run')
    .addOption(taskQueueOption())
    .addOption(outputOption())
    .addHelpText('after', '\nExit status: 0 good, 1 bad (its bytes failed a check; recorded, retention treats it as unverified),\n7 inconclusive (this worker could not check it: tool missing, no space in MOORING_VERIFY_DIR or the temp dir, timeout;\nrecorded as such, the snapshot keeps its trust).')
    .hook('preAction', loadImplementation)
    .action(async (id: string, o: Record<string, string | boolean>) => {
      const inv = await withBackupOrExit(String(o.config));
      const key = keyOf(inv, id);
      await startAndFollow(o, inv, 'etcd-backup-verify', { snapshotKey: key });
    });
}

/** The id `list` prints: the object name without prefix and suffix. */
export function idOf(key: string): string {
  return key.split('/').pop()!.replace(/\.db\.enc$/, '');
}

function keyOf(inv: Inventory, id: string): string {
  const b = backupTargetOf(inv)!;
  if (id.includes('/')) return id;
  if (!/^[A-Za-z0-9][A-Za-z0-9._=+-]*$/.test(id)) fail(`snapshot id "${id}" is not one \`mooring backup list\` prints`, 2);
  return `${remotePrefix(b)}${id}.db.enc`;
}

export function stateOf(r: StoredSnapshot): string {
  if (!r.complete) return 'incomplete';
  const state = r.roundTrip ? (r.roundTrip.ok ? `restores (${r.roundTrip.at})` : `BAD: ${r.roundTrip.problem ?? 'verify failed'}`) : r.verified ? 'verified' : 'unverified';
  // Not a verdict: the snapshot keeps the state above; the operator learns the verifier needs fixing.
  return r.inconclusive ? `${state}; last verify inconclusive (${r.inconclusive.at}): ${r.inconclusive.problem}` : state;
}

async function withBackupOrExit(file: string): Promise<Inventory> {
  const inv = await inventoryOrExit(file);
  if (!inv.backup) fail(`${file}: no backup section: add backup.objectStore, backup.encryptionKey and backup.schedule (see docs/inventory.md)`, 2);
  return inv;
}
