// Seeds 001 and 002 adapted to the SIMULATED OpenStack fake, for the provision tests and the
// history recorder: the fake with the seeds' images and flavors (quota raised for both side by
// side), credentials as each seed names them (seed 001: cloud "paas" in clouds.yaml + secure.yaml;
// seed 002: the OS_* variables), the external network "public" for both, seed 001's key pair
// "ansible-master" present beforehand, and the activities built against it.
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { startOpenStackFake, OPENSTACK_FAKE_DEFAULTS, type OpenStackFake } from '../../lab/fakes/openstack/index.js';
import { DEFAULT_FLAVORS } from '../../lab/fakes/openstack/state.js';
import { loadInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import type { Inventory } from '../../config/schema.js';
import { createOpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';

export const SEED_ENV = 'MOORING_TEST_PROVISION_HOST_KEY_SEED';

export function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} admin@lab`;
}

export type OpenStackSettings = Extract<Inventory['provider'], { type: 'openstack' }>['openstack'];

/** An example inventory with the host-key seed read from SEED_ENV and the OpenStack settings patched. */
export async function seedInventory(file: string, patch: (os: OpenStackSettings) => Partial<OpenStackSettings> = () => ({})): Promise<Inventory> {
  const loaded = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', file));
  if (loaded.provider.type !== 'openstack') throw new Error(`${file} is an OpenStack inventory`);
  return { ...loaded, provider: { ...loaded.provider, openstack: { ...loaded.provider.openstack, ...patch(loaded.provider.openstack) } }, ssh: { ...loaded.ssh, hostKeySeed: { env: SEED_ENV } } };
}

export interface SeedCloud {
  fake: OpenStackFake;
  activities: ReturnType<typeof createOpenStackActivities>;
  /** What the worker process needs in its environment to reach the fake as seed 002 does (OS_*) and to derive host keys. */
  env: Record<string, string>;
  seed1: Inventory;
  seed2: Inventory;
}

export async function startSeedCloud(host: string): Promise<SeedCloud> {
  process.env[SEED_ENV] ??= Buffer.alloc(32, 7).toString('base64');
  const fake = await startOpenStackFake({
    host, port: 0,
    images: [{ id: randomUUID(), name: 'ubuntu-20.04' }, { id: randomUUID(), name: 'ubuntu-22.04' }],
    flavors: [...DEFAULT_FLAVORS, { id: '11', name: 's1.small', vcpus: 1, ram: 2048, disk: 20 }, { id: '12', name: 's1.large', vcpus: 4, ram: 8192, disk: 40 }, { id: '13', name: 's1.xlarge', vcpus: 8, ram: 16384, disk: 80 }],
    // Both seeds side by side: 16 servers, 64 cores (Nova's default project quota would refuse seed 001 alone: 24 cores).
    quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } },
    timing: { serverBuild: { afterPolls: 2 }, floatingIp: { afterPolls: 1 } },
  });
  const files: Record<string, string> = {
    '/etc/openstack/clouds.yaml': `clouds:\n  paas:\n    auth:\n      auth_url: ${fake.authUrl}\n      username: ${fake.state.user.name}\n      project_name: ${fake.state.project.name}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n`,
    '/etc/openstack/secure.yaml': `clouds:\n  paas:\n    auth:\n      password: ${OPENSTACK_FAKE_DEFAULTS.password}\n`,
  };
  const env = { OS_AUTH_URL: fake.authUrl, OS_USERNAME: fake.state.user.name, OS_PASSWORD: OPENSTACK_FAKE_DEFAULTS.password, OS_PROJECT_NAME: fake.state.project.name, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default' };
  const activities = createOpenStackActivities({ env, home: '/nonexistent', cwd: '/nonexistent', readText: async (p) => files[p], pollMs: 50 });
  const seed1 = await seedInventory('seed-001-openstack-external-etcd.yaml');
  const seed2 = await seedInventory('seed-002-openstack-stacked-etcd.yaml', () => ({ floatingNetwork: 'public' }));
  // Seed 001's key pair exists in its cloud before Mooring runs (keyName: ansible-master).
  await activities.ensureKeypair({ target: { cloud: 'paas', region: 'RegionOne' }, keypair: { name: 'ansible-master', publicKey: sshPublicKey() } });
  return { fake, activities, env: { ...env, [SEED_ENV]: process.env[SEED_ENV]! }, seed1, seed2 };
}

/** The ids of everything in the fake's project, to compare before and after. */
export function projectState(fake: OpenStackFake): Record<string, string[]> {
  const s = fake.state;
  const ids = (m: Map<string, unknown>) => [...m.keys()].sort();
  return {
    servers: ids(s.servers), keypairs: ids(s.keypairs), serverGroups: ids(s.serverGroups), networks: ids(s.networks), subnets: ids(s.subnets), routers: ids(s.routers),
    ports: ids(s.ports), securityGroups: ids(s.securityGroups), securityGroupRules: ids(s.securityGroupRules), floatingIps: ids(s.floatingIps), volumes: ids(s.volumes),
  };
}

/** Requests that change something (the fake's log), since index `mark`. */
export function writesSince(fake: OpenStackFake, mark: number) {
  return fake.requests.slice(mark).filter((r) => r.method !== 'GET' && !r.path.endsWith('/auth/tokens'));
}

/**
 * The activities of the provision tests' worker (test/workflow/provision-test-doubles.ts): the
 * OpenStack ones, the quota check with a hook run once right after its next answer ("someone
 * deletes a resource between the check and the cloud phase"), and the TEST DOUBLE host phase's
 * activity (which hosts it has not configured yet).
 */
export function provisionTestActivities(activities: SeedCloud['activities']) {
  const configured = new Set<string>();
  const hooks: { afterCheck?: () => void } = {};
  return {
    hooks,
    activities: {
      ...activities,
      async checkCloudQuota(i: Parameters<typeof activities.checkCloudQuota>[0]) {
        const q = await activities.checkCloudQuota(i);
        const hook = hooks.afterCheck;
        hooks.afterCheck = undefined;
        hook?.();
        return q;
      },
      async testDoubleHostPhase(i: { cluster: string; hosts: { name: string; machineId: string }[] }) {
        const fresh = i.hosts.filter((h) => !configured.has(`${i.cluster}/${h.machineId}`));
        for (const h of fresh) configured.add(`${i.cluster}/${h.machineId}`);
        return fresh.map((h) => h.name);
      },
    },
  };
}
