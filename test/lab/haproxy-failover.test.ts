// Real HAProxy (Debian's) running the haproxy.cfg Mooring renders, on loopback, in front of tiny
// servers that answer their own name: stand-ins for kube-apiservers and an ingress. It must
// balance across the masters, take a dead one out on its health check, send everything to the
// survivor, put the back end back when it returns, and (with the production /readyz check) take
// out an apiserver that still accepts connections but says it is not ready.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet, createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../activities/pki/certificates.js';
import { HAPROXY_NAMES, HEALTHZ_PATH, STATS_PATH, renderHaproxyConfig, type BackendServer, type HaproxyOptions } from '../../activities/gateway/haproxy.js';
import { testInventory } from '../helpers/inventory.js';
import { freeLoopbackPorts } from '../helpers/ports.js';

const HAPROXY = '/usr/sbin/haproxy';
const LB = '127.0.0.1';

/** A back end that answers every connection with its name; over TLS, /readyz reports `ready`. */
class NameServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  ready = true;

  constructor(readonly name: string, readonly address: string, private readonly tls?: { certPem: string; keyPem: string }) {}

  async start(port = 0): Promise<void> {
    const track = (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined); // health checks hang up without reading
    };
    const server: Server = this.tls
      ? createHttpsServer({ cert: this.tls.certPem, key: this.tls.keyPem }, (req, res) => {
        const status = req.url === '/readyz' && !this.ready ? 500 : 200;
        res.writeHead(status, { connection: 'close' }).end(req.url === '/readyz' ? (this.ready ? 'ok' : 'not ready') : this.name);
      }).on('connection', track)
      : createServer((s) => {
        track(s);
        s.end(`${this.name}\n`);
      });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.address, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Gone as a crashed process is: no listener, open connections reset. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.sockets.forEach((s) => s.destroy());
    await closed;
  }

  get backend(): BackendServer {
    return { name: this.name, address: this.address, port: this.port };
  }
}

/** HAProxy in the foreground on a rendered file, with its monitor port for /healthz and /stats. */
class LabHaproxy {
  private proc?: ChildProcess;
  log = '';

  constructor(readonly ports: { api: number; http: number; https: number; monitor: number }) {}

  async start(dir: string, opts: HaproxyOptions): Promise<void> {
    const cfg = join(dir, `haproxy-${this.ports.monitor}.cfg`);
    // The inventory's masters and workers are replaced by loopback servers; everything else
    // (sections, timeouts, balance, fall 3 / rise 2) is what a gateway gets.
    await writeFile(cfg, renderHaproxyConfig(testInventory('lab-haproxy'), {
      bindAddress: LB, monitorAddress: LB, ports: this.ports, check: { interMs: 200 }, dropPrivileges: false, log: 'stdout', ...opts,
    }));
    this.proc = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    await this.waitFor('haproxy to answer /healthz', async () => (await this.monitor(HEALTHZ_PATH)).status === 200);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    // unref'd, so a prompt exit does not leave the run waiting for the timer
    if (!(await Promise.race([exited.then(() => true), sleep(5000, false, { ref: false })]))) proc.kill('SIGKILL');
  }

  async monitor(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://${LB}:${this.ports.monitor}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.text() };
  }

  /** A server's state as HAProxy's own stats report it (UP, DOWN, "UP 1/2", ...). */
  async status(server: string, backend: string = HAPROXY_NAMES.api): Promise<string | undefined> {
    const { body } = await this.monitor(`${STATS_PATH};csv`);
    const [header, ...rows] = body.trim().split('\n').map((l) => l.split(','));
    const col = header?.indexOf('status') ?? -1;
    return rows.find((r) => r[0] === backend && r[1] === server)?.[col];
  }

  async waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.proc && this.proc.exitCode !== null) assert.fail(`haproxy exited while waiting for ${what}:\n${this.log}`);
      if (await ok().catch(() => false)) return;
      await sleep(100);
    }
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.log.slice(-2000)}`);
  }

  waitStatus(server: NameServer, want: string): Promise<void> {
    return this.waitFor(`${server.name} ${want}`, async () => (await this.status(server.name)) === want);
  }
}

/** Connect, read until the server closes, return what it said (its name). */
function ask(port: number, host = LB): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let data = '';
    s.setTimeout(5000, () => s.destroy(new Error(`no answer from ${host}:${port} within 5s`)));
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('end', () => resolve(data.trim()));
    s.on('error', reject);
  });
}

/** The same over TLS, verified against the lab CA: HAProxy passes TLS through untouched. */
function askTls(port: number, ca: CertificateAuthority, host = LB): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host, port, path: '/', ca: ca.certPem, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within 5s`)));
    req.on('error', reject);
  });
}

async function many(n: number, one: () => Promise<string>): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) answers.push(await one());
  return answers;
}

let dir: string;
const started: NameServer[] = [];
const proxies: LabHaproxy[] = [];

async function backends(...servers: NameServer[]): Promise<NameServer[]> {
  for (const s of servers) {
    await s.start();
    started.push(s);
  }
  return servers;
}

async function haproxy(opts: HaproxyOptions): Promise<LabHaproxy> {
  const [api, http, https, monitor] = await freeLoopbackPorts(4) as [number, number, number, number];
  const lb = new LabHaproxy({ api, http, https, monitor });
  proxies.push(lb); // registered before start, so after() stops it even if start fails
  await lb.start(dir, opts);
  return lb;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mooring-haproxy-'));
});

after(async () => {
  for (const p of proxies) await p.stop();
  for (const s of started) await s.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

void describe('haproxy balancing TCP back ends (connect checks)', () => {
  let lb: LabHaproxy;
  let masters: NameServer[];
  let worker: NameServer;

  before(async () => {
    masters = await backends(new NameServer('master-a', '127.0.0.2'), new NameServer('master-b', '127.0.0.3'));
    [worker] = await backends(new NameServer('worker-a', '127.0.0.4')) as [NameServer];
    lb = await haproxy({ apiCheck: 'tcp', servers: { api: masters.map((m) => m.backend), http: [worker.backend], https: [worker.backend] } });
  });

  void test('/healthz answers for keepalived; other paths do not', async () => {
    assert.equal((await lb.monitor(HEALTHZ_PATH)).status, 200);
    assert.notEqual((await lb.monitor('/not-healthz')).status, 200);
  });

  void test('API connections are spread round-robin over both masters', async () => {
    const answers = await many(6, () => ask(lb.ports.api));
    for (const m of masters) assert.equal(answers.filter((a) => a === m.name).length, 3, `round-robin over two: ${answers.join(' ')}`);
  });

  void test('ingress 80 and 443 go to the workers', async () => {
    assert.deepEqual([await ask(lb.ports.http), await ask(lb.ports.https)], [worker.name, worker.name]);
  });

  void test('a dead master is marked DOWN by the health check and every connection reaches the survivor', async () => {
    const [survivor, victim] = masters as [NameServer, NameServer];
    await lb.waitStatus(victim, 'UP');
    await victim.kill();
    await assert.rejects(ask(victim.port, victim.address), /ECONNREFUSED/, 'the victim is really gone');
    await lb.waitStatus(victim, 'DOWN');
    assert.equal(await lb.status(survivor.name), 'UP');
    assert.deepEqual(await many(10, () => ask(lb.ports.api)), Array(10).fill(survivor.name));
  });

  void test('when the master returns, rise puts it back in rotation', async () => {
    const victim = masters[1]!;
    await victim.start(victim.port);
    await lb.waitStatus(victim, 'UP');
    // HAProxy's round-robin may favour a server that just came back for a few connections; what
    // matters is that it receives traffic again and nothing else answers.
    const answers = await many(6, () => ask(lb.ports.api));
    assert.ok(answers.includes(victim.name), `${victim.name} answers again: ${answers.join(' ')}`);
    assert.ok(answers.every((a) => masters.some((m) => m.name === a)), answers.join(' '));
  });
});

void describe('haproxy with the production apiserver check (HTTPS GET /readyz)', () => {
  let lb: LabHaproxy;
  let ca: CertificateAuthority;
  let masters: NameServer[];

  before(async () => {
    ca = await createCertificateAuthority({ commonName: 'lab-haproxy-ca' });
    // Like a real apiserver certificate, each lists the load balancer's address among its SANs.
    const tlsFor = (address: string) => issueCertificate(ca, { kind: 'server', commonName: 'kube-apiserver', ips: [address, LB] });
    masters = await backends(
      new NameServer('master-c', '127.0.0.5', await tlsFor('127.0.0.5')),
      new NameServer('master-d', '127.0.0.6', await tlsFor('127.0.0.6')),
    );
    lb = await haproxy({ servers: { api: masters.map((m) => m.backend), http: [], https: [] } });
  });

  void test('an apiserver that is listening but not ready is taken out, and put back when ready', async () => {
    const [ready, draining] = masters as [NameServer, NameServer];
    await lb.waitStatus(draining, 'UP');
    const both = await many(4, () => askTls(lb.ports.api, ca));
    assert.deepEqual([...new Set(both)].sort(), [ready.name, draining.name], `TLS passes through to both: ${both.join(' ')}`);

    draining.ready = false;
    await lb.waitStatus(draining, 'DOWN');
    assert.equal(await askTls(draining.port, ca, draining.address), draining.name, 'it still accepts connections');
    assert.deepEqual(await many(6, () => askTls(lb.ports.api, ca)), Array(6).fill(ready.name));

    draining.ready = true;
    await lb.waitStatus(draining, 'UP');
  });
});
