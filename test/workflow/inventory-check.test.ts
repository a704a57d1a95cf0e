// Workflow tests on the real Temporal dev server. The probe activity is a FAKE here (these tests
// are about orchestration); the lab end-to-end tests run the real one against real sshd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { HostFacts } from '../../activities/index.js';
import type { ProbeHostInput } from '../../activities/inventory/probe.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { CLUSTER, RUNBOOK } from '../../workflows/runbook/search-attributes.js';
import { findRunbook } from '../../client/runbooks.js';
import { ClusterBusyError, startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { failureOf } from '../../client/watch.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { testInventory } from '../helpers/inventory.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** FAKE probe: answers from memory and records each call. */
function fakeProbe(behaviour: (input: ProbeHostInput) => HostFacts | Promise<HostFacts> = okFacts) {
  const calls: string[] = [];
  return {
    calls,
    activities: {
      async probeHost(input: ProbeHostInput): Promise<HostFacts> {
        calls.push(input.host.name);
        return behaviour(input);
      },
    },
  };
}

function okFacts(input: ProbeHostInput): HostFacts {
  const busy = input.host.name === 'm2' ? input.expectedPorts.slice(0, 1) : [];
  return {
    name: input.host.name, ip: input.host.ip, os: 'Fake OS 1', kernel: 'Linux 6.1', uptimeSeconds: 3600,
    disk: { mount: '/', sizeBytes: 100 * 2 ** 30, availBytes: 50 * 2 ** 30, usedPercent: 50 },
    busyPorts: busy, freePorts: input.expectedPorts.filter((p) => !busy.includes(p)),
  };
}

describe('inventory-check workflow (real Temporal dev server, FAKE probe activity)', () => {
  let t: TestTemporal;
  before(async () => { t = await startTestTemporal(); });
  after(async () => { await t?.stop(); });

  async function withWorker<T>(activities: ReturnType<typeof fakeProbe>['activities'], fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('wf');
    const w: TestWorker = await startTestWorker(t.address, taskQueue, activities);
    try { return await fn(taskQueue); } finally { await w.stop(); }
  }

  const pendingGate = (workflowId: string) => eventually('the approval gate', async () => {
    const p = await t.client.workflow.getHandle(workflowId).query(progressQuery);
    return p.pendingApproval ? p : undefined;
  });

  it('waits for approval, probes every host once, reports findings, records who approved', async () => {
    const probe = fakeProbe();
    await withWorker(probe.activities, async (taskQueue) => {
      const inv = testInventory('approve-path');
      const handle = await startRunbook(t.client, findRunbook('inventory-check'), inv, { taskQueue });
      assert.equal(handle.workflowId, 'inventory-check/approve-path');
      const waiting = await pendingGate(handle.workflowId);
      assert.equal(waiting.pendingApproval?.step, 'approve');
      assert.equal(probe.calls.length, 0, 'nothing may run before approval');
      assert.equal(waiting.steps.find((s) => s.id === 'approve')?.status, 'waiting');

      const d = await decide(t.client, handle.workflowId, { approved: true, by: 'alice', comment: 'change CHG-1' });
      assert.equal(d.by, 'alice');
      const result = await handle.result() as { hosts: HostFacts[]; findings: string[] };
      assert.deepEqual([...probe.calls].sort(), ['m1', 'm2', 'm3', 'w1']);
      assert.equal(result.hosts.length, 4);
      assert.equal(result.findings.length, 1);
      assert.match(result.findings[0]!, /^m2: ports \d+ already in use$/);

      const p = await handle.query(progressQuery);
      assert.ok(p.steps.every((s) => s.status === 'done'), JSON.stringify(p.steps));
      assert.ok(p.steps.every((s) => s.startedAt !== undefined && s.endedAt !== undefined && s.endedAt >= s.startedAt));
      assert.equal(p.phase, 'completed-with-findings');
      assert.equal(p.decisions.length, 1);
      assert.equal(p.decisions[0]?.comment, 'change CHG-1');
      assert.match(p.decisions[0]?.identity ?? '', /mooring-cli/);
      assert.match(p.report ?? '', /\| m1 \| 10\.0\.0\.11 \| Fake OS 1/);

      const desc = await handle.describe();
      assert.equal(desc.typedSearchAttributes.get(CLUSTER), 'approve-path');
      assert.equal(desc.typedSearchAttributes.get(RUNBOOK), 'inventory-check');
      // The update carries who decided into the event history: the audit trail.
      const history = await handle.fetchHistory();
      const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      assert.ok(accepted, 'the decision is an accepted update in history');
    });
  });

  it('a rejection stops the run before any host is touched', async () => {
    const probe = fakeProbe();
    await withWorker(probe.activities, async (taskQueue) => {
      const handle = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('reject-path'), { taskQueue });
      await pendingGate(handle.workflowId);
      await decide(t.client, handle.workflowId, { approved: false, by: 'bob', comment: 'not during the freeze' });
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        const f = failureOf(err);
        assert.equal(f.type, 'ApprovalRejected');
        assert.match(f.message, /rejected by bob: not during the freeze/);
        return true;
      });
      assert.equal(probe.calls.length, 0);
    });
  });

  it('the update validator refuses a wrong step, a missing approver, or no pending gate', async () => {
    const probe = fakeProbe();
    await withWorker(probe.activities, async (taskQueue) => {
      const handle = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('validator'), { taskQueue });
      await pendingGate(handle.workflowId);
      await assert.rejects(decide(t.client, handle.workflowId, { approved: true, by: 'carol', step: 'drop-database' }),
        (err: unknown) => err instanceof WorkflowUpdateFailedError && /pending approval is "approve"/.test(String((err.cause as Error).message)));
      await assert.rejects(decide(t.client, handle.workflowId, { approved: true, by: '  ' }),
        (err: unknown) => err instanceof WorkflowUpdateFailedError && /approver's name/.test(String((err.cause as Error).message)));
      assert.equal((await handle.query(progressQuery)).decisions.length, 0, 'refused decisions are not recorded');
      await decide(t.client, handle.workflowId, { approved: true, by: 'carol' });
      await handle.result();
      await assert.rejects(decide(t.client, handle.workflowId, { approved: true, by: 'carol', step: 'approve' }));
    });
  });

  it('refuses a second run for the same cluster and names the running one', async () => {
    const probe = fakeProbe();
    await withWorker(probe.activities, async (taskQueue) => {
      const inv = testInventory('busy');
      const first = await startRunbook(t.client, findRunbook('inventory-check'), inv, { taskQueue });
      await assert.rejects(startRunbook(t.client, findRunbook('inventory-check'), inv, { taskQueue }), (err: unknown) => {
        assert.ok(err instanceof ClusterBusyError);
        assert.equal(err.runId, first.firstExecutionRunId);
        assert.match(err.message, /inventory-check is already running as inventory-check\/busy/);
        assert.match(err.message, /mooring status inventory-check\/busy --follow/);
        return true;
      });
      await t.client.workflow.getHandle(first.workflowId).terminate('test cleanup');
    });
  });

  it('a host-key mismatch fails fast without retries', async () => {
    const probe = fakeProbe((input) => {
      if (input.host.name === 'm3') throw ApplicationFailure.nonRetryable('m3 presented host key SHA256:x but masters[2].hostKey pins SHA256:y', 'HostKeyMismatch');
      return okFacts(input);
    });
    await withWorker(probe.activities, async (taskQueue) => {
      const handle = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('mismatch'), { taskQueue });
      await pendingGate(handle.workflowId);
      await decide(t.client, handle.workflowId, { approved: true, by: 'dave' });
      await assert.rejects(handle.result(), (err: unknown) => /masters\[2\]\.hostKey/.test(failureOf(err).message));
      assert.equal(probe.calls.filter((c) => c === 'm3').length, 1, 'non-retryable: one attempt only');
      const p = await handle.query(progressQuery);
      assert.equal(p.steps.find((s) => s.id === 'probe:m3')?.status, 'failed');
    });
  });

  it('retries a transient probe failure and then succeeds', async () => {
    let failures = 0;
    const probe = fakeProbe((input) => {
      if (input.host.name === 'w1' && failures < 2) { failures += 1; throw new Error('connection reset by peer'); }
      return okFacts(input);
    });
    await withWorker(probe.activities, async (taskQueue) => {
      const handle = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('transient'), { taskQueue });
      await pendingGate(handle.workflowId);
      await decide(t.client, handle.workflowId, { approved: true, by: 'erin' });
      await handle.result();
      assert.equal(probe.calls.filter((c) => c === 'w1').length, 3);
    });
  });
});
