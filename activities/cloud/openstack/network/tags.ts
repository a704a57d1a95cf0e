// Neutron's tag extension: PUT /v2.0/{collection}/{id}/tags replaces a resource's tags. Tags are
// set right after a create; a crash in between leaves an untagged resource that the next attempt
// finds by its name and tags then.
import type { OpenStackClient } from '../client.js';

export type TaggedCollection = 'networks' | 'subnets' | 'routers' | 'ports' | 'security-groups' | 'floatingips';

export async function setTags(c: OpenStackClient, collection: TaggedCollection, id: string, tags: string[]): Promise<string[]> {
  return (await c.request<{ tags: string[] }>('network', 'PUT', `/${collection}/${encodeURIComponent(id)}/tags`, { body: { tags } })).body.tags;
}
