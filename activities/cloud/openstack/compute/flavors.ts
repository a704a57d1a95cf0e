// Nova flavors: GET /flavors. The inventory names flavors; the server create wants the id.
import type { OpenStackClient } from '../client.js';
import { CloudInventoryError } from '../errors.js';

export interface Flavor { id: string; name: string }

export async function findFlavorByName(c: OpenStackClient, name: string, field: string): Promise<Flavor> {
  const all = (await c.request<{ flavors: Flavor[] }>('compute', 'GET', '/flavors')).body.flavors;
  const found = all.filter((f) => f.name === name);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new CloudInventoryError(`${field}: no flavor named "${name}" in cloud ${c.cloudName} (flavors: ${all.map((f) => f.name).join(', ')})`);
  throw new CloudInventoryError(`${field}: ${found.length} flavors are named "${name}": ask the cloud's operator, or name the flavor by a unique name`);
}

export interface FlavorDetail extends Flavor { vcpus: number; ram: number; disk: number }

export async function listFlavorDetails(c: OpenStackClient): Promise<FlavorDetail[]> {
  return (await c.request<{ flavors: FlavorDetail[] }>('compute', 'GET', '/flavors/detail')).body.flavors;
}
