// The OpenStack fake's quotas answer as Nova and Neutron do (shapes from the API references and
// gophercloud's fixtures) and are enforced on create with the services' own errors, which Mooring's
// client turns into a non-retryable failure naming the quota.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOpenStackFake, OPENSTACK_FAKE_DEFAULTS, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import type { OpenStackClient } from '../../activities/cloud/openstack/client.js';
import { openClient } from '../../activities/cloud/openstack/activities/context.js';
import { getAbsoluteLimits } from '../../activities/cloud/openstack/compute/limits.js';
import { getNetworkQuotaDetails } from '../../activities/cloud/openstack/network/quotas.js';
import { toFailure } from '../../activities/cloud/openstack/errors.js';

describe('OpenStack fake: quotas (SIMULATED)', () => {
  let fake: OpenStackFake;
  let c: OpenStackClient;
  const env = () => ({ OS_AUTH_URL: fake.authUrl, OS_USERNAME: fake.state.user.name, OS_PASSWORD: OPENSTACK_FAKE_DEFAULTS.password, OS_PROJECT_NAME: fake.state.project.name, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default' });
  before(async () => {
    fake = await startOpenStackFake({ host: '127.84.0.2', port: 0, quotas: { network: { network: 1 } } });
    c = await openClient({ region: 'RegionOne' }, { env: env(), home: '/nonexistent', cwd: '/nonexistent', readText: async () => undefined });
  });
  after(async () => { await fake?.close(); });

  it('Nova /limits at 2.64: compute limits with usage, no network fields (gone at 2.36)', async () => {
    const l = await getAbsoluteLimits(c) as unknown as Record<string, number>;
    assert.equal(l.maxTotalInstances, 10);
    assert.equal(l.totalInstancesUsed, 0);
    assert.equal(l.maxTotalCores, 20);
    assert.equal(l.maxTotalRAMSize, 51200);
    assert.equal(l.maxTotalFloatingIps, undefined);
    assert.equal(l.maxPersonality, undefined);
  });

  it('Neutron quota details: {used, limit, reserved}; another project\'s quota is refused', async () => {
    const q = await getNetworkQuotaDetails(c, (await c.projectId())!);
    assert.deepEqual(q.network, { used: 0, limit: 1, reserved: 0 });
    assert.equal(q.security_group?.used, 1, 'the default group counts');
    await assert.rejects(getNetworkQuotaDetails(c, 'someone-else'), /HTTP 403/);
  });

  it('a create beyond the limit: Neutron 409 OverQuota, a failure that names the quota and is not retried', async () => {
    const acts = createOpenStackActivities({ env: env(), home: '/nonexistent', cwd: '/nonexistent', readText: async () => undefined });
    await acts.ensureNetwork({ target: { region: 'RegionOne' }, tag: 't', network: { name: 'one', cidr: '10.0.0.0/24' } });
    await assert.rejects(acts.ensureNetwork({ target: { region: 'RegionOne' }, tag: 't', network: { name: 'two', cidr: '10.0.1.0/24' } }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(err.type, 'OpenStackQuotaExceeded');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /the project's network quota is exhausted \(Quota exceeded for resources: \['network'\]\.\)/);
      return true;
    });
  });

  it('Nova refuses a server beyond the instances quota with 403 "Quota exceeded for instances"', async () => {
    fake.state.quotas.compute.instances = 0;
    const r = await c.request('compute', 'POST', '/servers', { body: { server: { name: 'x', imageRef: fake.state.images[0]!.id, flavorRef: '2', networks: 'none' } } }).catch((e: unknown) => e);
    const f = toFailure(r, 'server x');
    assert.equal(f.type, 'OpenStackQuotaExceeded');
    assert.match(f.message, /instances quota is exhausted \(Quota exceeded for instances: Requested 1, but already used 0 of 0 instances\)/);
  });
});
