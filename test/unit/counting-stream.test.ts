// countingStream counts what passes through without consuming it: a reader that attaches late
// still gets every byte (a 'data' listener on the source would have started it flowing early and
// lost the bytes that flowed before streamIn read them: a fetched snapshot arrived truncated).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { countingStream } from '../../activities/backup/index.js';

describe('countingStream', () => {
  it('passes every byte to a reader that starts late, and reports the running total', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(1024, i));
    const seen: number[] = [];
    const counted = countingStream((n) => seen.push(n));
    Readable.from(chunks).pipe(counted);
    await sleep(50); // the consumer is still opening its SSH channel
    const got: Buffer[] = [];
    for await (const c of counted) got.push(c as Buffer);
    assert.deepEqual(Buffer.concat(got), Buffer.concat(chunks));
    assert.equal(seen.at(-1), 64 * 1024);
  });

  it('a failing source fails the counted stream', async () => {
    const source = new Readable({ read() { this.destroy(new Error('store went away')); } });
    const counted = countingStream(() => {});
    source.on('error', (err) => counted.destroy(err));
    source.pipe(counted);
    await assert.rejects(async () => { for await (const chunk of counted) void chunk; }, /store went away/);
  });
});
