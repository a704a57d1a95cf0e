// SIMULATED: runs the OpenStack and Proxmox VE fakes as their own process, for a lab or a crash
// test where the worker under test must not share a process with its cloud. Prints one JSON line
// with the URLs and credentials once both listen, and closes them on SIGINT/SIGTERM.
//   node dist/lab/fakes/serve.js [--host 127.0.0.1] [--openstack-port 0] [--proxmox-port 0]
//     [--lab-dir DIR --lab-tag TAG --lab-lan N --lab-loopback A.B.C]
// With --lab-dir, real netns lab nodes come up behind the OpenStack fake's servers
// (lab/cloud-nodes; root only) and go when they are deleted or at exit.
import { parseArgs } from 'node:util';
import { startOpenStackFake, type OpenStackFake } from './openstack/index.js';
import { startOpenStackLab, type OpenStackLab } from '../cloud-nodes/openstack.js';
import { PROXMOX_FAKE_DEFAULTS, startProxmoxFake } from './proxmox/index.js';

function port(name: string, v: string | undefined): number {
  const n = Number(v ?? '0');
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: "${v ?? ''}" is not a TCP port (0-65535; 0 lets the kernel pick)`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    host: { type: 'string' }, 'openstack-port': { type: 'string' }, 'proxmox-port': { type: 'string' },
    'lab-dir': { type: 'string' }, 'lab-tag': { type: 'string' }, 'lab-lan': { type: 'string' }, 'lab-loopback': { type: 'string' },
  } });
  const host = values.host ?? '127.0.0.1';
  // The lab provisions the seeds' topologies (seed 001: 9 servers, 24 cores): above Nova's default
  // project quota, which the fake enforces as Nova does; a lab project gets room for two clusters.
  const options = { host, port: port('openstack-port', values['openstack-port']), quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } } };
  let lab: OpenStackLab | undefined;
  let openstack: OpenStackFake;
  if (values['lab-dir']) {
    const layout = { tag: values['lab-tag'] ?? '', lan: Number(values['lab-lan'] ?? 'x'), loopback: values['lab-loopback'] ?? '' };
    lab = await startOpenStackLab({ dir: values['lab-dir'], layout, fake: options });
    openstack = lab.fake;
  } else openstack = await startOpenStackFake(options);
  const proxmox = await startProxmoxFake({ host, port: port('proxmox-port', values['proxmox-port']) });
  const s = openstack.state;
  process.stdout.write(`${JSON.stringify({
    simulated: true,
    ...(lab ? { lab: { dir: lab.lab.dir, layout: lab.lab.layout, externalNetwork: openstack.state.externalNetwork, api: lab.lab.apiEndpoint } } : {}),
    openstack: { url: openstack.url, authUrl: openstack.authUrl, region: s.region, project: s.project.name, user: s.user.name, password: s.user.password, applicationCredential: { id: s.appCred.id, secret: s.appCred.secret }, faults: `${openstack.url}/_fake/faults` },
    proxmox: { url: proxmox.url, apiUrl: proxmox.apiUrl, node: proxmox.state.nodes[0], tokenid: PROXMOX_FAKE_DEFAULTS.tokenid, tokenSecret: PROXMOX_FAKE_DEFAULTS.tokenSecret, faults: `${proxmox.url}/_fake/faults` },
  })}\n`);
  const stop = () => { Promise.all([lab ? lab.close() : openstack.close(), proxmox.close()]).then(() => process.exit(0), (e: unknown) => { process.stderr.write(`fakes: ${(e as Error).message}\n`); process.exit(1); }); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`fakes: ${(e as Error).message}\n`);
  process.exit(1);
});
