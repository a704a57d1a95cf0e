// The payload codec: every payload the SDK sends to Temporal (inputs, results, heartbeat details,
// memo, and with the failure converter also failure messages) is sealed with AES-256-GCM, so the
// server's database holds inventories, reports and addresses only as ciphertext.
//
// Wire format of an encrypted payload (compatible in spirit with Temporal's encryption samples):
//   metadata.encoding          = "binary/encrypted"
//   metadata.encryption-key-id = the key id (clear: decoders pick the key by it)
//   metadata.encryption-cipher = "AES-256-GCM/mooring-v1"
//   data = nonce (12 random bytes) || ciphertext || tag (16)
// where the plaintext is the original Payload serialized as protobuf, and the authenticated data
// binds the cipher name and the key id (moving a payload to another key id's label fails to open).
// A random 96-bit nonce per payload is safe far beyond any Mooring deployment's payload count
// under one key (NIST's bound is 2^32 messages); rotate keys (docs in README "Security") anyway.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// A CommonJS module without named ESM exports.
const { Payload: PayloadProto } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM/mooring-v1';
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const NONCE = 12, TAG = 16;

/** The keys a process knows, by id; `current` encrypts, every one decrypts. */
export interface Keyring {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

export type CodecFailure = 'UnknownKeyId' | 'Tampered' | 'Malformed';

/** Why a payload cannot be decrypted: names the key id, never any key material. */
export class CodecError extends Error {
  constructor(readonly failure: CodecFailure, message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

const enc = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const aad = (keyId: string) => enc(`${CIPHER}\0${keyId}`);

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly current: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(ring: Keyring) {
    for (const [id, key] of ring.keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new TypeError(`codec key id ${JSON.stringify(id)}: use 1-64 of A-Z a-z 0-9 . _ -`);
      if (key.length !== 32) throw new TypeError(`codec key ${id}: an AES-256 key is exactly 32 bytes`);
    }
    if (!ring.keys.has(ring.current)) throw new TypeError(`codec: the current key id ${ring.current} has no key`);
    this.current = ring.current;
    this.keys = new Map(ring.keys);
  }

  /** Key ids this codec decrypts, current first. */
  get keyIds(): string[] {
    return [this.current, ...[...this.keys.keys()].filter((k) => k !== this.current)];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.seal(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    // Payloads written before encryption was turned on (or by a process without it) stay readable:
    // only those marked encrypted are opened.
    return payloads.map((p) => (text(p.metadata?.encoding) === ENCRYPTED_ENCODING ? this.open(p) : p));
  }

  private seal(p: Payload): Payload {
    const keyId = this.current;
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.keys.get(keyId)!, nonce, { authTagLength: TAG });
    c.setAAD(aad(keyId));
    const plain = PayloadProto.encode(p).finish();
    return {
      metadata: { encoding: enc(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: enc(keyId), [CIPHER_METADATA]: enc(CIPHER) },
      data: Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]),
    };
  }

  private open(p: Payload): Payload {
    const keyId = text(p.metadata?.[KEY_ID_METADATA]);
    const cipher = text(p.metadata?.[CIPHER_METADATA]);
    if (keyId === undefined) throw new CodecError('Malformed', `an encrypted payload has no ${KEY_ID_METADATA}: it was not written by Mooring's codec`);
    if (cipher !== CIPHER) throw new CodecError('Malformed', `a payload of key id ${keyId} uses cipher ${JSON.stringify(cipher)}; this Mooring reads ${CIPHER}`);
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CodecError('UnknownKeyId', `a payload is encrypted with key id ${keyId}, which is not configured (known: ${this.keyIds.join(', ')}): add ${keyId}=<reference> to MOORING_CODEC_KEYS of this process`);
    }
    const data = Buffer.from(p.data ?? new Uint8Array());
    if (data.length < NONCE + TAG) throw new CodecError('Tampered', `a payload of key id ${keyId} is too short to be encrypted data: it was altered or truncated`);
    const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE), { authTagLength: TAG });
    d.setAAD(aad(keyId));
    d.setAuthTag(data.subarray(data.length - TAG));
    let plain: Buffer;
    try {
      plain = Buffer.concat([d.update(data.subarray(NONCE, data.length - TAG)), d.final()]);
    } catch {
      throw new CodecError('Tampered', `a payload of key id ${keyId} failed authentication: it was altered, or the key configured as ${keyId} is not the one it was encrypted with`);
    }
    const inner = PayloadProto.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  }
}
