// sha256 and byte count of bytes as they stream past, and optionally a check against what they
// must be. The check fires in flush, before the stream ends: a consumer such as a multipart upload
// then sees an error instead of an end, and never completes an object from the wrong bytes.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class DigestMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestMismatch';
  }
}

export interface DigestExpectation {
  sha256?: string;
  bytes?: number;
  /** Names the stream in the error, e.g. "snapshot lab-1/2026-11-20T10:00:00Z". */
  what?: string;
}

export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  private count = 0;
  private hex: string | undefined;

  constructor(private readonly expect: DigestExpectation = {}) {
    super();
    if (expect.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(expect.sha256)) throw new TypeError('expected sha256 must be 64 lowercase hex digits');
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(data);
    this.count += data.length;
    done(null, data);
  }

  override _flush(done: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    const what = this.expect.what ?? 'stream';
    if (this.expect.bytes !== undefined && this.expect.bytes !== this.count) {
      return done(new DigestMismatch(`${what}: ${this.count} bytes arrived, ${this.expect.bytes} expected: truncated or changed in transit`));
    }
    if (this.expect.sha256 !== undefined && this.expect.sha256 !== this.hex) {
      return done(new DigestMismatch(`${what}: sha256 ${this.hex} of the bytes that arrived differs from the expected ${this.expect.sha256}: corrupt or changed in transit`));
    }
    done();
  }

  /** Bytes seen so far. */
  get bytes(): number { return this.count; }

  /** The sha256 (hex) once the stream has ended. */
  get sha256(): string {
    if (this.hex === undefined) throw new Error('sha256 is known only after the stream ended');
    return this.hex;
  }
}
