// How Mooring finds OpenStack credentials, as the `openstack` CLI does: clouds.yaml on the search
// path (OS_CLIENT_CONFIG_FILE first), secure.yaml merged over it, OS_CLOUD when the inventory
// names no cloud, OS_* variables over both, the OS_* variables alone without a cloud. Files come
// from an in-memory map so each case states exactly what is on disk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCloudConfig, CloudConfigError, type ConfigEnv } from '../../activities/cloud/openstack/config/clouds.js';
import { authRequest, endpointFor } from '../../activities/cloud/openstack/identity/tokens.js';

function envWith(files: Record<string, string>, env: Record<string, string> = {}): ConfigEnv {
  return { env, home: '/home/op', cwd: '/work/here', readText: async (p) => files[p] };
}

const CLOUDS = `
clouds:
  paas:
    auth:
      auth_url: https://keystone.example.org:5000/v3
      username: alice
      project_name: paas
      user_domain_name: Users
    region_name: RegionTwo
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example.org:5000
      application_credential_id: 0123abcd
`;
const SECURE = `
clouds:
  paas:
    auth:
      password: from-secure-yaml
  appcred:
    auth:
      application_credential_secret: ac-from-secure-yaml
`;

describe('OpenStack credentials: clouds.yaml, secure.yaml, OS_* (as the openstack CLI resolves them)', () => {
  it('finds clouds.yaml in ~/.config/openstack and merges secure.yaml over the chosen cloud', async () => {
    const c = await resolveCloudConfig({ cloud: 'paas' }, envWith({ '/home/op/.config/openstack/clouds.yaml': CLOUDS, '/etc/openstack/secure.yaml': SECURE }));
    assert.equal(c.name, 'paas');
    assert.equal(c.source, '/home/op/.config/openstack/clouds.yaml');
    assert.equal(c.authUrl, 'https://keystone.example.org:5000/v3');
    assert.equal(c.region, 'RegionTwo');
    assert.equal(c.interface, 'public');
    assert.deepEqual(c.credentials, { type: 'password', user: { name: 'alice', domain: { name: 'Users' } }, password: 'from-secure-yaml', project: { name: 'paas', domain: { id: 'default' } } });
  });

  it('the first file on the search path wins: ./ before ~/.config/openstack before /etc/openstack; OS_CLIENT_CONFIG_FILE before all', async () => {
    const other = CLOUDS.replace('RegionTwo', 'RegionCwd');
    const files = { '/work/here/clouds.yaml': other, '/home/op/.config/openstack/clouds.yaml': CLOUDS, '/etc/openstack/secure.yaml': SECURE };
    assert.equal((await resolveCloudConfig({ cloud: 'paas' }, envWith(files))).region, 'RegionCwd');
    const pinned = await resolveCloudConfig({ cloud: 'paas' }, envWith({ ...files, '/opt/c.yaml': CLOUDS.replace('RegionTwo', 'RegionPinned') }, { OS_CLIENT_CONFIG_FILE: '/opt/c.yaml' }));
    assert.equal(pinned.region, 'RegionPinned');
    assert.equal(pinned.source, '/opt/c.yaml');
  });

  it('OS_CLOUD picks the cloud when the inventory names none; the inventory wins over OS_CLOUD', async () => {
    const files = { '/etc/openstack/clouds.yaml': CLOUDS, '/etc/openstack/secure.yaml': SECURE };
    assert.equal((await resolveCloudConfig({}, envWith(files, { OS_CLOUD: 'appcred' }))).name, 'appcred');
    assert.equal((await resolveCloudConfig({ cloud: 'paas' }, envWith(files, { OS_CLOUD: 'appcred' }))).name, 'paas');
  });

  it('OS_* variables override the files (OS_PASSWORD with OS_CLOUD keeps the password out of every file); the inventory region overrides both', async () => {
    const c = await resolveCloudConfig({ region: 'RegionInv' }, envWith({ '/etc/openstack/clouds.yaml': CLOUDS }, { OS_CLOUD: 'paas', OS_PASSWORD: 'from-env', OS_REGION_NAME: 'RegionEnv', OS_INTERFACE: 'internal' }));
    assert.equal(c.credentials.type === 'password' && c.credentials.password, 'from-env');
    assert.equal(c.region, 'RegionInv');
    assert.equal(c.interface, 'internal');
    const envRegion = await resolveCloudConfig({}, envWith({ '/etc/openstack/clouds.yaml': CLOUDS }, { OS_CLOUD: 'paas', OS_PASSWORD: 'x', OS_REGION_NAME: 'RegionEnv' }));
    assert.equal(envRegion.region, 'RegionEnv');
  });

  it('application credentials from clouds.yaml + secure.yaml: no scope in the auth request', async () => {
    const c = await resolveCloudConfig({ cloud: 'appcred' }, envWith({ '/etc/openstack/clouds.yaml': CLOUDS, '/etc/openstack/secure.yaml': SECURE }));
    assert.deepEqual(c.credentials, { type: 'v3applicationcredential', id: '0123abcd', secret: 'ac-from-secure-yaml' });
    assert.deepEqual(authRequest(c.credentials), { auth: { identity: { methods: ['application_credential'], application_credential: { id: '0123abcd', secret: 'ac-from-secure-yaml' } } } });
  });

  it('the OS_* variables alone (no cloud anywhere): the "envvars" cloud, legacy OS_TENANT_NAME accepted, OS_PROJECT_NAME preferred', async () => {
    const c = await resolveCloudConfig({}, envWith({}, { OS_AUTH_URL: 'http://127.0.0.1:5000/v3/', OS_USERNAME: 'bob', OS_PASSWORD: 'pw', OS_TENANT_NAME: 'legacy', OS_PROJECT_NAME: 'modern', OS_PROJECT_DOMAIN_ID: 'pd' }));
    assert.equal(c.name, 'envvars');
    assert.equal(c.authUrl, 'http://127.0.0.1:5000/v3');
    assert.deepEqual(c.credentials, { type: 'password', user: { name: 'bob', domain: { id: 'default' } }, password: 'pw', project: { name: 'modern', domain: { id: 'pd' } } });
    const appcred = await resolveCloudConfig({}, envWith({}, { OS_AUTH_URL: 'http://k/v3', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: 'i', OS_APPLICATION_CREDENTIAL_SECRET: 's' }));
    assert.equal(appcred.credentials.type, 'v3applicationcredential');
  });

  it('errors name the file, cloud and fix, and never a secret', async () => {
    const files = { '/etc/openstack/clouds.yaml': CLOUDS, '/etc/openstack/secure.yaml': SECURE };
    await assert.rejects(resolveCloudConfig({ cloud: 'nope' }, envWith(files)), (e: Error) => e instanceof CloudConfigError && /no cloud "nope" \(it has: paas, appcred\)/.test(e.message) && /provider\.openstack\.cloud/.test(e.message));
    await assert.rejects(resolveCloudConfig({ cloud: 'paas' }, envWith({})), /no clouds\.yaml was found/);
    await assert.rejects(resolveCloudConfig({}, envWith({})), /no OpenStack credentials/);
    await assert.rejects(resolveCloudConfig({ cloud: 'paas' }, envWith({ '/etc/openstack/clouds.yaml': CLOUDS })), /no password: set auth\.password in secure\.yaml or OS_PASSWORD/);
    const bad = 'clouds:\n  paas:\n    auth: {password: hunter2-secret\n';
    await assert.rejects(resolveCloudConfig({ cloud: 'paas' }, envWith({ '/etc/openstack/clouds.yaml': bad })), (e: Error) => /not valid YAML/.test(e.message) && !e.message.includes('hunter2'));
    await assert.rejects(resolveCloudConfig({}, envWith({}, { OS_AUTH_URL: 'http://k/v3', OS_USERNAME: 'u', OS_PASSWORD: 'topsecret' })), (e: Error) => /no project/.test(e.message) && !e.message.includes('topsecret'));
    await assert.rejects(resolveCloudConfig({}, envWith({}, { OS_AUTH_URL: 'http://k/v2.0', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'x', OS_IDENTITY_API_VERSION: '2' })), /Keystone v3/);
  });

  it('service URLs come from the catalog by type, region and interface, with the API version added where the catalog has none', () => {
    const cat = [
      { id: '1', type: 'network', endpoints: [{ id: 'a', interface: 'public' as const, region_id: 'R1', url: 'https://net:9696/' }, { id: 'b', interface: 'internal' as const, region_id: 'R1', url: 'http://net-int:9696' }, { id: 'c', interface: 'public' as const, region_id: 'R2', url: 'https://net2:9696' }] },
      { id: '2', type: 'compute', endpoints: [{ id: 'd', interface: 'public' as const, region_id: 'R1', url: 'https://nova:8774/v2.1' }] },
      { id: '3', type: 'image', endpoints: [{ id: 'e', interface: 'public' as const, region_id: 'R1', url: 'https://glance:9292' }] },
    ];
    assert.equal(endpointFor(cat, 'network', 'R1', 'public'), 'https://net:9696/v2.0');
    assert.equal(endpointFor(cat, 'network', 'R1', 'internal'), 'http://net-int:9696/v2.0');
    assert.equal(endpointFor(cat, 'network', 'R2', 'public'), 'https://net2:9696/v2.0');
    assert.equal(endpointFor(cat, 'compute', 'R1', 'public'), 'https://nova:8774/v2.1');
    assert.equal(endpointFor(cat, 'image', 'R1', 'public'), 'https://glance:9292/v2');
    assert.deepEqual(endpointFor(cat, 'compute', 'R9', 'public'), { missing: 'the compute service has no public endpoint in region R9 (regions: R1)' });
  });
});
