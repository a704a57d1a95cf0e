// The Temporal Web UI served by the real dev server, driven in Debian's Chromium: a run is found
// by Mooring's cluster search attribute, and its page shows the summary Mooring set.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { testInventory } from '../helpers/inventory.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const CHROMIUM = process.env.MOORING_CHROMIUM ?? '/usr/bin/chromium';

describe('Web UI (real dev server UI, headless Chromium)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  let browser: Browser;
  const taskQueue = uniqueTaskQueue('ui');

  before(async () => {
    t = await startTestTemporal();
    // No host is contacted: runs stay at their approval gate.
    w = await startTestWorker(t.address, taskQueue, { probeHost: () => Promise.reject(new Error('FAKE probe: not expected in this test')) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
    await t?.stop();
  });

  it('lists runs per cluster by the MooringCluster search attribute', async () => {
    const mine = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('ui-cluster'), { taskQueue });
    const other = await startRunbook(t.client, findRunbook('inventory-check'), testInventory('other-cluster'), { taskQueue });
    await eventually('both runs at their gate', async () => (await mine.query(progressQuery)).pendingApproval && (await other.query(progressQuery)).pendingApproval);

    const page = await browser.newPage();
    try {
      const query = encodeURIComponent('MooringCluster="ui-cluster"');
      await page.goto(`${t.uiUrl}/namespaces/default/workflows?query=${query}`);
      await page.getByText('inventory-check/ui-cluster').first().waitFor({ timeout: 30_000 });
      assert.equal(await page.getByText('inventory-check/other-cluster').count(), 0, 'the other cluster is filtered out');
      await page.screenshot({ path: '/tmp/mooring-ui-list.png' });

      await page.goto(`${t.uiUrl}/namespaces/default/workflows/${encodeURIComponent(mine.workflowId)}/${mine.firstExecutionRunId}/history`);
      await page.getByText('inventory-check on ui-cluster').first().waitFor({ timeout: 30_000 });
    } finally {
      await page.close();
      await mine.terminate('test done');
      await other.terminate('test done');
    }
  });
});
