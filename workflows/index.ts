// Every workflow the worker registers. Workflow code is bundled: import only deterministic code here.
export { inventoryCheck } from './inventory-check.js';
export { scheduledEtcdBackup } from './etcd-backup/scheduled.js';
export { recoverEtcdFollower } from './etcd-recovery/follower.js';
export { recoverEtcdMajority } from './etcd-recovery/majority.js';
export { recoverEtcdLeader } from './etcd-recovery/leader.js';
export { etcdStatus } from './etcd-status.js';
export { etcdBackup } from './etcd-backup/backup.js';
export { verifyEtcdBackup } from './etcd-backup/verify.js';
export { upgradeCluster } from './upgrade/upgrade.js';
export { provisionHosts } from './provision/hosts.js';
export { provisionProxmox, deprovisionProxmox } from './provision/proxmox.js';
export { provisionCloud } from './provision/cloud.js';
export { provision } from './provision/provision.js';
export { deprovision } from './provision/deprovision.js';
