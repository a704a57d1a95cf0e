// What the backup activities need, built by the workflow from the inventory's `backup` section:
// object store settings and key by reference only (secrets are resolved inside activities).
import type { SecretRef } from '../secrets.js';
import type { ObjectStoreSettings } from './object-store.js';
import type { RetentionPolicy } from './retention.js';

export interface BackupTarget {
  cluster: string;
  objectStore: ObjectStoreSettings;
  encryptionKey: SecretRef;
  /** Directory on the members for local copies. */
  localDir: string;
  retention: RetentionPolicy;
  /** Object key prefix; snapshots go under `<prefix><cluster>/`. */
  prefix: string;
}

export const SNAPSHOT_PREFIX = 'etcd/';
