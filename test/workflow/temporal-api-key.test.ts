// An API key where the server wants one: the real Temporal server (temporal-server) on TLS with
// Temporal's default JWT claim mapper and authorizer, so every call needs `Authorization: Bearer
// <JWT>` with "<namespace>:<role>" permissions, signed by a key the server fetched from a JWKS.
// The worker takes its key from --api-key, the CLI from TEMPORAL_API_KEY; a run goes through both,
// and no key, a key signed by someone else, or one for another namespace, is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createCertificateAuthority, issueCertificate } from '../../activities/pki/certificates.js';
import { resolveConnection } from '../../workers/connection.js';
import { createMooringWorker } from '../../workers/worker.js';
import { mooring } from '../helpers/cli.js';
import { testInventory } from '../helpers/inventory.js';
import { scratchDir } from '../helpers/scratch.js';
import { eventually, uniqueTaskQueue } from '../helpers/temporal.js';
import { prepareNamespace, TLS_LAB_IP, startTlsTemporalServer, type TemporalServer } from '../helpers/temporal-server.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const SERVER_NAME = 'temporal.mooring.test';
const KID = 'mooring-test';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function jwt(key: KeyObject, sub: string, permissions: string[]): string {
  const unsigned = `${b64url({ alg: 'RS256', typ: 'JWT', kid: KID })}.${b64url({ sub, permissions, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
}

describe('API key against a Temporal server that wants one (JWT authorizer, TLS)', () => {
  const dir = scratchDir('mooring-apikey-');
  const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const adminKey = jwt(signer.privateKey, 'set-up', ['temporal-system:admin', 'default:admin']);
  let jwks: Server;
  let server: TemporalServer;
  let ca: string;

  before(async () => {
    // The JWKS the server fetches its verification key from (as from an identity provider).
    const body = JSON.stringify({ keys: [{ ...signer.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] });
    jwks = createServer((_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }).end(body); });
    await new Promise<void>((r) => jwks.listen(0, TLS_LAB_IP, r));
    const pki = await createCertificateAuthority({ commonName: 'mooring test Temporal CA' });
    const serverCert = await issueCertificate(pki, { kind: 'server', commonName: SERVER_NAME, ips: [TLS_LAB_IP], dnsNames: [SERVER_NAME] });
    const systemWorker = await issueCertificate(pki, { kind: 'client', commonName: 'temporal-system-worker' });
    const f = (name: string, pem: string) => { const p = join(dir, name); writeFileSync(p, pem, { mode: 0o600 }); return p; };
    ca = f('ca.pem', pki.certPem);
    server = await startTlsTemporalServer(dir, {
      caCert: ca, serverCert: f('server.pem', serverCert.certPem), serverKey: f('server.key', serverCert.keyPem),
      workerCert: f('system-worker.pem', systemWorker.certPem), workerKey: f('system-worker.key', systemWorker.keyPem),
    }, { mutual: false, serverName: SERVER_NAME, jwksUrl: `http://${TLS_LAB_IP}:${(jwks.address() as AddressInfo).port}/jwks.json` });
    const flags = ['--address', server.address, '--tls-ca-path', ca, '--api-key', adminKey];
    await prepareNamespace(flags);
  });
  after(async () => {
    await server?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  it('the worker (--api-key) and the CLI (TEMPORAL_API_KEY) run a runbook; no key, a forged key or another namespace\'s key is refused', async () => {
    const taskQueue = uniqueTaskQueue('apikey');
    const { worker, connection } = await createMooringWorker({
      address: server.address, tlsCa: ca, apiKey: jwt(signer.privateKey, 'mooring-worker', ['default:admin']), taskQueue, codec: null, shutdownGraceSeconds: 2,
    });
    const running = worker.run();
    try {
      const inv = join(dir, 'cluster.yaml');
      writeFileSync(inv, JSON.stringify(testInventory('api-key-lab')));
      const base = { TEMPORAL_ADDRESS: server.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca, MOORING_CODEC_KEYS: '' };
      const env = { ...base, TEMPORAL_API_KEY: jwt(signer.privateKey, 'alice', ['default:write']) };
      const started = await mooring(['run', 'inventory-check', '-c', inv, '--task-queue', taskQueue, '-o', 'json'], env);
      assert.equal(started.code, 0, started.stderr);
      const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
      await eventually('the approval gate, through the worker', async () => {
        const s = await mooring(['status', workflowId, '-o', 'json'], env);
        return s.code === 0 && (JSON.parse(s.stdout) as { progress?: { pendingApproval?: unknown } }).progress?.pendingApproval;
      }, 60_000, 500);
      const rejected = await mooring(['reject', workflowId, '--by', 'alice', '--comment', 'API key test'], env);
      assert.equal(rejected.code, 0, rejected.stderr);
      assert.match((await mooring(['status', workflowId], env)).stdout, /FAILED: \[ApprovalRejected\] .*alice/);

      for (const [what, key] of [
        ['no key', undefined],
        ['a key signed by another key', jwt(stranger.privateKey, 'mallory', ['default:admin'])],
        ['a key for another namespace', jwt(signer.privateKey, 'bob', ['other:admin'])],
      ] as const) {
        const keyEnv = { ...base, ...(key ? { TEMPORAL_API_KEY: key } : { TEMPORAL_TLS: 'true' }) };
        const r = await mooring(['status', workflowId], keyEnv);
        assert.notEqual(r.code, 0, `${what}: ${r.stdout}`);
        assert.ok(!r.stdout.includes('ApprovalRejected'), `${what}: the run was shown`);
        // The CLI's message is generic; the server's answer, through the same settings, says why.
        const { connectionOptions } = resolveConnection({}, { TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'), ...keyEnv });
        const attempt = async () => {
          const c = await Connection.connect({ address: server.address, tls: connectionOptions.tls!, ...(typeof connectionOptions.apiKey === 'string' ? { apiKey: connectionOptions.apiKey } : {}) });
          try { await c.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } }); } finally { await c.close(); }
        };
        await assert.rejects(attempt(), (err: unknown) => {
          // Refused at connect (its first call) or at the call itself: PERMISSION_DENIED (7) either way.
          const e = (err as { cause?: unknown }).cause ?? err;
          assert.equal((e as { code?: number }).code, 7, `${what}: ${String(e)}`);
          assert.match((e as Error).message, /unauthorized/i);
          return true;
        });
      }
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
