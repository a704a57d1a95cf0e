// How TLS, mTLS and an API key reach the connection: TEMPORAL_TLS_* and TEMPORAL_API_KEY through
// envconfig, --tls-* flags overriding parts of them, and a clear error for settings envconfig or
// this SDK would silently drop. No server here; the TLS server test connects for real.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { resolveConnection } from '../../workers/connection.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('mooring-tls-env-');
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const CA = file('ca.pem', 'CA PEM'), CRT = file('client.pem', 'CLIENT PEM'), KEY = file('client.key', 'KEY PEM'), CA2 = file('ca2.pem', 'OTHER CA');
// No temporal config file of the machine leaks into these cases.
const base = { TEMPORAL_CONFIG_FILE: join(dir, 'none.toml') };
const tlsOf = (env: NodeJS.ProcessEnv, flags = {}) => resolveConnection(flags, { ...base, ...env }).connectionOptions.tls as TLSConfig | boolean | undefined;
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

describe('Temporal connection: TLS, mTLS and API key settings', () => {
  it('plain by default, on 127.0.0.1:7233', () => {
    const r = resolveConnection({}, base);
    assert.equal(r.connectionOptions.address, '127.0.0.1:7233');
    assert.equal(r.connectionOptions.tls, undefined);
    assert.equal(r.namespace, 'default');
  });

  it('mTLS from TEMPORAL_TLS_*: CA, client pair, server name', () => {
    const tls = tlsOf({ TEMPORAL_ADDRESS: '127.78.0.1:7233', TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_CLIENT_CERT_PATH: CRT, TEMPORAL_TLS_CLIENT_KEY_PATH: KEY, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    assert.ok(typeof tls === 'object');
    assert.equal(text(tls.serverRootCACertificate), 'CA PEM');
    assert.equal(text(tls.clientCertPair?.crt), 'CLIENT PEM');
    assert.equal(text(tls.clientCertPair?.key), 'KEY PEM');
    assert.equal(tls.serverNameOverride, 'temporal.internal');
  });

  it('an API key turns TLS on, from the environment or the flag', () => {
    const env = resolveConnection({}, { ...base, TEMPORAL_API_KEY: 'key-123' }).connectionOptions;
    assert.equal(env.apiKey, 'key-123');
    assert.equal(env.tls, true);
    const flag = resolveConnection({ apiKey: 'key-456' }, base).connectionOptions;
    assert.equal(flag.apiKey, 'key-456');
    assert.equal(flag.tls, true);
    // An API key on a server without TLS (e.g. behind a TLS-terminating proxy) stays possible.
    assert.equal(resolveConnection({}, { ...base, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).connectionOptions.tls, false);
  });

  it('--tls-ca overrides the CA and keeps the rest of TEMPORAL_TLS_*', () => {
    const tls = tlsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }, { tlsCa: CA2, tlsCert: CRT, tlsKey: KEY });
    assert.ok(typeof tls === 'object');
    assert.equal(text(tls.serverRootCACertificate), 'OTHER CA');
    assert.equal(tls.serverNameOverride, 'temporal.internal');
    assert.equal(text(tls.clientCertPair?.crt), 'CLIENT PEM');
  });

  it('refuses what would be silently dropped, naming the variable and the fix', () => {
    assert.throws(() => tlsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: CRT }), /TEMPORAL_TLS_CLIENT_CERT_\* is set without TEMPORAL_TLS_CLIENT_KEY_\*/);
    assert.throws(() => tlsOf({ TEMPORAL_TLS_CLIENT_KEY_DATA: 'k' }), /TEMPORAL_TLS_CLIENT_KEY_\* is set without TEMPORAL_TLS_CLIENT_CERT_\*/);
    assert.throws(() => tlsOf({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }), /not supported by the TypeScript SDK.*TEMPORAL_TLS_SERVER_NAME/);
    assert.throws(() => tlsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }), /Temporal connection settings .*missing\.pem/);
    assert.throws(() => tlsOf({}, { tlsCert: CRT }), /--tls-cert and --tls-key go together/);
    assert.throws(() => tlsOf({ TEMPORAL_TLS: 'false' }, { tlsCa: CA }), /TEMPORAL_TLS=false/);
    assert.throws(() => tlsOf({}, { tlsCa: join(dir, 'nope.pem') }), /--tls-ca .*nope\.pem: cannot read \(ENOENT\)/);
  });
});
