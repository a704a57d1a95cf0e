// SIMULATED: stand-in for the parts of OpenStack Glance (Image API v2) a client reads to boot a
// server: the image list with its `name`, `status`, `visibility` and `tag` filters, and one image by
// id. Images are seeded (no upload); names need not be unique, as in Glance, so a client that looks
// an image up by name must cope with two images of one name.
import { Router, type FakeRequest } from '../http.js';
import { osError } from './errors.js';
import { requireToken } from './keystone.js';
import type { Image, OpenStackState } from './state.js';

const IMAGES = '/image/v2/images';
const CREATED = '2024-01-01T00:00:00Z';

function render(i: Image): unknown {
  return {
    id: i.id, name: i.name, status: i.status ?? 'active', visibility: i.visibility ?? 'public', protected: false, tags: [], container_format: 'bare', disk_format: 'qcow2',
    min_disk: 0, min_ram: 0, size: 1073741824, checksum: null, os_hidden: false, owner: null, created_at: CREATED, updated_at: CREATED,
    self: `/v2/images/${i.id}`, file: `/v2/images/${i.id}/file`, schema: '/v2/schemas/image',
  };
}

export function glanceRoutes(state: OpenStackState): Router {
  const auth = (req: FakeRequest) => requireToken(state, req, 'image');
  return new Router()
    .on('GET', '/image', () => ({ status: 300, body: { versions: [{ id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${state.baseUrl}/image/v2/` }] }] } }))
    .on('GET', IMAGES, (req) => {
      auth(req);
      let out = state.images;
      for (const key of req.query.keys()) {
        if (!['name', 'status', 'visibility', 'limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'id', 'os_hidden'].includes(key)) {
          throw osError('image', 400, `Invalid filter: ${key}`);
        }
      }
      const name = req.query.get('name');
      if (name !== null) out = out.filter((i) => i.name === name);
      const status = req.query.get('status');
      if (status !== null) out = out.filter((i) => (i.status ?? 'active') === status);
      const visibility = req.query.get('visibility');
      if (visibility !== null && visibility !== 'all') out = out.filter((i) => (i.visibility ?? 'public') === visibility);
      return { status: 200, body: { images: out.map((i) => render(i)), first: IMAGES.replace('/image', ''), schema: '/v2/schemas/images' } };
    })
    .on('GET', `${IMAGES}/:id`, (req) => {
      auth(req);
      const i = state.images.find((x) => x.id === req.params.id);
      if (!i) throw osError('image', 404, `No image found with ID ${req.params.id ?? ''}`);
      return { status: 200, body: render(i) };
    });
}
