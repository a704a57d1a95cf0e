// Picking the snapshot to restore: the newest file that passed its integrity check, across all
// members; newer files that failed are listed so the approver sees what is being given up. Pure.
import type { SnapshotCheck } from '../../activities/etcd-recovery/snapshots.js';
import { compareCodePoints } from '../runbook/order.js';

export interface SnapshotChoice {
  host: string;
  path: string;
  revision: number;
  totalKeys: number;
  hash: number;
  mtime: number;
  rejected: { host: string; path: string; error: string; newerBySeconds: number }[];
  /** Set when the snapshot came from the bucket (etcd-backup) rather than a member's directory. */
  remoteKey?: string;
}

export function chooseSnapshot(found: readonly { host: string; checks: readonly SnapshotCheck[] }[]): SnapshotChoice | undefined {
  const all = found.flatMap((f) => f.checks.map((c) => ({ ...c, host: f.host }))).sort((a, b) => b.mtime - a.mtime || compareCodePoints(a.host, b.host));
  const best = all.find((c) => c.ok);
  if (!best) return undefined;
  return {
    host: best.host, path: best.path, revision: best.revision ?? 0, totalKeys: best.totalKeys ?? 0, hash: best.hash ?? 0, mtime: best.mtime,
    rejected: all.filter((c) => !c.ok && c.mtime >= best.mtime).map((c) => ({ host: c.host, path: c.path, error: c.error ?? 'failed', newerBySeconds: c.mtime - best.mtime })),
  };
}
