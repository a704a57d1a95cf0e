// The cloud phase child workflow on the real Temporal dev server, its activities against the
// SIMULATED OpenStack fake on 127.0.0.1 (kernel-chosen port), credentials from clouds.yaml +
// secure.yaml as seed 001 names its cloud: the plan alone touches nothing; a run creates seed 001's
// topology; a second run creates nothing (the fake's request log shows no write); the history holds
// no password and no private key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { startOpenStackFake, OPENSTACK_FAKE_DEFAULTS, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import { loadInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import type { Inventory } from '../../config/schema.js';
import { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import type { ProvisionCloudResult } from '../../workflows/provision/cloud.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkflowFileWorker, type TestWorker } from '../helpers/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const SEED_ENV = 'MOORING_TEST_WF_HOST_KEY_SEED';

function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} admin@lab`;
}

describe('provisionCloud workflow (real Temporal dev server, SIMULATED OpenStack fake)', () => {
  let temporal: TestTemporal;
  let fake: OpenStackFake;
  let worker: TestWorker;
  let inventory: Inventory;
  const taskQueue = uniqueTaskQueue('provision-cloud');

  before(async () => {
    process.env[SEED_ENV] = Buffer.alloc(32, 9).toString('base64');
    // Seed 001 takes 24 cores: above Nova's default project quota (20), which the fake enforces.
    fake = await startOpenStackFake({ host: '127.0.0.1', port: 0, images: [{ id: randomUUID(), name: 'ubuntu-20.04' }], quotas: { compute: { cores: 40 } }, timing: { serverBuild: { afterPolls: 2 }, floatingIp: { afterPolls: 1 } } });
    const files: Record<string, string> = {
      '/etc/openstack/clouds.yaml': `clouds:\n  paas:\n    auth:\n      auth_url: ${fake.authUrl}\n      username: ${fake.state.user.name}\n      project_name: ${fake.state.project.name}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`,
      '/etc/openstack/secure.yaml': `clouds:\n  paas:\n    auth:\n      password: ${OPENSTACK_FAKE_DEFAULTS.password}\n`,
    };
    const loaded = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'));
    if (loaded.provider.type !== 'openstack') throw new Error('seed 001 is an OpenStack inventory');
    inventory = { ...loaded, provider: { ...loaded.provider, openstack: { ...loaded.provider.openstack, publicKey: sshPublicKey() } }, ssh: { ...loaded.ssh, hostKeySeed: { env: SEED_ENV } } };
    temporal = await startTestTemporal();
    worker = await startWorkflowFileWorker(temporal.address, taskQueue, join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'cloud.js'),
      createOpenStackActivities({ env: {}, home: '/nonexistent', cwd: '/nonexistent', readText: async (p) => files[p], pollMs: 50 }));
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
    await fake?.close();
    delete process.env[SEED_ENV];
  });

  const start = (id: string, planOnly = false) => temporal.client.workflow.execute('provisionCloud', { workflowId: id, taskQueue, args: [{ inventory, planOnly }] }) as Promise<ProvisionCloudResult>;

  it('--plan: lists every resource and the port table, and makes no call to the cloud', async () => {
    const before = fake.requests.length;
    const r = await start(`cloud-plan-${randomUUID()}`, true);
    assert.equal(fake.requests.length, before, 'no request reached the cloud');
    assert.equal(r.hosts, undefined);
    const text = r.plan.join('\n');
    assert.match(text, /security group paas-challenge-sg-etcd \(3 ingress rules\)/);
    assert.match(text, /tcp\/2379-2380 from group etcd/);
    assert.match(text, /counts: networks 1, subnets 1, routers 1, security_groups 4, .*instances 9/);
  });

  let first: ProvisionCloudResult;
  it('creates the topology and records ids, addresses and public host keys; nothing secret in history', async () => {
    const id = `cloud-${randomUUID()}`;
    first = await start(id);
    assert.equal(first.hosts!.length, 9);
    assert.equal([...fake.state.servers.values()].filter((s) => s.status === 'ACTIVE').length, 9);
    assert.deepEqual(first.cloudHosts!.filter((h) => h.floatingIp).map((h) => h.name), ['gateway-1', 'gateway-2']);
    for (const h of first.hosts!) assert.match(h.hostKey, /^ssh-ed25519 AAAA/);
    assert.ok(first.created!.includes('network paas-challenge-paas-private'));
    const history = JSON.stringify(await temporal.client.workflow.getHandle(id).fetchHistory());
    assert.ok(!history.includes(OPENSTACK_FAKE_DEFAULTS.password), 'no password in history');
    assert.ok(!history.includes('PRIVATE KEY'), 'no private key in history');
  });

  it('a second run finds everything: no create call in the request log, the same servers and keys', async () => {
    const mark = fake.requests.length;
    const again = await start(`cloud-again-${randomUUID()}`);
    assert.deepEqual(again.created, []);
    assert.deepEqual(fake.requests.slice(mark).filter((r) => r.method !== 'GET' && !r.path.endsWith('/auth/tokens')), []);
    assert.deepEqual(again.hosts, first.hosts);
  });
});
