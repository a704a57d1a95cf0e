// TLS and mutual TLS between the CLI, the worker and Temporal, against the real Temporal server
// (temporal-server, not the dev server, which has no TLS) with requireClientAuth: the worker
// connects with --tls-* flags, the CLI with TEMPORAL_TLS_* only, a runbook runs through both,
// and a client without a certificate, with one from another CA, trusting another CA, or in plain
// text, is refused. Certificates come from Mooring's own PKI code. The probe activity never runs
// (the run is rejected at its approval gate), so no host is needed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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

describe('TLS and mTLS to the real Temporal server', () => {
  const dir = scratchDir('mooring-tls-');
  const f = (name: string, pem: string) => { const p = join(dir, name); writeFileSync(p, pem, { mode: 0o600 }); return p; };
  let server: TemporalServer;
  let files: Record<'ca' | 'crt' | 'key' | 'rogueCa' | 'rogueCrt' | 'rogueKey', string>;
  let tlsEnv: Record<string, string>;

  before(async () => {
    const ca = await createCertificateAuthority({ commonName: 'mooring test Temporal CA' });
    const serverCert = await issueCertificate(ca, { kind: 'server', commonName: SERVER_NAME, ips: [TLS_LAB_IP], dnsNames: [SERVER_NAME] });
    const systemWorker = await issueCertificate(ca, { kind: 'client', commonName: 'temporal-system-worker' });
    const client = await issueCertificate(ca, { kind: 'client', commonName: 'mooring' });
    const rogueCa = await createCertificateAuthority({ commonName: 'someone else\'s CA' });
    const rogue = await issueCertificate(rogueCa, { kind: 'client', commonName: 'mooring' });
    files = {
      ca: f('ca.pem', ca.certPem), crt: f('client.pem', client.certPem), key: f('client.key', client.keyPem),
      rogueCa: f('rogue-ca.pem', rogueCa.certPem), rogueCrt: f('rogue.pem', rogue.certPem), rogueKey: f('rogue.key', rogue.keyPem),
    };
    server = await startTlsTemporalServer(dir, {
      caCert: files.ca, serverCert: f('server.pem', serverCert.certPem), serverKey: f('server.key', serverCert.keyPem),
      workerCert: f('system-worker.pem', systemWorker.certPem), workerKey: f('system-worker.key', systemWorker.keyPem),
    }, { mutual: true, serverName: SERVER_NAME });
    tlsEnv = { TEMPORAL_ADDRESS: server.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca, TEMPORAL_TLS_CLIENT_CERT_PATH: files.crt, TEMPORAL_TLS_CLIENT_KEY_PATH: files.key };
    // The temporal CLI over the same mTLS: the namespace and Mooring's search attributes.
    const tlsFlags = ['--address', server.address, '--tls-ca-path', files.ca, '--tls-cert-path', files.crt, '--tls-key-path', files.key];
    await prepareNamespace(tlsFlags);
  });
  after(async () => { await server?.stop(); });

  const connectWith = async (env: Record<string, string>) => {
    const { connectionOptions } = resolveConnection({}, { TEMPORAL_CONFIG_FILE: join(dir, 'none.toml'), TEMPORAL_ADDRESS: server.address, ...env });
    const { tls } = connectionOptions;
    const c = await Connection.connect({ address: server.address, ...(tls !== undefined ? { tls } : {}), connectTimeout: '5s' });
    try { await c.workflowService.getSystemInfo({}); } finally { await c.close(); }
  };

  it('refuses a client without a certificate, with another CA\'s certificate, trusting another CA, or in plain text', async () => {
    await connectWith({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca, TEMPORAL_TLS_CLIENT_CERT_PATH: files.crt, TEMPORAL_TLS_CLIENT_KEY_PATH: files.key });
    await assert.rejects(connectWith({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca }), 'no client certificate');
    await assert.rejects(connectWith({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca, TEMPORAL_TLS_CLIENT_CERT_PATH: files.rogueCrt, TEMPORAL_TLS_CLIENT_KEY_PATH: files.rogueKey }), 'a certificate from another CA');
    await assert.rejects(connectWith({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.rogueCa, TEMPORAL_TLS_CLIENT_CERT_PATH: files.crt, TEMPORAL_TLS_CLIENT_KEY_PATH: files.key }), 'a server certificate the client does not trust');
    await assert.rejects(connectWith({}), 'plain text');
  });

  it('a runbook runs with the worker on --tls-* flags and the CLI on TEMPORAL_TLS_* only', async () => {
    const taskQueue = uniqueTaskQueue('tls');
    const { worker, connection } = await createMooringWorker({ address: server.address, tlsCa: files.ca, tlsCert: files.crt, tlsKey: files.key, taskQueue, codec: null, shutdownGraceSeconds: 2 });
    const running = worker.run();
    try {
      const inv = join(dir, 'cluster.yaml');
      writeFileSync(inv, JSON.stringify(testInventory('tls-lab')));
      const env = { ...tlsEnv, MOORING_CODEC_KEYS: '' };
      const started = await mooring(['run', 'inventory-check', '-c', inv, '--task-queue', taskQueue, '-o', 'json'], env);
      assert.equal(started.code, 0, started.stderr);
      const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
      await eventually('the approval gate, through the worker', async () => {
        const s = await mooring(['status', workflowId, '-o', 'json'], env);
        return s.code === 0 && (JSON.parse(s.stdout) as { progress?: { pendingApproval?: unknown } }).progress?.pendingApproval;
      }, 60_000, 500);
      const rejected = await mooring(['reject', workflowId, '--by', 'carol', '--comment', 'TLS test'], env);
      assert.equal(rejected.code, 0, rejected.stderr);
      const end = await mooring(['status', workflowId], env);
      assert.match(end.stdout, /FAILED: \[ApprovalRejected\] .*carol/);
      // The same CLI without its client certificate is turned away.
      const noCert = await mooring(['status', workflowId], { TEMPORAL_ADDRESS: server.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca });
      assert.notEqual(noCert.code, 0);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
