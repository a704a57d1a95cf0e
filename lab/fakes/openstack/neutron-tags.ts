// SIMULATED: Neutron's tag extension (standard-attr-tag) on the resources Mooring tags: replace all
// tags (`PUT /{collection}/{id}/tags` with `{"tags": [...]}`), add one (`PUT …/tags/{tag}`), list
// them, check one (204 or 404) and remove one. List filters `tags` / `tags-any` are in filterList.
import { Router, type FakeRequest } from '../http.js';
import { requireToken } from './keystone.js';
import { nErr, NEUTRON, own, touch } from './neutron-common.js';
import type { OpenStackState } from './state.js';

const MAX_TAG = 255;

export function neutronTagRoutes(state: OpenStackState): Router {
  const maps: Record<string, [Map<string, { project_id: string; tags: string[]; updated_at: string; revision_number: number }>, string]> = {
    networks: [state.networks, 'Network'], subnets: [state.subnets, 'Subnet'], routers: [state.routers, 'Router'], ports: [state.ports, 'Port'],
    'security-groups': [state.securityGroups, 'Security group'], floatingips: [state.floatingIps, 'Floating IP'],
  };
  const target = (req: FakeRequest) => {
    const projectId = requireToken(state, req, 'network').projectId;
    const entry = maps[req.params.collection as string];
    if (!entry) throw nErr(404, 'HTTPNotFound', `The resource could not be found.`);
    return own(entry[0], req.params.id as string, entry[1], projectId);
  };
  const check = (tag: unknown) => {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG || tag.includes(',')) throw nErr(400, 'HTTPBadRequest', `Invalid input for operation: '${String(tag)}' is not a valid tag.`);
    return tag;
  };
  const T = `${NEUTRON}/:collection/:id/tags`;
  return new Router()
    .on('GET', T, (req) => ({ status: 200, body: { tags: target(req).tags } }))
    .on('PUT', T, (req) => {
      const r = target(req);
      const tags = (req.body as { tags?: unknown } | undefined)?.tags;
      if (!Array.isArray(tags)) throw nErr(400, 'HTTPBadRequest', "Invalid input for operation: 'tags' must be a list.");
      r.tags = [...new Set(tags.map(check))];
      touch(r);
      return { status: 200, body: { tags: r.tags } };
    })
    .on('GET', `${T}/:tag`, (req) => {
      if (!target(req).tags.includes(req.params.tag as string)) throw nErr(404, 'TagNotFound', `Tag ${req.params.tag ?? ''} could not be found.`);
      return { status: 204 };
    })
    .on('PUT', `${T}/:tag`, (req) => {
      const r = target(req);
      const tag = check(req.params.tag);
      if (!r.tags.includes(tag)) { r.tags.push(tag); touch(r); }
      return { status: 201 };
    })
    .on('DELETE', `${T}/:tag`, (req) => {
      const r = target(req);
      if (!r.tags.includes(req.params.tag as string)) throw nErr(404, 'TagNotFound', `Tag ${req.params.tag ?? ''} could not be found.`);
      r.tags = r.tags.filter((x) => x !== req.params.tag);
      touch(r);
      return { status: 204 };
    });
}
