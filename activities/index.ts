// Every activity Mooring registers, built from its dependencies so tests can hand in real or fake ones.
import { createInventoryActivities } from './inventory/probe.js';
import { createEtcdRecoveryActivities } from './etcd-recovery/index.js';
import { createEtcdStatusActivities } from './etcd/status.js';
import { createBackupActivities } from './backup/index.js';
import { createControlPlaneActivities } from './control-plane/index.js';
import { createEtcdUpgradeActivities } from './etcd-upgrade/index.js';
import { createHostPhaseActivities, type HostPhaseDeps } from './host/index.js';
import { createProxmoxActivities } from './cloud/proxmox/activities/index.js';
import { createKubernetesUpgradeActivities } from './kubernetes-upgrade/index.js';
import { createOpenStackActivities } from './cloud/openstack/activities/index.js';
import type { OpenStackDeps } from './cloud/openstack/activities/context.js';

export type ActivityDeps = HostPhaseDeps & { openstack?: OpenStackDeps };

export function createActivities(deps: ActivityDeps = {}) {
  return {
    ...createInventoryActivities(deps),
    ...createEtcdRecoveryActivities(deps),
    ...createEtcdStatusActivities(deps),
    ...createBackupActivities(deps),
    ...createControlPlaneActivities(deps),
    ...createEtcdUpgradeActivities(deps),
    ...createHostPhaseActivities(deps),
    ...createProxmoxActivities(),
    ...createKubernetesUpgradeActivities(deps),
    ...createOpenStackActivities(deps.openstack),
  };
}

export type MooringActivities = ReturnType<typeof createActivities>;
export type { HostFacts } from './inventory/facts.js';
export type { HostRef, SshAccess } from './ssh/access.js';
