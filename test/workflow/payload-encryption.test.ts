// Payload encryption end to end on the real Temporal dev server: a run's inputs, results, update
// arguments, activity data and failure messages are ciphertext in the server's history (read with
// a client that has no codec), yet the CLI with the same keys shows them in clear, the temporal
// CLI reads them through `mooring codec-server`, and the history replays with the codec (and only
// with it). The probe activity is a FAKE (this is about the data path, not about hosts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { HostFacts } from '../../activities/index.js';
import type { ProbeHostInput } from '../../activities/inventory/probe.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { failureOf } from '../../client/watch.js';
import { findTool } from '../../client/tools.js';
import { AesGcmPayloadCodec } from '../../workers/codec/aes-gcm.js';
import { encryptingDataConverter } from '../../workers/codec/config.js';
import { startCodecServer } from '../../workers/codec/server.js';
import { codecWorkerOptions } from '../../workers/worker.js';
import { eventually, startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { testInventory } from '../helpers/inventory.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const KEY = randomBytes(32);
const codec = new AesGcmPayloadCodec({ current: 'wf1', keys: new Map([['wf1', KEY]]) });
const CODEC_ENV = { MOORING_CODEC_KEYS: 'wf1=env:MOORING_TEST_WF_CODEC_KEY', MOORING_TEST_WF_CODEC_KEY: KEY.toString('hex') };
// Addresses of the test inventory (10.0.0.11 …) and words only the run's data carries.
const SECRETS = ['10.0.0.11', '10.0.0.21', 'Fake OS 1', 'CHG-4711', 'the-freeze-of-10.9.8.7'];

/** FAKE probe: answers from memory. */
const fakeProbe = {
  async probeHost(input: ProbeHostInput): Promise<HostFacts> {
    return {
      name: input.host.name, ip: input.host.ip, os: 'Fake OS 1', kernel: 'Linux 6.1', uptimeSeconds: 3600,
      disk: { mount: '/', sizeBytes: 100 * 2 ** 30, availBytes: 50 * 2 ** 30, usedPercent: 50 },
      busyPorts: [], freePorts: input.expectedPorts,
    };
  },
};

/** Every payload in a history, with where it is; search attributes are left out (Temporal never encrypts them: no secrets there). */
function payloadsOf(node: unknown, path = ''): { path: string; payload: Payload }[] {
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return [];
  if (Array.isArray(node)) return node.flatMap((v, i) => payloadsOf(v, `${path}[${i}]`));
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') return [{ path, payload: o as Payload }];
  return Object.entries(o).flatMap(([k, v]) => (k === 'searchAttributes' ? [] : payloadsOf(v, path ? `${path}.${k}` : k)));
}
const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString('utf8');

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
}

describe('payload encryption (real Temporal dev server, FAKE probe activity)', () => {
  let t: TestTemporal;
  let w: TestWorker;
  let sealed: Client;
  let taskQueue: string;
  before(async () => {
    t = await startTestTemporal();
    taskQueue = uniqueTaskQueue('sealed');
    w = await startTestWorker(t.address, taskQueue, fakeProbe, { codec });
    // The CLI's client: same connection, the codec as connectClient wires it.
    sealed = new Client({ connection: t.connection, namespace: 'default', identity: 'alice@test (mooring-cli)', dataConverter: encryptingDataConverter(codec) });
  });
  after(async () => { await w?.stop(); await t?.stop(); });

  let approvedId = '', rejectedId = '';

  it('runs a runbook with the codec: results and failures arrive in clear for the client that has the key', async () => {
    const ok = await startRunbook(sealed, findRunbook('inventory-check'), testInventory('sealed-ok'), { taskQueue });
    approvedId = ok.workflowId;
    await eventually('the approval gate', async () => (await sealed.workflow.getHandle(ok.workflowId).query(progressQuery)).pendingApproval);
    await decide(sealed, ok.workflowId, { approved: true, by: 'alice', comment: 'change CHG-4711' });
    const result = await ok.result() as { hosts: HostFacts[] };
    assert.deepEqual(result.hosts.map((h) => h.ip).sort(), ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.21']);

    const no = await startRunbook(sealed, findRunbook('inventory-check'), testInventory('sealed-no'), { taskQueue });
    rejectedId = no.workflowId;
    await eventually('the approval gate', async () => (await sealed.workflow.getHandle(no.workflowId).query(progressQuery)).pendingApproval);
    await decide(sealed, no.workflowId, { approved: false, by: 'bob', comment: 'the-freeze-of-10.9.8.7' });
    await assert.rejects(no.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const f = failureOf(err);
      assert.equal(f.type, 'ApprovalRejected');
      assert.match(f.message, /rejected by bob: the-freeze-of-10\.9\.8\.7/);
      return true;
    });
  });

  it('the server holds only ciphertext: every payload of both histories is encrypted, failure messages included', async () => {
    for (const id of [approvedId, rejectedId]) {
      // t.client has no codec: what anyone with access to Temporal's database or API sees.
      const history = await t.client.workflow.getHandle(id).fetchHistory();
      const found = payloadsOf(history);
      assert.ok(found.length >= 5, `${id}: payloads found: ${found.map((f) => f.path).join(', ')}`);
      const clear = found.filter((f) => encodingOf(f.payload) !== 'binary/encrypted');
      assert.deepEqual(clear.map((f) => `${f.path}: ${encodingOf(f.payload)}`), [], `${id}: payloads in clear`);
      const raw = historyToJSON(history);
      const bytes = found.map((f) => Buffer.from(f.payload.data!).toString('latin1')).join('\n');
      for (const s of SECRETS) {
        assert.ok(!raw.includes(s) && !bytes.includes(s), `${id}: "${s}" is readable in the server's history`);
      }
    }
    const failed = (await t.client.workflow.getHandle(rejectedId).fetchHistory()).events!.find((e) => e.workflowExecutionFailedEventAttributes)!;
    const failure = failed.workflowExecutionFailedEventAttributes!.failure!;
    assert.equal(failure.message, 'Encoded failure', 'the workflow\'s own failure message went through the bundled failure converter');
    assert.equal(encodingOf(failure.encodedAttributes!), 'binary/encrypted');
    // A client without the key cannot read the result either.
    await assert.rejects(t.client.workflow.getHandle(approvedId).result(), /binary\/encrypted|encoding/i);
  });

  it('mooring status with MOORING_CODEC_KEYS shows the run in clear; without it, no secret leaks', async () => {
    const env = { TEMPORAL_ADDRESS: t.address, TEMPORAL_NAMESPACE: 'default' };
    const withKey = await mooring(['status', approvedId, '-o', 'json'], { ...env, ...CODEC_ENV });
    assert.equal(withKey.code, 0, withKey.stderr);
    const out = JSON.parse(withKey.stdout) as { status: string; result: { hosts: HostFacts[] }; progress?: { decisions: { comment?: string }[] } };
    assert.equal(out.status, 'COMPLETED');
    assert.ok(out.result.hosts.some((h) => h.ip === '10.0.0.11' && h.os === 'Fake OS 1'));
    assert.equal(out.progress?.decisions[0]?.comment, 'change CHG-4711');
    const rejected = await mooring(['status', rejectedId], { ...env, ...CODEC_ENV });
    assert.match(rejected.stdout, /FAILED: \[ApprovalRejected\] .*the-freeze-of-10\.9\.8\.7/);

    const withoutKey = await mooring(['status', approvedId, '-o', 'json'], { ...env, MOORING_CODEC_KEYS: '' });
    assert.notEqual(withoutKey.code, 0, 'a CLI without the key cannot read the result');
    for (const s of SECRETS) assert.ok(!`${withoutKey.stdout}${withoutKey.stderr}`.includes(s), `"${s}" shown without the key`);
  });

  it('the temporal CLI shows the history in clear through mooring\'s codec server', async () => {
    const server = await startCodecServer({ codec, host: '127.78.0.1', port: 0, uiOrigins: [t.uiUrl] });
    try {
      const args = ['workflow', 'show', '--workflow-id', approvedId, '--address', t.address, '--output', 'json'];
      const decoded = await run(findTool('temporal', 'MOORING_TEMPORAL_BIN'), [...args, '--codec-endpoint', server.url]);
      assert.equal(decoded.code, 0, decoded.stderr);
      // JSON output keeps payload data in base64 (proto3 JSON): read it back.
      const dataOf = (json: string) => [...json.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1')).join('\n');
      assert.match(dataOf(decoded.stdout), /"ip":"10\.0\.0\.11"/);
      assert.match(dataOf(decoded.stdout), /CHG-4711/);
      const rawShow = await run(findTool('temporal', 'MOORING_TEMPORAL_BIN'), args);
      assert.equal(rawShow.code, 0, rawShow.stderr);
      assert.ok(!dataOf(rawShow.stdout).includes('10.0.0.11') && !dataOf(rawShow.stdout).includes('CHG-4711'), 'without the codec server the CLI shows ciphertext');
    } finally {
      await server.close();
    }
  });

  it('the encrypted histories replay with the codec, and not without it', async () => {
    for (const id of [approvedId, rejectedId]) {
      const history = await t.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory({ ...(await codecWorkerOptions(codec)) }, history, id);
      await assert.rejects(Worker.runReplayHistory({ ...(await codecWorkerOptions(undefined)) }, history, id));
    }
  });
});
