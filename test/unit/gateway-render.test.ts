// The gateway configs judged by the programs that will read them: Debian's HAProxy (`haproxy -c`)
// and keepalived (`keepalived -t`), for every example inventory. Each check is also shown to
// reject a broken file, so a green run means the checker looked, not that it ignored the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { APISERVER_PORT, HAPROXY_NAMES, planHaproxyConfig, renderHaproxyConfig, type Section } from '../../activities/gateway/haproxy.js';
import { HAPROXY_CHECK, planKeepalivedConfig, renderKeepalivedConfig, vrrpRoles, type KeepalivedItem } from '../../activities/gateway/keepalived.js';
import { loadBalancerNodes } from '../../activities/gateway/placement.js';

const HAPROXY = '/usr/sbin/haproxy';
const KEEPALIVED = '/usr/sbin/keepalived';
const EXAMPLES = new URL('../../../config/examples/', import.meta.url).pathname;

interface Run {
  code: number;
  out: string;
}

// keepalived -t only parses and checks (interfaces, scripts); as root here it needs no -n/-l.
function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

// keepalived -t refuses interfaces that do not exist and loopback, so use one this host has.
async function hostInterface(): Promise<string> {
  const withAddress = Object.entries(networkInterfaces()).find(([, addrs]) => addrs?.some((a) => !a.internal))?.[0];
  const any = (await readdir('/sys/class/net')).find((n) => n !== 'lo');
  const iface = withAddress ?? any;
  assert.ok(iface, 'keepalived -t needs a non-loopback network interface on this host; none found');
  return iface;
}

const section = (cfg: { sections: Section[] }, kind: Section['kind'], name?: string) => {
  const s = cfg.sections.find((x) => x.kind === kind && x.name === name);
  assert.ok(s, `${kind} ${name ?? ''} is missing`);
  return s.directives.map((d) => d.join(' '));
};
const block = (items: KeepalivedItem[], keyword: string) => {
  const b = items.find((i) => i.keyword === keyword);
  assert.ok(b?.body, `${keyword} block is missing`);
  return b.body;
};
const value = (items: KeepalivedItem[], keyword: string) =>
  items.find((i) => i.keyword === keyword)?.args?.map((a) => (typeof a === 'object' ? a.quoted : String(a))).join(' ');

let dir: string;
let iface: string;
const examples: { file: string; inv: Inventory }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mooring-gateway-'));
  iface = await hostInterface();
  for (const file of (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort()) {
    examples.push({ file, inv: await loadInventory(join(EXAMPLES, file)) });
  }
  assert.equal(examples.length, 3, 'the three seed inventories');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('haproxy.cfg', () => {
  void test('each example: API on the VIP to the masters, ingress to the workers, local /healthz', () => {
    for (const { file, inv } of examples) {
      const cfg = planHaproxyConfig(inv);
      const lb = inv.loadBalancer;
      assert.deepEqual(section(cfg, 'frontend', HAPROXY_NAMES.api), [`bind ${lb.vip}:${lb.apiPort}`, `default_backend ${HAPROXY_NAMES.api}`], file);
      const api = section(cfg, 'backend', HAPROXY_NAMES.api);
      assert.deepEqual(api.filter((d) => d.startsWith('server ')),
        inv.masters.map((m) => `server ${m.name} ${m.ip}:${APISERVER_PORT} check verify none inter 2s fall 3 rise 2`), file);
      assert.ok(api.includes('http-check send meth GET uri /readyz'), `${file}: the apiserver is checked with /readyz`);
      for (const [entry, port] of [['http', 80], ['https', 443]] as const) {
        assert.deepEqual(section(cfg, 'frontend', HAPROXY_NAMES[entry])[0], `bind ${lb.vip}:${port}`, file);
        assert.deepEqual(section(cfg, 'backend', HAPROXY_NAMES[entry]).filter((d) => d.startsWith('server ')),
          inv.workers.map((w) => `server ${w.name} ${w.ip}:${port} check inter 2s fall 3 rise 2`), file);
      }
      const monitor = section(cfg, 'frontend', HAPROXY_NAMES.monitor);
      assert.ok(monitor.includes('bind 127.0.0.1:8404') && monitor.includes('monitor-uri /healthz'), file);
      assert.ok(section(cfg, 'defaults').includes('mode tcp'), `${file}: TCP passthrough`);
    }
  });

  void test('seed 003: HAProxy shares the masters, so it binds the VIP on apiPort 60443, never 6443', () => {
    const molly = examples.find((e) => e.inv.loadBalancer.placement === 'masters');
    assert.ok(molly);
    const text = renderHaproxyConfig(molly.inv);
    assert.match(text, /^ {4}bind 10\.0\.1\.99:60443$/m);
    assert.doesNotMatch(text, /bind \S+:6443$/m);
  });

  void test('haproxy -c accepts every rendered file, without warnings', async () => {
    for (const { file, inv } of examples) {
      const path = join(dir, `${file}.haproxy.cfg`);
      await writeFile(path, renderHaproxyConfig(inv));
      const r = await run(HAPROXY, ['-c', '-f', path]);
      assert.equal(r.code, 0, `${file}: ${r.out}`);
      assert.match(r.out, /Configuration file is valid/);
      assert.doesNotMatch(r.out, /\[(WARNING|ALERT)\]/, `${file}: ${r.out}`);
    }
    // The variants the lab and a bind-everything deployment use are valid too.
    const inv = examples[0]!.inv;
    const path = join(dir, 'variants.haproxy.cfg');
    await writeFile(path, renderHaproxyConfig(inv, { bindAddress: '*', apiCheck: 'tcp', dropPrivileges: false, log: 'stdout', check: { interMs: 250 } }));
    const r = await run(HAPROXY, ['-c', '-f', path]);
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /\[(WARNING|ALERT)\]/, r.out);
  });

  void test('haproxy -c rejects a broken file (the check can fail)', async () => {
    const good = renderHaproxyConfig(examples[0]!.inv);
    for (const [what, broken] of [
      ['unknown balance algorithm', good.replace('balance roundrobin', 'balance roundrobyn')],
      ['check interval without a valid unit', good.replace('inter 2s', 'inter 2parsecs')],
    ] as const) {
      assert.notEqual(broken, good, what);
      const path = join(dir, 'broken.haproxy.cfg');
      await writeFile(path, broken);
      const r = await run(HAPROXY, ['-c', '-f', path]);
      assert.notEqual(r.code, 0, `${what} was accepted: ${r.out}`);
      assert.match(r.out, /ALERT/, what);
    }
  });

  void test('values that would change the meaning of the file are refused, naming the field', () => {
    const inv = examples[0]!.inv;
    assert.throws(() => renderHaproxyConfig(inv, { bindAddress: '10.0.0.1 #' }), /haproxy bindAddress: .* is not an IPv4 address/);
    assert.throws(() => renderHaproxyConfig(inv, { ports: { api: 70000 } }), /haproxy ports\.api: 70000 is not a TCP port/);
    assert.throws(() => renderHaproxyConfig(inv, { servers: { api: [{ name: 'a b', address: '127.0.0.1', port: 1 }] } }), /haproxy servers\.api\[0\]\.name/);
  });
});

void describe('keepalived.conf', () => {
  void test('each example: one MASTER, distinct priorities, unicast to the other load balancers, the VIP, the HAProxy check', () => {
    for (const { file, inv } of examples) {
      const nodes = loadBalancerNodes(inv);
      assert.equal(nodes, inv.loadBalancer.placement === 'gateways' ? inv.gateways : inv.masters);
      const roles = vrrpRoles(inv);
      assert.deepEqual(roles.map((r) => r.state), nodes.map((_, i) => (i === 0 ? 'MASTER' : 'BACKUP')), file);
      assert.equal(new Set(roles.map((r) => r.priority)).size, roles.length, `${file}: priorities must not tie`);
      for (const n of nodes) {
        const items = planKeepalivedConfig(inv, { node: n.name, interface: iface });
        const vrrp = block(items, 'vrrp_instance');
        assert.equal(value(vrrp, 'virtual_router_id'), String(inv.loadBalancer.virtualRouterId), file);
        assert.equal(value(vrrp, 'unicast_src_ip'), n.ip, file);
        assert.deepEqual(block(vrrp, 'unicast_peer').map((p) => p.keyword), nodes.filter((o) => o !== n).map((o) => o.ip), file);
        assert.deepEqual(block(vrrp, 'virtual_ipaddress'), [{ keyword: `${inv.loadBalancer.vip}/32`, args: ['dev', iface] }], file);
        assert.deepEqual(block(vrrp, 'track_script'), [{ keyword: HAPROXY_CHECK }], file);
        const script = value(block(items, 'vrrp_script'), 'script');
        assert.ok(script?.includes('http://127.0.0.1:8404/healthz'), `${file}: checks HAProxy's /healthz, got ${script}`);
        assert.doesNotMatch(renderKeepalivedConfig(inv, { node: n.name, interface: iface }), /auth_pass|authentication/, 'no VRRP password literal');
      }
    }
  });

  void test('keepalived -t accepts every rendered file, silently', async () => {
    for (const { file, inv } of examples) {
      for (const n of loadBalancerNodes(inv)) {
        const path = join(dir, `${file}.${n.name}.keepalived.conf`);
        await writeFile(path, renderKeepalivedConfig(inv, { node: n.name, interface: iface }));
        const r = await run(KEEPALIVED, ['-t', '-f', path]);
        assert.equal(r.code, 0, `${file} ${n.name}: ${r.out}`);
        assert.equal(r.out.trim(), '', `${file} ${n.name}: keepalived complained`);
      }
    }
  });

  void test('keepalived -t rejects a broken file (the check can fail)', async () => {
    const { inv } = examples[0]!;
    const node = loadBalancerNodes(inv)[0]!.name;
    const good = renderKeepalivedConfig(inv, { node, interface: iface });
    for (const [what, broken, says] of [
      ['priority out of range', good.replace(/priority \d+/, 'priority 300'), /outside range/],
      ['interface this host lacks', renderKeepalivedConfig(inv, { node, interface: 'mooring-none0' }), /doesn't exist/],
      ['check script that is not there', good.replace('/usr/bin/curl', '/usr/bin/mooring-no-such-curl'), /track script/i],
    ] as const) {
      assert.notEqual(broken, good, what);
      const path = join(dir, 'broken.keepalived.conf');
      await writeFile(path, broken);
      const r = await run(KEEPALIVED, ['-t', '-f', path]);
      assert.notEqual(r.code, 0, `${what} was accepted: ${r.out}`);
      assert.match(r.out, says, what);
    }
  });

  void test('bad options are refused before anything is written', () => {
    const { inv } = examples[0]!;
    const node = loadBalancerNodes(inv)[0]!.name;
    assert.throws(() => renderKeepalivedConfig(inv, { node: inv.workers[0]!.name, interface: 'eth0' }), /is not a load balancer host/);
    assert.throws(() => renderKeepalivedConfig(inv, { node, interface: 'eth0; reboot' }), /keepalived interface/);
    assert.throws(() => renderKeepalivedConfig(inv, { node, interface: 'eth0', priority: 255 }), /keepalived priority: 255/);
  });
});
