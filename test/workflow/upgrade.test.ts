// The upgrade runbook's decisions before anything changes, on a plan with Kubernetes hops (the
// hops themselves run on the netns lab: test/e2e/upgrade-kubernetes.lab.ts). The observation activities are FAKES returning the versions of a
// cluster at Kubernetes 1.35.4; every changing activity is a FAKE that fails the test if called.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { findTool } from '../../client/tools.js';
import { failureOf } from '../../client/watch.js';
import { workflowBundle } from '../../workers/worker.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { CLUSTER, PHASE, RUNBOOK } from '../../workflows/runbook/search-attributes.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { externalEtcdInventory } from '../helpers/inventory.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const K8S = ['1.35.4', '1.36.3', '1.37.2'];

function fakes(etcdVersion: string, changed: string[]) {
  const refuse = (name: string) => async () => { changed.push(name); throw new Error(`FAKE ${name} must not be called`); };
  return {
    observeKubernetesVersions: async (i: { nodes: { name: string; role: 'master' | 'worker' }[] }) => i.nodes.map((n) => ({
      name: n.name, role: n.role, reachable: true, kubelet: '1.35.4', kubeadm: '1.35.4',
      ...(n.role === 'master' ? { apiserver: '1.35.4', controllerManager: '1.35.4', scheduler: '1.35.4' } : {}),
    })),
    observeEtcdVersions: async (i: { members: { name: string }[] }) => i.members.map((m, k) => ({ name: m.name, reachable: true, healthy: true, isLeader: k === 0, version: etcdVersion })),
    installEtcdRelease: refuse('installEtcdRelease'), moveEtcdLeaderAway: refuse('moveEtcdLeaderAway'), restartEtcdAt: refuse('restartEtcdAt'),
    takeEtcdSnapshot: refuse('takeEtcdSnapshot'),
  };
}

describe('upgrade workflow with Kubernetes hops (FAKE observations; nothing may change)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: findTool('temporal-test-server', 'MOORING_TEST_SERVER_BIN') } },
    });
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries([CLUSTER, RUNBOOK, PHASE].map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
    });
  });
  after(async () => { await env?.teardown(); });

  async function run(name: string, etcdVersion: string, input: Record<string, unknown>, check: (handle: ReturnType<typeof env.client.workflow.getHandle>) => Promise<void>) {
    const changed: string[] = [];
    const taskQueue = uniqueTaskQueue(name);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: fakes(etcdVersion, changed) });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('upgradeCluster', {
        workflowId: `ops/${name}`, taskQueue, args: [{ inventory: externalEtcdInventory(name), kubernetesReleases: K8S, etcdReleases: ['3.5.35', '3.6.16'], ...input }],
      });
      await check(handle);
    });
    assert.deepEqual(changed, [], 'no changing activity was called');
  }

  it('Kubernetes hops without kubernetes.binaries: refused before any gate, naming the field; nothing changed', async () => {
    await run('k8s-only', '3.6.16', { to: '1.37.2' }, async (handle) => {
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(failureOf(err).message, /kubernetes\.binaries is not set: the Kubernetes hops install each release's kubeadm, kubelet and kubectl from kubernetes\.binaries\.source/);
        return true;
      });
      const p = await handle.query(progressQuery);
      assert.equal(p.decisions.length, 0);
      assert.ok(['approve', 'snapshot'].every((id) => p.steps.find((s) => s.id === id)?.status === 'pending'));
    });
  });

  it('plan mode shows the etcd hop before the Kubernetes hop that needs it; every hop runs (none left out)', async () => {
    await run('plan', '3.5.35', { to: '1.36.3', planOnly: true }, async (handle) => {
      const r = await handle.result().catch((e: unknown) => { throw new Error(failureOf(e).message); }) as UpgradeResult;
      assert.match(r.plan, /Kubernetes 1\.35\.4 → 1\.36\.3: kubeadm upgrade apply on the first master/);
      assert.deepEqual(r.notRun, []);
      assert.doesNotMatch(r.plan, /NOT BUILT/);
    });
    // 1.35 already needs 3.6: a cluster on 3.5.35 gets the etcd hop first.
    await run('plan-etcd', '3.5.35', { to: '1.37.2', planOnly: true }, async (handle) => {
      const r = await handle.result() as UpgradeResult;
      assert.match(r.plan, /1\. etcd 3\.5\.35 → 3\.6\.16.*\n2\. Kubernetes 1\.35\.4 → 1\.36\.3.*\n3\. Kubernetes 1\.36\.3 → 1\.37\.2/);
    });
  });

  it('no etcd release known (etcd.binaries unset) while the target needs etcd 3.6: refused, naming the field', async () => {
    await run('no-etcd-source', '3.5.35', { to: '1.36.3', etcdReleases: [] }, async (handle) => {
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.match(failureOf(err).message, /needs etcd 3\.6 and no etcd release is known: set etcd\.binaries\.source/);
        return true;
      });
    });
  });

  it('a target that is not a release is refused before anything (PreconditionFailed)', async () => {
    await run('not-release', '3.6.16', { to: '1.36.9' }, async (handle) => {
      await assert.rejects(handle.result(), (err: unknown) => {
        const f = failureOf(err);
        assert.equal(f.type, 'PreconditionFailed');
        assert.match(f.message, /1\.36\.9 is not a Kubernetes release the binary source offers \(1\.35\.4, 1\.36\.3, 1\.37\.2\)/);
        return true;
      });
    });
  });
});
