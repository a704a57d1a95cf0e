// Every workflow the worker registers. Workflow code is bundled: import only deterministic code here.
export { inventoryCheck } from './inventory-check.js';
export { scheduledEtcdBackup } from './scheduled-backup.js';
export { recoverEtcdFollower } from './etcd-recovery/follower.js';
export { recoverEtcdMajority } from './etcd-recovery/majority.js';
export { recoverEtcdLeader } from './etcd-recovery/leader.js';
export { etcdStatus } from './etcd-status.js';
