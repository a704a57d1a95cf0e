// The Proxmox client's TLS (a real HTTPS server with a self-signed certificate made by openssl on
// 127.89.0.2: refused without trust, accepted with its CA file or its SHA-256 pin, refused with
// another pin) and how proxmox-api's error messages are read back (status, PVE's reason, errors).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { withProxmox } from '../../activities/cloud/proxmox/client.js';
import { parseEngineError, toFailure } from '../../activities/cloud/proxmox/errors.js';
import { scratchDir } from '../helpers/scratch.js';

const HOST = '127.89.0.2';
const SECRET_ENV = 'MOORING_TEST_PVE_TLS_TOKEN';

describe('Proxmox client TLS', () => {
  const dir = scratchDir('mooring-pve-tls-');
  let server: Server;
  let url: string;
  let fingerprint: string;
  before(async () => {
    process.env[SECRET_ENV] = '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f';
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=pve-test',
      '-addext', `subjectAltName=IP:${HOST}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    fingerprint = new X509Certificate(cert).fingerprint256;
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify({ data: { version: '8.2.4' } }));
    });
    await new Promise<void>((r) => server.listen(0, HOST, r));
    url = `https://${HOST}:${(server.address() as AddressInfo).port}/api2/json`;
  });
  after(() => { server?.close(); delete process.env[SECRET_ENV]; });

  const version = (extra: { caFile?: string; fingerprint?: string }) =>
    withProxmox('version', { apiUrl: url, tokenId: 'mooring@pve!ops', tokenSecret: { env: SECRET_ENV }, ...extra }, async (api) => (await api.version.$get()) as unknown as { version: string });
  const failure = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof ApplicationFailure, String(e));
    return e;
  };

  it('refuses a self-signed certificate it was not told to trust, saying how to pin it', async () => {
    const e = await failure(version({}));
    assert.equal(e.type, 'ProxmoxTls');
    assert.match(e.message, /pin its certificate with provider\.proxmox\.caFile or provider\.proxmox\.fingerprint/);
  });
  it('accepts it with its CA file', async () => {
    assert.equal((await version({ caFile: join(dir, 'cert.pem') })).version, '8.2.4');
  });
  it('accepts it with its SHA-256 fingerprint pinned (any case, with colons)', async () => {
    assert.equal((await version({ fingerprint: fingerprint.toLowerCase() })).version, '8.2.4');
  });
  it('refuses another certificate than the pinned one', async () => {
    const other = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const e = await failure(version({ fingerprint: other }));
    assert.equal(e.type, 'ProxmoxTls');
    assert.match(e.message, new RegExp(`presented a certificate with SHA-256 fingerprint ${fingerprint}, not the pinned`));
  });
});

describe('proxmox-api error messages read back', () => {
  it('a 500 whose reason holds a colon, with PVE\'s message', () => {
    const e = parseEngineError(new Error('POST https://pve:8006/api2/json/nodes/pve1/qemu/9000/clone return Error 500 unable to create VM 500: config file already exists: {"data":null,"message":"unable to create VM 500: config file already exists\\n"}'));
    assert.deepEqual([e?.status, e?.reason, e?.request], [500, 'unable to create VM 500: config file already exists', 'POST /api2/json/nodes/pve1/qemu/9000/clone']);
  });
  it('a 400 with its errors map, non-retryable', () => {
    const err = new Error('GET https://pve:8006/api2/json/cluster/nextid?vmid=500 return Error 400 Parameter verification failed.: {"data":null,"errors":{"vmid":"VM 500 already exists"}}');
    assert.deepEqual(parseEngineError(err)?.errors, { vmid: 'VM 500 already exists' });
    const f = toFailure(err, 'nextid');
    assert.equal(f.type, 'ProxmoxBadRequest');
    assert.equal(f.nonRetryable, true);
  });
  it('a 403 names the missing privilege and path', () => {
    const f = toFailure(new Error('POST https://pve:8006/api2/json/nodes/pve1/qemu/9000/clone connection failed with 403 Permission check failed (/vms/9000, VM.Clone) return: {"data":null}'), 'clone of kube0');
    assert.equal(f.type, 'ProxmoxPermission');
    assert.match(f.message, /lacks VM\.Clone on \/vms\/9000/);
  });
  it('a 2xx other than 200 (thrown by the package) is a retryable API error, not a crash', () => {
    const f = toFailure(new Error('PUT https://pve:8006/api2/json/nodes/pve1/qemu/500/resize connection failed with 202 Accepted return: {"data":null}'), 'resize');
    assert.equal(f.type, 'ProxmoxApiError');
    assert.equal(f.nonRetryable, false);
  });
});
