// Contract tests of the SIMULATED Proxmox VE fake (lab/fakes/proxmox): they pin the /api2/json
// shapes Mooring relies on (both auth styles, clone → task UPID running → stopped, config with
// cloud-init, start/stop, guest-agent interfaces, the {"data": ...} envelope, PVE's 400 "Parameter
// verification failed." with an errors map, messages in the reason phrase) and the injectable faults.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { PROXMOX_FAKE_DEFAULTS, startProxmoxFake, type ProxmoxFake } from '../../lab/fakes/proxmox/index.js';

type Auth = { token: string } | { ticket: string; csrf?: string } | undefined;
interface Reply { status: number; statusText: string; headers: Headers; body: any } // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = `PVEAPIToken=${PROXMOX_FAKE_DEFAULTS.tokenid}=${PROXMOX_FAKE_DEFAULTS.tokenSecret}`;
const UPID = /^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:(\w+):(\d*):([^:]+):$/;

/** A Proxmox call as a client makes it: form-encoded parameters, auth by token or ticket cookie. */
async function pve(fake: ProxmoxFake, method: string, path: string, opts: { auth?: Auth; form?: Record<string, string | number>; json?: unknown; signal?: AbortSignal } = {}): Promise<Reply> {
  const auth = 'auth' in opts ? opts.auth : { token: TOKEN };
  const headers: Record<string, string> = {};
  if (auth && 'token' in auth) headers.authorization = auth.token;
  if (auth && 'ticket' in auth) {
    headers.cookie = `PVEAuthCookie=${encodeURIComponent(auth.ticket)}`;
    if (auth.csrf) headers.csrfpreventiontoken = auth.csrf;
  }
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(Object.entries(opts.form).map(([k, v]): [string, string] => [k, String(v)])).toString();
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${fake.apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const text = await res.text();
  return { status: res.status, statusText: res.statusText, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function sshKeyLine(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} ${comment}`;
}

describe('Proxmox VE fake (SIMULATED /api2/json)', () => {
  let fake: ProxmoxFake;

  before(async () => {
    fake = await startProxmoxFake({ host: '127.0.0.1', port: 0, timing: { task: { afterPolls: 2 }, agent: { afterPolls: 1 } } });
  });
  after(async () => { await fake.close(); });

  /** Polls the task until it stops; returns every status answer seen. */
  async function waitTask(upid: string): Promise<Record<string, unknown>[]> {
    const seen: Record<string, unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await pve(fake, 'GET', `/nodes/pve/tasks/${encodeURIComponent(upid)}/status`);
      assert.equal(r.status, 200);
      seen.push(r.body.data);
      if (r.body.data.status === 'stopped') return seen;
    }
    assert.fail(`task ${upid} did not stop`);
  }

  async function cloneTemplate(form: Record<string, string | number>): Promise<number> {
    const next = await pve(fake, 'GET', '/cluster/nextid');
    const newid = Number(next.body.data);
    const r = await pve(fake, 'POST', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`, { form: { newid, ...form } });
    assert.equal(r.status, 200);
    const seen = await waitTask(r.body.data);
    assert.equal(seen.at(-1)?.exitstatus, 'OK');
    return newid;
  }

  describe('authentication', () => {
    it('answers 401 "No ticket" without credentials and 401 for a wrong token secret', async () => {
      const none = await pve(fake, 'GET', '/nodes', { auth: undefined });
      assert.equal(none.status, 401);
      assert.equal(none.statusText, 'No ticket');
      const wrong = await pve(fake, 'GET', '/nodes', { auth: { token: `PVEAPIToken=${PROXMOX_FAKE_DEFAULTS.tokenid}=00000000-0000-0000-0000-000000000000` } });
      assert.equal(wrong.status, 401);
      const malformed = await pve(fake, 'GET', '/nodes', { auth: { token: 'Bearer abc' } });
      assert.equal(malformed.status, 401);
    });

    it('API token: PVEAPIToken=USER@REALM!TOKENID=SECRET reads and writes without a CSRF token', async () => {
      const nodes = await pve(fake, 'GET', '/nodes');
      assert.equal(nodes.status, 200);
      assert.equal(nodes.headers.get('content-type'), 'application/json;charset=UTF-8');
      assert.deepEqual(nodes.body.data.map((n: { node: string; status: string }) => [n.node, n.status]), [['pve', 'online']]);
      const write = await pve(fake, 'POST', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`, { form: { newid: 8000 } });
      assert.equal(write.status, 200);
      assert.match(write.body.data, UPID);
      assert.equal(UPID.exec(write.body.data)?.[3], PROXMOX_FAKE_DEFAULTS.tokenid);
      await waitTask(write.body.data);
    });

    it('ticket: POST /access/ticket, then the PVEAuthCookie cookie, and CSRFPreventionToken on writes', async () => {
      const login = await pve(fake, 'POST', '/access/ticket', { auth: undefined, form: { username: 'root', realm: 'pam', password: PROXMOX_FAKE_DEFAULTS.password } });
      assert.equal(login.status, 200);
      const d = login.body.data;
      assert.equal(d.username, 'root@pam');
      assert.match(d.ticket, /^PVE:root@pam:[0-9A-F]{8}::\S+$/);
      assert.match(d.CSRFPreventionToken, /^[0-9A-F]{8}:\S{43}$/);
      assert.equal(typeof d.cap, 'object');
      const read = await pve(fake, 'GET', '/cluster/nextid', { auth: { ticket: d.ticket } });
      assert.equal(read.status, 200);
      const noCsrf = await pve(fake, 'PUT', '/nodes/pve/qemu/8000/config', { auth: { ticket: d.ticket }, form: { description: 'x' } });
      assert.equal(noCsrf.status, 401);
      assert.equal(noCsrf.statusText, 'Permission denied - invalid csrf token');
      const withCsrf = await pve(fake, 'PUT', '/nodes/pve/qemu/8000/config', { auth: { ticket: d.ticket, csrf: d.CSRFPreventionToken }, form: { description: 'x' } });
      assert.equal(withCsrf.status, 200);
      assert.deepEqual(withCsrf.body, { data: null });
      const renewed = await pve(fake, 'POST', '/access/ticket', { auth: undefined, form: { username: 'root@pam', password: d.ticket } });
      assert.equal(renewed.status, 200);
      assert.match(renewed.body.data.ticket, /^PVE:root@pam:/);
      const forged = await pve(fake, 'GET', '/nodes', { auth: { ticket: d.ticket.replace(/::.*/, '::AAAA') } });
      assert.equal(forged.status, 401);
    });

    it('refuses a wrong password (401) and a missing one (400 with an errors map)', async () => {
      const wrong = await pve(fake, 'POST', '/access/ticket', { auth: undefined, form: { username: 'root@pam', password: 'nope' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.statusText, 'authentication failure');
      assert.equal(wrong.body.data, null);
      const missing = await pve(fake, 'POST', '/access/ticket', { auth: undefined, form: { username: 'root@pam' } });
      assert.equal(missing.status, 400);
      assert.equal(missing.statusText, 'Parameter verification failed.');
      assert.deepEqual(missing.body.errors, { password: 'property is missing and it is not optional' });
      assert.equal(missing.body.data, null);
    });

    it('expires tickets after ticketTtlMs', async () => {
      const short = await startProxmoxFake({ ticketTtlMs: 1 });
      try {
        const login = await pve(short, 'POST', '/access/ticket', { auth: undefined, form: { username: 'root@pam', password: PROXMOX_FAKE_DEFAULTS.password } });
        assert.equal(login.status, 200);
        await new Promise((r) => setTimeout(r, 5));
        const r = await pve(short, 'GET', '/nodes', { auth: { ticket: login.body.data.ticket } });
        assert.equal(r.status, 401);
      } finally {
        await short.close();
      }
    });
  });

  describe('VM lifecycle: clone, cloud-init config, start, agent, stop, destroy', () => {
    let vmid: number;
    let upid: string;
    const key = sshKeyLine('mooring@lab');

    it('/cluster/nextid answers the lowest free id as a string; a taken id is a 400', async () => {
      const r = await pve(fake, 'GET', '/cluster/nextid');
      assert.equal(r.status, 200);
      assert.equal(r.body.data, '100');
      const taken = await pve(fake, 'GET', `/cluster/nextid?vmid=${PROXMOX_FAKE_DEFAULTS.templateVmid}`);
      assert.equal(taken.status, 400);
      assert.deepEqual(taken.body.errors, { vmid: `VM ${PROXMOX_FAKE_DEFAULTS.templateVmid} already exists` });
    });

    it('clone answers a qmclone UPID; the task runs, then stops with exitstatus OK', async () => {
      vmid = Number((await pve(fake, 'GET', '/cluster/nextid')).body.data);
      const r = await pve(fake, 'POST', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`, { form: { newid: vmid, name: 'k8s-m1', full: 1 } });
      assert.equal(r.status, 200);
      upid = r.body.data;
      const m = UPID.exec(upid);
      assert.ok(m, `UPID shape: ${upid}`);
      assert.deepEqual([m[1], m[2]], ['qmclone', String(PROXMOX_FAKE_DEFAULTS.templateVmid)]);
      const locked = await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`);
      assert.equal(locked.body.data.lock, 'clone');
      const refused = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { cores: 4 } });
      assert.equal(refused.status, 500);
      assert.equal(refused.statusText, `VM ${vmid} is locked (clone)`);
      const seen = await waitTask(upid);
      assert.deepEqual(seen.map((s) => s.status), ['running', 'running', 'stopped']);
      const done = seen.at(-1) as Record<string, unknown>;
      assert.deepEqual(Object.keys(done).sort(), ['exitstatus', 'id', 'node', 'pid', 'pstart', 'starttime', 'status', 'tokenid', 'type', 'upid', 'user']);
      assert.equal(done.exitstatus, 'OK');
      assert.equal(done.type, 'qmclone');
      assert.equal(done.upid, upid);
      assert.equal(typeof done.pid, 'number');
      // A token's task: PVE reports user and tokenid apart; the UPID keeps user@realm!tokenid.
      assert.deepEqual([done.user, done.tokenid], PROXMOX_FAKE_DEFAULTS.tokenid.split('!'));
      assert.ok(upid.endsWith(`:${PROXMOX_FAKE_DEFAULTS.tokenid}:`));
      assert.equal(seen[0]?.exitstatus, undefined, 'a running task has no exitstatus');
      const log = await pve(fake, 'GET', `/nodes/pve/tasks/${encodeURIComponent(upid)}/log`);
      assert.equal(log.body.data.at(-1).t, 'TASK OK');
    });

    it('the clone has the template config with a new name, fresh MACs and its own disk', async () => {
      const tpl = (await pve(fake, 'GET', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/config`)).body.data;
      const c = (await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data;
      assert.equal(c.name, 'k8s-m1');
      assert.equal(c.template, undefined);
      assert.equal(c.lock, undefined);
      assert.equal(c.scsi0, `local-lvm:vm-${vmid}-disk-0,size=8G`);
      assert.equal(c.ide2, `local-lvm:vm-${vmid}-cloudinit,media=cdrom`);
      assert.match(c.net0, /^virtio=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr0$/);
      assert.notEqual(c.net0, tpl.net0);
      assert.match(c.digest, /^[0-9a-f]{40}$/);
      const linked = await cloneTemplate({ name: 'linked' });
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${linked}/config`)).body.data.scsi0, `local-lvm:base-${PROXMOX_FAKE_DEFAULTS.templateVmid}-disk-0/vm-${linked}-disk-0,size=8G`);
    });

    it('refuses bad clones: missing newid, unknown parameter, taken id, unknown source', async () => {
      const T = `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`;
      const missing = await pve(fake, 'POST', T, { form: { name: 'x' } });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body.errors, { newid: 'property is missing and it is not optional' });
      const unknown = await pve(fake, 'POST', T, { form: { newid: 500, colour: 'blue', full: 'maybe' } });
      assert.deepEqual(unknown.body.errors, { colour: 'property is not defined in schema and the schema does not allow additional properties', full: "type check ('boolean') failed - got 'maybe'" });
      const taken = await pve(fake, 'POST', T, { form: { newid: vmid } });
      assert.equal(taken.status, 500);
      assert.equal(taken.statusText, `unable to create VM ${vmid}: config file already exists`);
      const noSource = await pve(fake, 'POST', '/nodes/pve/qemu/4242/clone', { form: { newid: 501 } });
      assert.equal(noSource.status, 500);
      assert.equal(noSource.statusText, "Configuration file 'nodes/pve/qemu-server/4242.conf' does not exist");
      const badVmid = await pve(fake, 'GET', '/nodes/pve/qemu/abc/config');
      assert.deepEqual(badVmid.body.errors, { vmid: "type check ('integer') failed - got 'abc'" });
      assert.equal((await pve(fake, 'POST', T, { json: { newid: 502, name: 'json-body' } })).status, 200, 'a JSON body is accepted too');
    });

    it('POST config (async qmconfig task) sets cloud-init; the change lands when the task stops', async () => {
      const form = {
        ciuser: 'mooring', cipassword: 'not-shown', sshkeys: encodeURIComponent(`${key}\n`), ipconfig0: 'ip=10.10.10.21/24,gw=10.10.10.1',
        nameserver: '10.10.10.1', searchdomain: 'lab.internal', cores: 4, memory: 4096, agent: 'enabled=1',
      };
      const r = await pve(fake, 'POST', `/nodes/pve/qemu/${vmid}/config`, { form });
      assert.equal(r.status, 200);
      assert.equal(UPID.exec(r.body.data)?.[1], 'qmconfig');
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data.ciuser, undefined, 'not applied while the task runs');
      assert.equal((await waitTask(r.body.data)).at(-1)?.exitstatus, 'OK');
      const c = (await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data;
      assert.equal(c.ciuser, 'mooring');
      assert.equal(c.cipassword, '**********');
      assert.equal(c.sshkeys, encodeURIComponent(`${key}\n`));
      assert.equal(c.ipconfig0, 'ip=10.10.10.21/24,gw=10.10.10.1');
      assert.equal(c.cores, 4);
      assert.equal(c.memory, 4096);
    });

    it('PUT config is synchronous; sshkeys must be percent-encoded, ipconfig a CIDR, the digest current', async () => {
      const raw = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { sshkeys: key } });
      assert.equal(raw.status, 400);
      assert.match(raw.body.errors.sshkeys, /^invalid urlencoded string/);
      const notAKey = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { sshkeys: encodeURIComponent('hello world') } });
      assert.equal(notAKey.body.errors.sshkeys, 'SSH public key validation error');
      const noPrefix = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { ipconfig0: 'ip=10.10.10.21,gw=10.10.10.1' } });
      assert.equal(noPrefix.status, 400);
      assert.match(noPrefix.body.errors.ipconfig0, /ip: '10\.10\.10\.21'/);
      const unknown = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { template: 1 } });
      assert.equal(unknown.body.errors.template, 'property is not defined in schema and the schema does not allow additional properties');
      const before = (await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data.digest;
      const ok = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { description: 'control plane 1', digest: before } });
      assert.deepEqual(ok.body, { data: null });
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data.description, 'control plane 1');
      const stale = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { description: 'again', digest: before } });
      assert.equal(stale.status, 500);
      assert.match(stale.statusText, /^detected modified configuration/);
      const del = await pve(fake, 'PUT', `/nodes/pve/qemu/${vmid}/config`, { form: { delete: 'description' } });
      assert.equal(del.status, 200);
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data.description, undefined);
    });

    it('start runs a qmstart task; status/current says running; the agent answers after it is up', async () => {
      const stopped = await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/agent/network-get-interfaces`);
      assert.equal(stopped.status, 500);
      assert.equal(stopped.statusText, `VM ${vmid} is not running`);
      const r = await pve(fake, 'POST', `/nodes/pve/qemu/${vmid}/status/start`);
      assert.equal(UPID.exec(r.body.data)?.[1], 'qmstart');
      assert.equal(UPID.exec(r.body.data)?.[2], String(vmid));
      assert.equal((await waitTask(r.body.data)).at(-1)?.exitstatus, 'OK');
      const s = (await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/status/current`)).body.data;
      assert.equal(s.status, 'running');
      assert.equal(s.qmpstatus, 'running');
      assert.equal(s.agent, 1);
      assert.equal(s.vmid, vmid);
      assert.equal(typeof s.uptime, 'number');
      const early = await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/agent/network-get-interfaces`);
      assert.equal(early.status, 500);
      assert.equal(early.statusText, 'QEMU guest agent is not running');
      const ifs = await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/agent/network-get-interfaces`);
      assert.equal(ifs.status, 200);
      const result = ifs.body.data.result as { name: string; 'hardware-address': string; 'ip-addresses': { 'ip-address': string; 'ip-address-type': string; prefix: number }[]; statistics: Record<string, number> }[];
      assert.deepEqual(result.map((i) => i.name), ['lo', 'eth0']);
      const mac = (/virtio=([0-9A-F:]+)/.exec((await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`)).body.data.net0)?.[1] ?? '').toLowerCase();
      const eth0 = result[1];
      assert.ok(eth0);
      assert.equal(eth0['hardware-address'], mac);
      assert.deepEqual(eth0['ip-addresses'][0], { 'ip-address-type': 'ipv4', 'ip-address': '10.10.10.21', prefix: 24 });
      assert.equal(eth0['ip-addresses'][1]?.['ip-address-type'], 'ipv6');
      assert.equal(typeof eth0.statistics['rx-bytes'], 'number');
      assert.deepEqual((await pve(fake, 'POST', `/nodes/pve/qemu/${vmid}/agent/ping`)).body, { data: { result: {} } });
      const again = await pve(fake, 'POST', `/nodes/pve/qemu/${vmid}/status/start`);
      assert.equal((await waitTask(again.body.data)).at(-1)?.exitstatus, `VM ${vmid} already running`);
    });

    it('a guest on ip=dhcp gets an address from the fake DHCP range; no agent configured is a 500', async () => {
      const id = await cloneTemplate({ name: 'k8s-w1' });
      const start = await pve(fake, 'POST', `/nodes/pve/qemu/${id}/status/start`);
      await waitTask(start.body.data);
      await pve(fake, 'GET', `/nodes/pve/qemu/${id}/agent/network-get-interfaces`);
      const ifs = await pve(fake, 'GET', `/nodes/pve/qemu/${id}/agent/network-get-interfaces`);
      assert.equal(ifs.body.data.result[1]['ip-addresses'][0]['ip-address'], '10.10.10.100');
      const noAgent = await cloneTemplate({ name: 'k8s-w2' });
      await pve(fake, 'PUT', `/nodes/pve/qemu/${noAgent}/config`, { form: { delete: 'agent' } });
      await waitTask((await pve(fake, 'POST', `/nodes/pve/qemu/${noAgent}/status/start`)).body.data);
      const r = await pve(fake, 'GET', `/nodes/pve/qemu/${noAgent}/agent/network-get-interfaces`);
      assert.equal(r.status, 500);
      assert.equal(r.statusText, 'No QEMU guest agent configured');
    });

    it('stop runs a qmstop task; a running VM cannot be destroyed; a stopped one goes with qmdestroy', async () => {
      const running = await pve(fake, 'DELETE', `/nodes/pve/qemu/${vmid}`);
      assert.equal(running.status, 500);
      assert.equal(running.statusText, `VM ${vmid} is running - destroy failed`);
      const stop = await pve(fake, 'POST', `/nodes/pve/qemu/${vmid}/status/stop`);
      assert.equal(UPID.exec(stop.body.data)?.[1], 'qmstop');
      await waitTask(stop.body.data);
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/status/current`)).body.data.status, 'stopped');
      const del = await pve(fake, 'DELETE', `/nodes/pve/qemu/${vmid}?purge=1`);
      assert.equal(UPID.exec(del.body.data)?.[1], 'qmdestroy');
      await waitTask(del.body.data);
      const gone = await pve(fake, 'GET', `/nodes/pve/qemu/${vmid}/config`);
      assert.equal(gone.status, 500);
      assert.equal(gone.statusText, `Configuration file 'nodes/pve/qemu-server/${vmid}.conf' does not exist`);
      const list = (await pve(fake, 'GET', '/nodes/pve/qemu')).body.data as { vmid: number; template?: number }[];
      assert.ok(!list.some((v) => v.vmid === vmid));
      assert.ok(list.some((v) => v.vmid === PROXMOX_FAKE_DEFAULTS.templateVmid && v.template === 1));
    });

    it('a task told to fail stops with that exitstatus and leaves no half-made VM', async () => {
      fake.state.failNextTask('clone failed: storage local-lvm is full', 'qmclone');
      const r = await pve(fake, 'POST', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`, { form: { newid: 777 } });
      const seen = await waitTask(r.body.data);
      assert.equal(seen.at(-1)?.exitstatus, 'clone failed: storage local-lvm is full');
      assert.equal((await pve(fake, 'GET', '/nodes/pve/qemu/777/config')).status, 500);
      const log = await pve(fake, 'GET', `/nodes/pve/tasks/${encodeURIComponent(r.body.data)}/log`);
      assert.equal(log.body.data.at(-1).t, 'TASK ERROR: clone failed: storage local-lvm is full');
    });

    it('answers 501 for paths PVE does not have and 500 for an unknown node', async () => {
      const r = await pve(fake, 'GET', '/nodes/pve/frobnicate');
      assert.equal(r.status, 501);
      assert.equal(r.statusText, "Method 'GET /nodes/pve/frobnicate' not implemented");
      const node = await pve(fake, 'GET', '/nodes/nope/qemu/100/status/current');
      assert.equal(node.status, 500);
      assert.match(node.statusText, /^hostname lookup 'nope' failed/);
    });
  });

  describe('fault injection', () => {
    it('429 with Retry-After on clone, in the {"data": null} envelope, once', async () => {
      fake.faults.inject({ method: 'POST', pathPattern: '/qemu/\\d+/clone$', status: 429, retryAfterSeconds: 3 });
      const T = `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`;
      const r = await pve(fake, 'POST', T, { form: { newid: 900 } });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '3');
      assert.equal(r.body.data, null);
      assert.equal((await pve(fake, 'POST', T, { form: { newid: 900 } })).status, 200);
    });

    it('409 and 503 come back with the message in the reason phrase', async () => {
      fake.faults.inject({ pathPattern: '/status/current$', status: 409, message: 'VM is locked (backup)' });
      const r = await pve(fake, 'GET', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/status/current`);
      assert.equal(r.status, 409);
      assert.equal(r.statusText, 'VM is locked (backup)');
      fake.faults.inject({ pathPattern: '/tasks(/|$)', status: 503, times: 2 });
      const up = (await pve(fake, 'GET', '/cluster/nextid')).body.data;
      assert.equal((await pve(fake, 'GET', `/nodes/pve/tasks/UPID:pve:00000001:00000001:00000001:x:${up}:root@pam:/status`)).status, 503);
      assert.equal((await pve(fake, 'GET', '/nodes/pve/tasks')).status, 503);
      assert.equal((await pve(fake, 'GET', '/nodes/pve/tasks')).status, 200);
    });

    it('hang on the agent: the client times out and the fake keeps serving', async () => {
      fake.faults.inject({ pathPattern: '/agent/', hang: true });
      await assert.rejects(pve(fake, 'GET', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/agent/network-get-interfaces`, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
      assert.equal(fake.requests.at(-1)?.status, 'hang');
      assert.equal((await pve(fake, 'GET', '/nodes')).status, 200);
    });

    it('the HTTP control API fails the next task of a type for another process', async () => {
      const bad = await fetch(`${fake.url}/_fake/proxmox/fail-next-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(bad.status, 400);
      const ok = await fetch(`${fake.url}/_fake/proxmox/fail-next-task`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'qmstart', message: 'start failed: QEMU exited with code 1' }) });
      assert.equal(ok.status, 201);
      const id = await cloneTemplate({ name: 'k8s-w3' });
      const start = await pve(fake, 'POST', `/nodes/pve/qemu/${id}/status/start`);
      assert.equal((await waitTask(start.body.data)).at(-1)?.exitstatus, 'start failed: QEMU exited with code 1');
      assert.equal((await pve(fake, 'GET', `/nodes/pve/qemu/${id}/status/current`)).body.data.status, 'stopped');
      const faults = await fetch(`${fake.url}/_fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pathPattern: '/nodes$', drop: true }) });
      assert.equal(faults.status, 201);
      await assert.rejects(pve(fake, 'GET', '/nodes'), TypeError);
    });
  });
});
