// How Mooring names the snapshots it keeps on members. Pure: the workflow names a run's snapshot
// (from workflow time, so a retry reuses the name) and the activities recognise their own files.

/** Names Mooring gives local snapshots: `<cluster>-<20261201T101500Z>-<member>.db`. */
export function localSnapshotName(cluster: string, compactTime: string, member: string): string {
  return `${cluster}-${compactTime}-${member}.db`;
}

export const LOCAL_NAME = /^(?<cluster>[a-z0-9-]+)-(?<time>\d{8}T\d{6}Z)-(?<member>[a-z0-9-]+)\.db$/;

/** Compact UTC time for names: 2026-12-01T10:15:00.123Z → 20261201T101500Z. */
export function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

