// The etcd-backup run's report (markdown, shown by `mooring status` and in the Web UI). Pure.
import type { BackupTarget } from '../../activities/backup/context.js';
import type { EtcdBackupResult } from './backup.js';

export function renderBackupReport(r: EtcdBackupResult, ctx: { trigger: string; backup: BackupTarget }): string {
  const lines: string[] = [`etcd-backup of ${r.cluster}: ${r.outcome.toUpperCase()} (started by ${ctx.trigger})`, ''];
  const s = r.snapshot;
  if (s) {
    lines.push(`Snapshot: ${s.path} on ${s.member}`, `  revision ${s.revision}, ${s.totalKeys} keys, hash ${s.hash}, etcd ${s.etcdVersion}`,
      `  ${s.size} bytes, sha256 ${s.sha256}, taken ${s.takenAt}`);
  }
  for (const a of r.attempts) lines.push(`Member ${a.member} failed to snapshot and was skipped: ${a.error}`);
  const u = r.uploaded;
  if (u) lines.push(`Off-site: s3://${ctx.backup.objectStore.bucket}/${u.key} (${u.size} bytes encrypted, key ${u.keyId}${u.parts ? `, ${u.parts} part(s)` : ''})${u.alreadyUploaded ? ', committed by an earlier attempt' : ''}`);
  if (r.problems.length) lines.push('', 'Problems:', ...r.problems.map((p) => `- ${p}`));
  for (const ret of r.retention) {
    lines.push('', `Retention ${ret.dryRun ? '(DRY RUN: nothing deleted) ' : ''}at ${ret.where}:`, '```', ret.table, '```');
  }
  return lines.join('\n');
}
