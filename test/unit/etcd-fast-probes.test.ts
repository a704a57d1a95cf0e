// The shell behind two of issue 14's speed-ups, run for real with the machine's sh, bash and
// coreutils (the commands Mooring sends to a member host): the refused-port check that spares a
// dead member etcdctl's 3 s dial timeout, and the one-read hashing of a new snapshot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFUSED_MARKER, unlessRefused, wasRefused } from '../../activities/etcd-recovery/port-probe.js';
import { appendedAndWholeSha256, appendedSha256Matches, statusAlongside } from '../../activities/etcd-recovery/snapshots.js';

const sh = (command: string) => spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 20_000 });

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('unlessRefused: a refused client port is reported at once, anything else runs the command', () => {
  it('refused: prints the marker, does not run the command, and fast', async () => {
    const port = await closedPort();
    const started = Date.now();
    const r = sh(unlessRefused('127.0.0.1', port, 'echo ran'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(wasRefused(r.stdout), `expected the marker, got ${JSON.stringify(r.stdout)}`);
    assert.ok(!r.stdout.includes('ran'));
    assert.ok(Date.now() - started < 2_000, 'bounded by the 1 s connect timeout');
  });

  it('listening: runs the command and passes its output and exit code through', async () => {
    const srv = createServer((c) => c.end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const { port } = srv.address() as AddressInfo;
      // spawnSync would block the event loop that accepts the connection: run it asynchronously.
      const { spawn } = await import('node:child_process');
      const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const p = spawn('sh', ['-c', unlessRefused('127.0.0.1', port, 'echo ran; exit 7')]);
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        p.on('close', (code) => resolve({ code, stdout }));
      });
      assert.equal(out.stdout, 'ran\n');
      assert.equal(out.code, 7);
      assert.ok(!wasRefused(out.stdout));
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('an error other than "Connection refused" (here: no `timeout` or `bash` on PATH) runs the command as before', async () => {
    const port = await closedPort();
    const r = spawnSync('/bin/sh', ['-c', unlessRefused('127.0.0.1', port, 'echo ran')], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    assert.equal(r.stdout, 'ran\n');
  });

  it('an address that is not a plain IPv4 address is never put into the probe', () => {
    assert.equal(unlessRefused("10.0.0.1'; touch /tmp/x; '", 2379, 'echo ran'), 'echo ran');
    assert.equal(unlessRefused('10.0.0.1', 0, 'echo ran'), 'echo ran');
    assert.ok(!wasRefused(`ran\n${REFUSED_MARKER}\n`), 'only a first line that is the marker counts');
  });
});

describe('appendedAndWholeSha256: the appended sha256 checked and the whole file hashed in one exec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mooring-hash-'));
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const good = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('a good snapshot file: exit 0 and the whole file\'s sha256', () => {
    const f = join(dir, "good 'file'.db");
    writeFileSync(f, good);
    const r = sh(appendedAndWholeSha256(f));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(/^sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1], sha(good));
  });

  it('a truncated file: exit 1 (not the tooling failure code), still hashed', () => {
    const f = join(dir, 'truncated.db');
    const cut = good.subarray(0, good.length - 1000);
    writeFileSync(f, cut);
    const r = sh(appendedAndWholeSha256(f));
    assert.equal(r.status, 1);
    assert.equal(/^sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1], sha(cut));
  });

  it('one flipped byte in the middle: exit 1', () => {
    const f = join(dir, 'flipped.db');
    const bad = Buffer.from(good);
    bad[1000] = bad[1000]! ^ 0xff;
    writeFileSync(f, bad);
    assert.equal(sh(appendedAndWholeSha256(f)).status, 1);
  });

  it('a file of 32 bytes or less, or none at all: exit 1 (corrupt), never the tooling failure code', () => {
    for (const [name, bytes] of [['empty.db', Buffer.alloc(0)], ['tiny.db', good.subarray(good.length - 32)]] as const) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      assert.equal(sh(appendedAndWholeSha256(f)).status, 1, name);
    }
    assert.equal(sh(appendedAndWholeSha256(join(dir, 'missing.db'))).status, 1, 'missing');
  });

  it('with a command alongside (snapshot status): the hashes as before, and its exit code, stdout and stderr', () => {
    const f = join(dir, 'alongside.db');
    writeFileSync(f, good);
    const r = sh(appendedAndWholeSha256(f, { alongside: `printf '{"hash":1,"revision":42,"totalKey":3}\\n'; echo warned >&2` }));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(/^sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1], sha(good));
    assert.deepEqual(statusAlongside(r.stdout), { code: 0, stdout: '{"hash":1,"revision":42,"totalKey":3}', stderr: 'warned\n' });
    const failed = sh(appendedAndWholeSha256(f, { alongside: 'echo "Error: invalid database" >&2; exit 2' }));
    assert.equal(failed.status, 0, 'the hash verdict is the exit code');
    assert.deepEqual(statusAlongside(failed.stdout), { code: 2, stdout: '', stderr: 'Error: invalid database\n' });
    const cut = join(dir, 'alongside-truncated.db');
    writeFileSync(cut, good.subarray(0, good.length - 1000));
    const bad = sh(appendedAndWholeSha256(cut, { alongside: 'true' }));
    assert.equal(bad.status, 1, 'a truncated file still fails on its appended sha256');
    assert.equal(statusAlongside(sh(appendedAndWholeSha256(f)).stdout), undefined, 'nothing alongside: status runs on its own');
  });

  it('leaves no temp dir behind', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mooring-hash-tmp-'));
    const f = join(dir, 'good2.db');
    writeFileSync(f, good);
    const r = spawnSync('sh', ['-c', appendedAndWholeSha256(f)], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(spawnSync('ls', ['-A', tmp], { encoding: 'utf8' }).stdout, '');
    rmSync(tmp, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
});

/** Where `tool` is on this machine's PATH, or undefined. */
function which(tool: string): string | undefined {
  const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  return where.startsWith('/') ? where : undefined;
}

describe('appendedSha256Matches: the plain check of a snapshot candidate', () => {
  it('passes a whole file; fails a truncated, flipped, tiny or missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mooring-hash-plain-'));
    const body = randomBytes(2 * 1024 * 1024 + 3);
    const good = Buffer.concat([body, createHash('sha256').update(body).digest()]);
    const flipped = Buffer.from(good);
    flipped[7] = flipped[7]! ^ 0x01;
    const files: [string, Buffer | undefined, number][] = [
      ["good 'one'.db", good, 0], ['truncated.db', good.subarray(0, good.length - 1), 1], ['flipped.db', flipped, 1],
      ['tiny.db', good.subarray(good.length - 32), 1], ['missing.db', undefined, 1],
    ];
    try {
      for (const [name, bytes, status] of files) {
        const f = join(dir, name);
        if (bytes) writeFileSync(f, bytes);
        const r = sh(appendedSha256Matches(f));
        assert.equal(r.status, status, `${name}: ${r.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SHA256_TOOL: OpenSSL when it hashes right, else sha256sum, the same digest either way', () => {
  const body = randomBytes(1024 * 1024 + 5);
  const good = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  const whole = createHash('sha256').update(good).digest('hex');

  /** Runs the one-read hashing with `openssl` on PATH replaced by `script` (logging each call to `log`). */
  function withOpenssl(script: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'mooring-sha-tool-'));
    const f = join(dir, 'snap.db');
    writeFileSync(f, good);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'openssl.log');
    // Every tool the command uses, linked in, so PATH can leave the machine's openssl out.
    for (const tool of ['sh', 'stat', 'tail', 'od', 'tr', 'cut', 'dd', 'mktemp', 'rm', 'sha256sum', 'cat', 'printf']) {
      const where = which(tool);
      if (where) symlinkSync(where, join(bin, tool));
    }
    if (script !== undefined) writeFileSync(join(bin, 'openssl'), `#!/bin/sh\necho called >> ${log}\n${script}\n`, { mode: 0o755 });
    const r = spawnSync(join(bin, 'sh'), ['-c', appendedAndWholeSha256(f)], { encoding: 'utf8', env: { PATH: bin }, timeout: 20_000 });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
    rmSync(dir, { recursive: true, force: true });
    return { r, calls, sha: /^sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1] };
  }

  it('uses OpenSSL when it is there and right (self test, then both hashers)', () => {
    const real = which('openssl');
    assert.ok(real, 'openssl is not on PATH: set-up installs it (the Debian package openssl in scripts/setup.sh); run npm run setup');
    const { r, calls, sha } = withOpenssl(`exec ${real} "$@"`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha, whole);
    assert.equal(calls, 3, 'the self test and the two hashers');
  });

  it('falls back to sha256sum when openssl is missing or prints something else', () => {
    for (const script of [undefined, 'echo "SHA2-256(stdin)= e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"', 'exit 1']) {
      const { r, calls, sha } = withOpenssl(script);
      assert.equal(r.status, 0, `${script}: ${r.stderr}`);
      assert.equal(sha, whole, `${script}: the whole file's sha256`);
      assert.ok(calls <= 1, `${script}: openssl is asked once (the self test) and never used to hash`);
    }
  });
});
