// The S3 client against a small local HTTP server that sheds load (503 SlowDown, 429) with a
// Retry-After header: the failure Temporal sees must carry that wait as nextRetryDelay, so the
// activity's next attempt comes when the server asked, not at the retry policy's own backoff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { openObjectStore, type ObjectStore } from '../../activities/backup/object-store.js';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../../activities/backup/object-store-errors.js';

interface Answer { status: number; code: string; headers: Record<string, string> }

describe('S3 client: Retry-After on 503/429', () => {
  let server: Server;
  let answer: Answer;
  let requests = 0;
  let store: ObjectStore;

  before(async () => {
    process.env.MOORING_TEST_S3_ACCESS = 'test-access';
    process.env.MOORING_TEST_S3_SECRET = 'test-secret';
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/xml', ...answer.headers });
      // HEAD answers carry no body; the SDK then names the error by the status.
      res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>slow down</Message><RequestId>1</RequestId></Error>`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    store = await openObjectStore(
      { endpoint: `http://127.0.0.1:${port}`, bucket: 'b', accessKey: { env: 'MOORING_TEST_S3_ACCESS' }, secretKey: { env: 'MOORING_TEST_S3_SECRET' } },
      { maxAttempts: 1 },
    );
  });
  after(async () => {
    store.close();
    await new Promise((r) => server.close(r));
  });

  async function failureOf(op: () => Promise<unknown>): Promise<ApplicationFailure> {
    try {
      await op();
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
      return err;
    }
    assert.fail('the operation succeeded against a server that only answers errors');
  }
  const delayMs = (f: ApplicationFailure) => (f.nextRetryDelay == null ? undefined : msToNumber(f.nextRetryDelay));

  it('503 SlowDown with Retry-After in seconds: nextRetryDelay is that wait, and the failure stays retryable', async () => {
    answer = { status: 503, code: 'SlowDown', headers: { 'Retry-After': '7' } };
    const before = requests;
    const f = await failureOf(() => store.listSnapshots('lab/'));
    assert.ok(requests > before, 'the request reached the server');
    assert.equal(f.type, 'ObjectStoreUnavailable');
    assert.equal(f.nonRetryable, false);
    assert.equal(delayMs(f), 7000);
    assert.match(f.message, /SlowDown.*retrying in 7 s, as its Retry-After asks/);
  });

  it('429 with Retry-After as an HTTP date: the time left until then', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30_000);
    answer = { status: 429, code: 'SlowDown', headers: { 'Retry-After': at.toUTCString() } };
    const f = await failureOf(() => store.listSnapshots('lab/'));
    const d = delayMs(f);
    assert.ok(d !== undefined && d > 25_000 && d <= 31_000, `delay ${d} ms should be the ~30 s left until ${at.toUTCString()}`);
  });

  it('503 on a HEAD (no body) still reads the header', async () => {
    answer = { status: 503, code: 'ServiceUnavailable', headers: { 'Retry-After': '3' } };
    const f = await failureOf(() => store.statSnapshot('lab/x.db.enc'));
    assert.equal(f.type, 'ObjectStoreUnavailable');
    assert.equal(delayMs(f), 3000);
  });

  it('503 without Retry-After: no nextRetryDelay, the retry policy decides', async () => {
    answer = { status: 503, code: 'SlowDown', headers: {} };
    const f = await failureOf(() => store.listSnapshots('lab/'));
    assert.equal(f.type, 'ObjectStoreUnavailable');
    assert.equal(f.nextRetryDelay ?? undefined, undefined);
  });

  it('retryAfterMs: caps a very long wait and ignores what it cannot read', () => {
    assert.equal(retryAfterMs({ 'retry-after': '86400' }), MAX_RETRY_AFTER_MS);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined);
    assert.equal(retryAfterMs({ 'Retry-After': '1.5' }), 1500);
    assert.equal(retryAfterMs({ 'retry-after': new Date(Date.now() - 60_000).toUTCString() }), 0);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
