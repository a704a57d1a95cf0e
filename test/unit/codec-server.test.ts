// The codec server over real HTTP: the Temporal codec protocol (proto3 JSON, base64), CORS for the
// Web UI's origin only (preflight and actual requests), the bearer token, refusal to serve beyond
// loopback without one, and `mooring codec-server` as a process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { PROJECT_ROOT } from '../../client/tools.js';
import { AesGcmPayloadCodec } from '../../workers/codec/aes-gcm.js';
import { startCodecServer, type CodecServer } from '../../workers/codec/server.js';
import { freeLoopbackPorts } from '../helpers/ports.js';
import { mooring } from '../helpers/cli.js';

const UI = 'http://127.0.0.1:8233';
const TOKEN = 'test-token-0123456789';
// Key-ids k1 (current) and k0; another codec knows only k9.
const K1 = randomBytes(32), K0 = randomBytes(32);
const codec = new AesGcmPayloadCodec({ current: 'k1', keys: new Map([['k1', K1], ['k0', K0]]) });
const stranger = new AesGcmPayloadCodec({ current: 'k9', keys: new Map([['k9', randomBytes(32)]]) });

const wire = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const unwire = (w: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(w.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(w.data, 'base64'),
});
const plain = (v: unknown) => wire(defaultPayloadConverter.toPayload(v));
const meta = (w: { metadata: Record<string, string> }, k: string) => Buffer.from(w.metadata[k] ?? '', 'base64').toString('utf8');

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) as { payloads: { metadata: Record<string, string>; data: string }[]; message?: string } };
}

describe('codec server (real HTTP on loopback)', () => {
  let open: CodecServer, guarded: CodecServer;
  before(async () => {
    open = await startCodecServer({ codec, host: '127.78.0.1', port: 0, uiOrigins: [UI] });
    guarded = await startCodecServer({ codec, host: '127.78.0.1', port: 0, uiOrigins: [UI], token: TOKEN });
  });
  after(async () => { await open?.close(); await guarded?.close(); });

  it('encodes and decodes in the codec protocol (base64 metadata and data), also under /<namespace>/', async () => {
    const enc = await post(`${open.url}/encode`, { payloads: [plain({ host: '10.20.30.40' }), plain('two')] });
    assert.equal(enc.status, 200);
    assert.equal(enc.body.payloads.length, 2);
    assert.equal(meta(enc.body.payloads[0]!, 'encoding'), 'binary/encrypted');
    assert.equal(meta(enc.body.payloads[0]!, 'encryption-key-id'), 'k1');
    assert.ok(!Buffer.from(enc.body.payloads[0]!.data, 'base64').toString('latin1').includes('10.20.30.40'));
    // What the server encoded, the worker's codec opens: one format.
    assert.deepEqual(defaultPayloadConverter.fromPayload((await codec.decode([unwire(enc.body.payloads[0]!)]))[0]!), { host: '10.20.30.40' });
    const dec = await post(`${open.url}/default/decode`, { payloads: enc.body.payloads }, { 'X-Namespace': 'default' });
    assert.equal(dec.status, 200);
    assert.deepEqual(dec.body.payloads.map((p) => defaultPayloadConverter.fromPayload(unwire(p))), [{ host: '10.20.30.40' }, 'two']);
    // A payload sealed by the worker under the older key id decodes too (rotation).
    const old = await new AesGcmPayloadCodec({ current: 'k0', keys: new Map([['k0', K0]]) }).encode([defaultPayloadConverter.toPayload('old')]);
    assert.equal(defaultPayloadConverter.fromPayload(unwire((await post(`${open.url}/decode`, { payloads: old.map(wire) })).body.payloads[0]!)), 'old');
  });

  it('answers a CORS preflight from the UI origin and refuses other origins, before and after the preflight', async () => {
    const pre = await fetch(`${open.url}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), UI);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    const ok = await post(`${open.url}/decode`, { payloads: [plain(1)] }, { Origin: UI });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), UI);

    const evil = 'http://evil.example';
    const badPre = await fetch(`${open.url}/decode`, { method: 'OPTIONS', headers: { Origin: evil, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(badPre.status, 403);
    assert.equal(badPre.headers.get('access-control-allow-origin'), null);
    // A "simple" cross-site request skips the preflight: refused all the same, nothing decoded.
    const enc = await codec.encode([defaultPayloadConverter.toPayload('secret')]);
    const simple = await fetch(`${open.url}/decode`, { method: 'POST', headers: { Origin: evil, 'Content-Type': 'text/plain' }, body: JSON.stringify({ payloads: enc.map(wire) }) });
    assert.equal(simple.status, 403);
    assert.ok(!(await simple.text()).includes(Buffer.from('"secret"').toString('base64')));
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
  });

  it('with a token: none or a wrong one is 401, the right one works; preflights need none', async () => {
    const body = { payloads: [plain('x')] };
    const none = await post(`${guarded.url}/encode`, body);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await post(`${guarded.url}/encode`, body, { Authorization: 'Bearer wrong-token' })).status, 401);
    assert.equal((await post(`${guarded.url}/encode`, body, { Authorization: TOKEN })).status, 401, 'the scheme is part of it');
    assert.equal((await post(`${guarded.url}/encode`, body, { Authorization: `Bearer ${TOKEN}` })).status, 200);
    const pre = await fetch(`${guarded.url}/encode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(pre.status, 204);
  });

  it('names an unknown key id, and refuses bad requests with a reason', async () => {
    const foreign = await stranger.encode([defaultPayloadConverter.toPayload('x')]);
    const r = await post(`${open.url}/decode`, { payloads: foreign.map(wire) });
    assert.equal(r.status, 400);
    assert.match(r.body.message ?? '', /key id k9, which is not configured \(known: k1, k0\)/);
    assert.equal((await post(`${open.url}/decode`, '{not json')).status, 400);
    assert.match((await post(`${open.url}/decode`, { nope: [] })).body.message ?? '', /\{"payloads": \[\.\.\.\]\}/);
    assert.equal((await fetch(`${open.url}/decode`)).status, 405);
    assert.equal((await post(`${open.url}/metrics`, {})).status, 404);
  });

  it('refuses to start beyond loopback without a token, and without a UI origin', async () => {
    await assert.rejects(startCodecServer({ codec, host: '0.0.0.0', port: 0, uiOrigins: [UI] }), /bound to 0\.0\.0\.0 \(not loopback\).*MOORING_CODEC_SERVER_TOKEN/);
    await assert.rejects(startCodecServer({ codec, host: '127.78.0.1', port: 0, uiOrigins: [] }), /no UI origin/);
    await assert.rejects(startCodecServer({ codec, host: '127.78.0.1', port: 0, uiOrigins: ['ftp://x'] }), /http:\/\/ or https:\/\//);
  });
});

describe('mooring codec-server (the command)', () => {
  const keyEnv = { MOORING_CODEC_KEYS: 'cli1=env:MOORING_TEST_CODEC_KEY', MOORING_TEST_CODEC_KEY: K1.toString('base64') };

  it('serves the keys of MOORING_CODEC_KEYS until SIGTERM', async () => {
    const [port] = await freeLoopbackPorts(1) as [number];
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/mooring.js'), 'codec-server', '--port', String(port)], { env: { ...process.env, ...keyEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('Codec server on')) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the codec server did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(out, new RegExp(`Codec server on http://127\\.0\\.0\\.1:${port} \\(encrypts with key id cli1; decrypts cli1; no token\\)`));
      const enc = await post(`http://127.0.0.1:${port}/encode`, { payloads: [plain('via the command')] }, { Origin: 'http://localhost:8233' });
      assert.equal(enc.status, 200);
      const opened = await new AesGcmPayloadCodec({ current: 'cli1', keys: new Map([['cli1', K1]]) }).decode([unwire(enc.body.payloads[0]!)]);
      assert.equal(defaultPayloadConverter.fromPayload(opened[0]!), 'via the command');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
  });

  it('refuses to run without keys, or beyond loopback without a token, and says what to do', async () => {
    const noKeys = await mooring(['codec-server', '--port', '0'], { MOORING_CODEC_KEYS: '' });
    assert.equal(noKeys.code, 2);
    assert.match(noKeys.stderr, /MOORING_CODEC_KEYS is not set/);
    const wide = await mooring(['codec-server', '--ip', '0.0.0.0', '--port', '0'], { ...keyEnv, MOORING_CODEC_SERVER_TOKEN: '' });
    assert.equal(wide.code, 1);
    assert.match(wide.stderr, /not loopback.*set MOORING_CODEC_SERVER_TOKEN/);
    const missingKey = await mooring(['codec-server', '--port', '0'], { MOORING_CODEC_KEYS: 'k=env:MOORING_TEST_CODEC_NOT_SET' });
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stderr, /MOORING_CODEC_KEYS key k \(env MOORING_TEST_CODEC_NOT_SET\): is not set or empty: set MOORING_TEST_CODEC_NOT_SET in the codec server's environment/);
  });
});
