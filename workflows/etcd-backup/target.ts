// From the inventory's `backup` section to what the backup activities need. Pure.
import type { Inventory } from '../../config/schema.js';
import { SNAPSHOT_PREFIX, type BackupTarget } from '../../activities/backup/context.js';

export function backupTargetOf(inv: Inventory): BackupTarget | undefined {
  const b = inv.backup;
  if (!b) return undefined;
  return {
    cluster: inv.cluster.name,
    objectStore: { endpoint: b.objectStore.endpoint, bucket: b.objectStore.bucket, region: b.objectStore.region, accessKey: b.objectStore.accessKey, secretKey: b.objectStore.secretKey },
    encryptionKey: b.encryptionKey,
    localDir: b.localDir,
    retention: { ...b.retention },
    prefix: SNAPSHOT_PREFIX,
  };
}
