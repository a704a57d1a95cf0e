// How Mooring names and tags what it creates in an OpenStack project. Pure (workflows use it for
// the plan). Every name starts with "<cluster>-" and every taggable resource carries the cluster
// tag, so a look-up by name finds what an earlier attempt made (even one that crashed before
// tagging), and a deprovision can find everything of this cluster and nothing else.

export type Role = 'gateway' | 'etcd' | 'master' | 'worker';

export const CLUSTER_TAG_PREFIX = 'mooring-cluster=';

/** The tag on every resource of the cluster (Nova tags may not hold ',' or '/'; cluster names cannot). */
export function clusterTag(cluster: string): string {
  return `${CLUSTER_TAG_PREFIX}${cluster}`;
}

/** "<cluster>-<parts…>", unless the name the inventory gives already starts so. */
export function clusterName(cluster: string, ...parts: string[]): string {
  const rest = parts.join('-');
  if (rest === cluster || rest.startsWith(`${cluster}-`)) return rest;
  return `${cluster}-${rest}`;
}

export function resourceNames(cluster: string) {
  return {
    network: (inventoryName: string) => clusterName(cluster, inventoryName),
    subnet: (inventoryName: string) => `${clusterName(cluster, inventoryName)}-subnet`,
    router: clusterName(cluster, 'router'),
    securityGroup: (role: Role) => clusterName(cluster, 'sg', role),
    serverGroup: (role: Role) => clusterName(cluster, 'group', role),
    port: (host: string) => clusterName(cluster, 'port', host),
    vipPort: clusterName(cluster, 'port', 'vip'),
    floatingIp: (target: string) => clusterName(cluster, 'fip', target),
    server: (host: string) => clusterName(cluster, host),
    keypair: clusterName(cluster, 'admin'),
  };
}
