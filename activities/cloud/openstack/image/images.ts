// Glance images: GET /v2/images?name=… . Names are not unique in Glance: a name that matches two
// images is refused rather than guessed (a different image on each run would be worse).
import type { OpenStackClient } from '../client.js';
import { CloudInventoryError } from '../errors.js';

export interface Image { id: string; name: string; status: string; visibility: string; created_at: string }

export async function listImages(c: OpenStackClient, filter: { name?: string; status?: string }): Promise<Image[]> {
  return (await c.request<{ images: Image[] }>('image', 'GET', '/images', { query: { ...filter } })).body.images;
}

/** The one active image of this name; `field` names the inventory field in errors. */
export async function findImageByName(c: OpenStackClient, name: string, field: string): Promise<Image> {
  const found = (await listImages(c, { name })).filter((i) => i.status === 'active');
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new CloudInventoryError(`${field}: no active image named "${name}" in cloud ${c.cloudName}: check \`openstack image list --name ${JSON.stringify(name)}\``);
  throw new CloudInventoryError(`${field}: ${found.length} active images are named "${name}" (${found.map((i) => i.id).join(', ')}): name one image uniquely in Glance, or rename the others`);
}
