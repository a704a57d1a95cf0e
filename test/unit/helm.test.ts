// Helm in the inventory (kubernetes.helm) and the installHelm activity's refusals: bad input is
// named by its field before anything is touched (no SSH here: the activities get no usable key).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parse } from 'yaml';
import { parseInventory, InventoryError, loadInventory } from '../../config/load.js';
import { HELM_DEFAULT_VERSION } from '../../config/schema.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { createHelmActivities, helmAptSourceLine, helmPackagePin } from '../../activities/addons/helm.js';

// Seed 002's example (three stacked masters, two workers), bent into the shapes each test needs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const SEED_002 = join(PROJECT_ROOT, 'config/examples/seed-002-openstack-stacked-etcd.yaml');
const base = (): Loose => parse(readFileSync(SEED_002, 'utf8')) as Loose;

function problems(helm: unknown): { path: string; message: string }[] {
  const inv = base();
  inv.kubernetes.helm = helm;
  try {
    parseInventory(inv);
  } catch (err) {
    assert.ok(err instanceof InventoryError);
    return err.problems;
  }
  assert.fail('the inventory was accepted');
}

describe('kubernetes.helm in the inventory', () => {
  it('defaults to the release scripts/build-helm.sh builds and the lab tests', () => {
    assert.equal(parseInventory(base()).kubernetes.helm.version, HELM_DEFAULT_VERSION);
    const script = readFileSync(join(PROJECT_ROOT, 'scripts/build-helm.sh'), 'utf8');
    assert.equal(/^HELM_VERSION=(\S+)$/m.exec(script)?.[1], HELM_DEFAULT_VERSION, 'scripts/build-helm.sh HELM_VERSION and the schema default must agree');
  });

  it('keeps a release the inventory names, and every seed example gets the default', async () => {
    const inv = base();
    inv.kubernetes.helm = { version: '3.21.4' };
    assert.equal(parseInventory(inv).kubernetes.helm.version, '3.21.4');
    for (const f of ['seed-001-openstack-external-etcd.yaml', 'seed-003-proxmox-stacked-etcd.yaml']) {
      assert.equal((await loadInventory(join(PROJECT_ROOT, 'config/examples', f))).kubernetes.helm.version, HELM_DEFAULT_VERSION);
    }
  });

  for (const bad of ['4.3', 'v4.3.2', '2.17.0', '4.3.2-1', "4.3.2'; rm -rf /"]) {
    it(`refuses version ${JSON.stringify(bad)}, naming the field and the fix`, () => {
      const p = problems({ version: bad });
      assert.equal(p.length, 1, JSON.stringify(p));
      assert.equal(p[0]!.path, 'kubernetes.helm.version');
      assert.match(p[0]!.message, /is not a Helm 3 or 4 release such as \d+\.\d+\.\d+ \(MAJOR\.MINOR\.PATCH without a leading v/);
    });
  }

  it('refuses an unknown field under kubernetes.helm', () => {
    const p = problems({ version: '4.3.2', chart: 'x' });
    assert.equal(p[0]?.path, 'kubernetes.helm');
    assert.match(p[0]!.message, /unknown field\(s\) "chart"/);
  });

  it('pins the package to the release and names the keyring in the sources line', () => {
    assert.equal(helmPackagePin('4.3.2'), 'helm=4.3.2-*');
    assert.equal(helmAptSourceLine(), 'deb [signed-by=/etc/apt/keyrings/helm-apt-keyring.gpg] https://packages.buildkite.com/helm-linux/helm-debian/any/ any main\n');
  });
});

describe('installHelm refuses before it connects', () => {
  const inventory = parseInventory(base());
  const hosts = [...inventory.masters, ...inventory.workers].map((n) => ({ name: n.name, roles: [], address: n.ip, hostKey: 'ssh-ed25519 AAAA', machineId: n.name }));
  let keyRead = 0;
  const acts = createHelmActivities({ readPrivateKey: () => { keyRead += 1; throw new Error('no SSH may be attempted'); } });

  it('a host that is not a master (Helm goes where the admin kubeconfig is)', async () => {
    await assert.rejects(acts.installHelm({ inventory, hosts, host: 'worker1' }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'InvalidInput');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /worker1 is not one of masters \(master1, master2, master3\)/);
      return true;
    });
    assert.equal(keyRead, 0, 'refused before any SSH connection');
  });
});
