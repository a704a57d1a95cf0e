// SIMULATED: the quota limits a new project of the OpenStack fake starts with. Import-free, so the
// fake's state can hold them without importing the services.
export interface ComputeQuotas { instances: number; cores: number; ram: number; key_pairs: number; server_groups: number; server_group_members: number; metadata_items: number }
export interface NetworkQuotas { network: number; subnet: number; port: number; router: number; floatingip: number; security_group: number; security_group_rule: number }
export interface Quotas { compute: ComputeQuotas; network: NetworkQuotas }

/** Nova's and Neutron's default quotas (nova.conf [quota], neutron.conf [QUOTAS]). */
export function defaultQuotas(): Quotas {
  return {
    compute: { instances: 10, cores: 20, ram: 51200, key_pairs: 100, server_groups: 10, server_group_members: 10, metadata_items: 128 },
    network: { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 },
  };
}

