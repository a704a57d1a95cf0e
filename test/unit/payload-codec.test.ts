// The AES-256-GCM payload codec: round trip, ciphertext only on the wire, key rotation, tampering
// and unknown key ids refused with messages that name the key id (never key material), keys
// from secret references (MOORING_CODEC_KEYS), and failure messages encrypted too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, CodecError, KEY_ID_METADATA } from '../../workers/codec/aes-gcm.js';
import { codecFromEnv, parseCodecKeys } from '../../workers/codec/config.js';
import { failureConverter } from '../../workers/codec/failure-converter.js';
import { scratchDir } from '../helpers/scratch.js';

const K1 = randomBytes(32), K2 = randomBytes(32);
const codec = (current: string, keys: Record<string, Buffer>) => new AesGcmPayloadCodec({ current, keys: new Map(Object.entries(keys)) });
const SECRET_TEXT = 'inventory of cluster prod-eu: 10.20.30.40';
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v);
const fromPayload = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? new Uint8Array()).toString('utf8');

function assertCodecError(failure: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CodecError, String(err));
    assert.equal(err.failure, failure);
    assert.match(err.message, pattern);
    for (const k of [K1, K2]) {
      assert.ok(!err.message.includes(k.toString('hex')) && !err.message.includes(k.toString('base64')), 'no key material in messages');
    }
    return true;
  };
}

describe('AES-256-GCM payload codec', () => {
  it('round trips payloads with their metadata, and the wire holds only ciphertext', async () => {
    const c = codec('k1', { k1: K1 });
    const plain = [toPayload({ text: SECRET_TEXT }), toPayload(null), toPayload(new Uint8Array([0, 1, 2, 255]))];
    const sealed = await c.encode(plain);
    assert.equal(sealed.length, 3);
    for (const p of sealed) {
      assert.equal(meta(p, 'encoding'), 'binary/encrypted');
      assert.equal(meta(p, KEY_ID_METADATA), 'k1');
      assert.ok(!Buffer.from(p.data!).toString('latin1').includes('10.20.30.40'), 'the address is not readable in the ciphertext');
    }
    // A fresh nonce per payload: the same value seals differently each time.
    const again = await c.encode([plain[0]!]);
    assert.ok(!Buffer.from(again[0]!.data!).equals(Buffer.from(sealed[0]!.data!)));
    const opened = await c.decode(sealed);
    assert.deepEqual(opened.map(fromPayload), [{ text: SECRET_TEXT }, null, new Uint8Array([0, 1, 2, 255])]);
    assert.equal(meta(opened[0]!, 'encoding'), 'json/plain');
  });

  it('passes payloads that were never encrypted through decode unchanged (runs from before encryption was on)', async () => {
    const plain = toPayload({ text: SECRET_TEXT });
    const [out] = await codec('k1', { k1: K1 }).decode([plain]);
    assert.deepEqual(fromPayload(out!), { text: SECRET_TEXT });
  });

  it('rotation: encrypts with the current (first) key id, decrypts every configured one', async () => {
    const before = codec('k1', { k1: K1 });
    const old = await before.encode([toPayload('written under k1')]);
    const after = codec('k2', { k2: K2, k1: K1 });
    assert.deepEqual(after.keyIds, ['k2', 'k1']);
    const fresh = await after.encode([toPayload('written under k2')]);
    assert.equal(meta(fresh[0]!, KEY_ID_METADATA), 'k2');
    assert.deepEqual((await after.decode([...old, ...fresh])).map(fromPayload), ['written under k1', 'written under k2']);
    // Once k1 is retired, what it sealed is refused with the key id named.
    await assert.rejects(codec('k2', { k2: K2 }).decode(old), assertCodecError('UnknownKeyId', /key id k1, which is not configured \(known: k2\): add k1=<reference> to MOORING_CODEC_KEYS/));
  });

  it('refuses a tampered payload: altered ciphertext, tag, or key id label', async () => {
    const c = codec('k1', { k1: K1, k2: K2 });
    const [p] = await c.encode([toPayload({ text: SECRET_TEXT })]);
    const flip = (at: number) => {
      const data = Buffer.from(p!.data!);
      data[at] = data[at]! ^ 1;
      return { ...p!, data };
    };
    await assert.rejects(c.decode([flip(20)]), assertCodecError('Tampered', /key id k1 failed authentication/));
    await assert.rejects(c.decode([flip(p!.data!.length - 1)]), assertCodecError('Tampered', /failed authentication/));
    await assert.rejects(c.decode([flip(0)]), assertCodecError('Tampered', /failed authentication/));
    // Relabelled with another configured key id: the key id is authenticated data, so this fails too.
    const relabelled = { ...p!, metadata: { ...p!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await assert.rejects(c.decode([relabelled]), assertCodecError('Tampered', /key id k2 failed authentication/));
    await assert.rejects(c.decode([{ ...p!, data: Buffer.from(p!.data!).subarray(0, 10) }]), assertCodecError('Tampered', /too short/));
    // The same key id with another key (a misconfigured rotation) reads as a mismatch, not garbage.
    await assert.rejects(codec('k1', { k1: K2 }).decode([p!]), assertCodecError('Tampered', /key configured as k1 is not the one/));
  });

  it('refuses bad keyrings before anything is encrypted', () => {
    assert.throws(() => codec('k1', { k1: randomBytes(16) }), /exactly 32 bytes/);
    assert.throws(() => codec('k9', { k1: K1 }), /current key id k9 has no key/);
    assert.throws(() => codec('bad id', { 'bad id': K1 }), /key id "bad id"/);
  });

  it('with encodeCommonAttributes, a failure message and stack trace travel encrypted', async () => {
    const c = codec('k1', { k1: K1 });
    const failure = failureConverter.errorToFailure(ApplicationFailure.create({ message: `cannot reach ${SECRET_TEXT}`, type: 'HostUnreachable' }), defaultPayloadConverter);
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.applicationFailureInfo?.type, 'HostUnreachable', 'the type stays in clear for retry policies');
    const [sealed] = await c.encode([failure.encodedAttributes!]);
    assert.ok(!Buffer.from(sealed!.data!).toString('latin1').includes('10.20.30.40'));
    const [opened] = await c.decode([sealed!]);
    const err = failureConverter.failureToError({ ...failure, encodedAttributes: opened! }, defaultPayloadConverter);
    assert.match(err.message, /cannot reach inventory of cluster prod-eu/);
  });
});

describe('MOORING_CODEC_KEYS: key ids and references', () => {
  it('parses ID=env:NAME and ID=file:/path, the first being current', () => {
    assert.deepEqual(parseCodecKeys(' 2026-12=file:/etc/mooring/codec.key, 2026-06=env:OLD_KEY '), [
      { id: '2026-12', ref: { file: '/etc/mooring/codec.key' } },
      { id: '2026-06', ref: { env: 'OLD_KEY' } },
    ]);
  });

  it('refuses malformed entries naming the entry and the fix, never echoing a value after "="', () => {
    assert.throws(() => parseCodecKeys('k1=c2VjcmV0LWtleS1tYXRlcmlhbA=='), (err: Error) => {
      assert.match(err.message, /entry 1 \("k1=…"\): is not ID=env:NAME or ID=file:\/abs\/path; e\.g\./);
      assert.ok(!err.message.includes('c2VjcmV0'), 'a key pasted by mistake is not repeated');
      return true;
    });
    assert.throws(() => parseCodecKeys('k1=file:relative/path'), /entry 1 .*file .*must be an absolute path/);
    assert.throws(() => parseCodecKeys('k1=env:lower-case'), /entry 1 .*environment variable name/);
    assert.throws(() => parseCodecKeys('k1=env:A,k1=env:B'), /entry 2 .*key id k1 is listed twice/);
    assert.throws(() => parseCodecKeys('k 1=env:A'), /entry 1/);
  });

  it('is off when unset, and resolves keys from files and the environment when set', async () => {
    assert.equal(await codecFromEnv('the test', {}), undefined);
    assert.equal(await codecFromEnv('the test', { MOORING_CODEC_KEYS: '  ' }), undefined);
    const dir = scratchDir('mooring-codec-');
    writeFileSync(join(dir, 'k2.key'), `${K2.toString('base64')}\n`);
    process.env.MOORING_TEST_CODEC_K1 = K1.toString('hex');
    try {
      const c = await codecFromEnv('the test', { MOORING_CODEC_KEYS: `k2=file:${join(dir, 'k2.key')},k1=env:MOORING_TEST_CODEC_K1` });
      assert.ok(c);
      assert.deepEqual(c.keyIds, ['k2', 'k1']);
      const old = await codec('k1', { k1: K1 }).encode([toPayload('old')]);
      assert.equal(fromPayload((await c.decode(old))[0]!), 'old');
      await assert.rejects(codecFromEnv('the CLI', { MOORING_CODEC_KEYS: 'k3=env:MOORING_TEST_CODEC_UNSET' }),
        /MOORING_CODEC_KEYS key k3 \(env MOORING_TEST_CODEC_UNSET\): is not set or empty: set MOORING_TEST_CODEC_UNSET in the CLI's environment/);
      writeFileSync(join(dir, 'short.key'), 'too-short');
      await assert.rejects(codecFromEnv('the worker', { MOORING_CODEC_KEYS: `k4=file:${join(dir, 'short.key')}` }), (err: Error) => {
        assert.match(err.message, /k4 \(file .*short\.key\): is not a 256-bit key/);
        assert.ok(!err.message.includes('too-short'));
        return true;
      });
    } finally {
      delete process.env.MOORING_TEST_CODEC_K1;
    }
  });
});
