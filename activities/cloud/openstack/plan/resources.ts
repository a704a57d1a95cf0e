// What deprovision found of a cluster and the order it deletes it in. Pure: the workflow plans with it.
import type { DeletableCollection } from '../network/delete.js';

export interface ClusterResource { kind: DeletableCollection | 'servers' | 'server-groups' | 'keypairs'; id: string; name: string }

/** What deprovision deletes, in the order it deletes it: servers first, the network last. */
export interface ClusterResources {
  servers: ClusterResource[];
  floatingIps: ClusterResource[];
  ports: ClusterResource[];
  routers: ClusterResource[];
  subnets: ClusterResource[];
  networks: ClusterResource[];
  securityGroups: ClusterResource[];
  serverGroups: ClusterResource[];
  keypairs: ClusterResource[];
}

export const DELETE_ORDER: (keyof ClusterResources)[] = ['servers', 'floatingIps', 'ports', 'routers', 'subnets', 'networks', 'securityGroups', 'serverGroups', 'keypairs'];

