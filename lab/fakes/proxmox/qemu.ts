// SIMULATED: stand-in for the Proxmox VE QEMU endpoints Mooring drives: /cluster/nextid, clone
// from a template (task qmclone; the new VM is locked "clone" until the task stops), config
// GET / POST (async, task qmconfig) / PUT (sync), status/current, status/start|stop|shutdown
// (tasks qmstart, qmstop, qmshutdown) and DELETE (task qmdestroy).
import { Router, type FakeRequest, type FakeResponse } from '../http.js';
import { allocate, parseCidr, intToIp } from '../ipam.js';
import { Progression } from '../progress.js';
import { paramError, pveError } from './errors.js';
import { API, authenticate, type Identity } from './auth.js';
import { checkValue, dnsName, propertyString, verify, VMID, type Schema } from './params.js';
import { applyConfig, checkConfigRequest, CONFIG_FAMILIES, CONFIG_SCHEMA, configView } from './qemu-config.js';
import { pveMac, type ProxmoxState, type Vm } from './state.js';
import { startTask } from './tasks.js';
import { requirePrivilege } from './cluster.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const GIB = 1024 ** 3;

interface Ctx { who: Identity; node: string; vmid: number }

/** Auth first (401 beats 400, as in PVE), then the path's node and vmid. */
function ctx(state: ProxmoxState, req: FakeRequest): Ctx {
  const who = authenticate(state, req);
  const node = req.params.node as string;
  if (!state.nodes.includes(node)) throw pveError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  const r = checkValue(VMID, req.params.vmid);
  if (r.error) throw paramError({ vmid: r.error });
  return { who, node, vmid: r.value as number };
}

function vmOf(state: ProxmoxState, c: Ctx): Vm {
  const vm = state.vms.get(c.vmid);
  if (!vm || vm.node !== c.node) throw pveError(500, `Configuration file 'nodes/${c.node}/qemu-server/${c.vmid}.conf' does not exist`);
  return vm;
}

function upid(data: string): FakeResponse {
  return { status: 200, body: { data } };
}

function params(req: FakeRequest, schema: Schema): ReturnType<typeof verify> {
  const input = req.method === 'GET' || req.method === 'DELETE' ? Object.fromEntries(req.query) : req.body;
  return verify(input, schema);
}

function nextFreeVmid(state: ProxmoxState): number {
  let id = 100;
  while (state.vms.has(id)) id++;
  return id;
}

function cloneVm(state: ProxmoxState, src: Vm, newid: number, p: Record<string, string | number>, node: string): Vm {
  const config: Vm['config'] = {};
  for (const [k, v] of Object.entries(src.config)) {
    if (k === 'template') continue;
    // A linked clone of a template keeps the base image as backing disk; a full clone copies it.
    if (/^(scsi|virtio|sata|ide)\d+$/.test(k)) {
      const [volume = '', ...opts] = String(v).split(',');
      const [store, image = ''] = volume.split(':');
      const suffix = opts.length ? `,${opts.join(',')}` : '';
      const n = /disk-(\d+)/.exec(image)?.[1] ?? '0';
      const linked = Boolean(src.config.template) && p.full !== 1;
      const to = !linked && p.storage !== undefined ? String(p.storage) : (store ?? '');
      if (image.endsWith('cloudinit')) config[k] = `${to}:vm-${newid}-cloudinit,media=cdrom`;
      else config[k] = `${to}:${linked ? `${image}/` : ''}vm-${newid}-disk-${n}${suffix}`;
    } else if (/^net\d+$/.test(k)) {
      // PVE gives every clone fresh MAC addresses.
      const nic = propertyString(String(v)) ?? {};
      const model = Object.keys(nic)[0] ?? 'virtio';
      config[k] = [`${model}=${pveMac()}`, ...Object.entries(nic).slice(1).map(([a, b]) => `${a}=${b}`)].join(',');
    } else config[k] = v;
  }
  config.name = p.name !== undefined ? String(p.name) : `Copy-of-VM-${String(src.config.name ?? src.vmid)}`;
  if (p.description !== undefined) config.description = String(p.description);
  return { vmid: newid, node, status: 'stopped', config, lock: 'clone' };
}

const DISKS = ['scsi0', 'scsi1', 'virtio0', 'virtio1', 'sata0', 'sata1', 'ide0', 'ide1', 'efidisk0', 'tpmstate0'];
const SIZE = /^(\+?)(\d+(?:\.\d+)?)([KMGT]?)$/;
const UNIT = { '': 1, K: 1024, M: 1024 ** 2, G: GIB, T: 1024 * GIB };

function sizeBytes(disk: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)/.exec(disk);
  return m ? Number(m[1]) * UNIT[(m[2] ?? '') as keyof typeof UNIT] : 8 * GIB;
}

/** PVE refuses to start a VM whose cicustom names a snippet volume that does not exist. */
function checkCicustom(state: ProxmoxState, vm: Vm): void {
  for (const part of String(vm.config.cicustom ?? '').split(',').filter(Boolean)) {
    const volume = part.slice(part.indexOf('=') + 1);
    const [store, rel] = volume.split(':');
    const s = state.storages.find((x) => x.storage === store);
    if (!s || !s.content.includes('snippets') || !rel?.startsWith('snippets/') || !s.path || !existsSync(join(s.path, rel))) throw new Error(`volume '${volume}' does not exist`);
  }
}

/** SIMULATED lab: the machine behind a started VM boots; its guest agent answers once it did (agent.ts). */
function bootMachine(state: ProxmoxState, vm: Vm): void {
  if (!state.machines) return;
  const m: NonNullable<Vm['machine']> = { done: false };
  vm.machine = m;
  const fixedIps = Object.keys(vm.config).filter((k) => /^ipconfig\d+$/.test(k)).sort()
    .map((k) => propertyString(String(vm.config[k]))?.ip?.split('/')[0] ?? '').filter((ip) => ip !== '' && ip !== 'dhcp');
  const keys = vm.config.sshkeys === undefined ? '' : decodeURIComponent(String(vm.config.sshkeys));
  state.machines.started({
    vmid: vm.vmid, name: String(vm.config.name ?? `VM${vm.vmid}`), userData: vendorData(state, vm), fixedIps,
    authorizedKeys: keys.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')),
  }).then(() => { m.done = true; }, (e: unknown) => {
    m.error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`Proxmox fake: the machine behind VM ${vm.vmid} did not boot: ${m.error}\n`);
  });
}

function haltMachine(state: ProxmoxState, vm: Vm): void {
  if (!state.machines) return;
  delete vm.machine;
  state.machines.stopped({ vmid: vm.vmid, name: String(vm.config.name ?? `VM${vm.vmid}`) })
    .catch((e: unknown) => process.stderr.write(`Proxmox fake: the machine behind VM ${vm.vmid} did not halt: ${e instanceof Error ? e.message : String(e)}\n`));
}

/** The content of the `vendor=` snippet of cicustom (checked to exist at start), if any. */
function vendorData(state: ProxmoxState, vm: Vm): string | null {
  const part = String(vm.config.cicustom ?? '').split(',').find((p) => p.startsWith('vendor='));
  if (!part) return null;
  const [store, rel] = part.slice('vendor='.length).split(':');
  const path = state.storages.find((x) => x.storage === store)?.path;
  return path && rel ? readFileSync(join(path, rel), 'utf8') : null;
}

function statusView(vm: Vm): Record<string, unknown> {
  const running = vm.status === 'running';
  const agentOn = /^(enabled=)?1/.test(String(vm.config.agent ?? '0'));
  return {
    vmid: vm.vmid, name: vm.config.name, status: vm.status, qmpstatus: vm.status, uptime: running && vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
    cpus: Number(vm.config.cores ?? 1) * Number(vm.config.sockets ?? 1), maxmem: Number(vm.config.memory ?? 512) * 1024 * 1024, mem: running ? 512 * 1024 * 1024 : 0,
    cpu: running ? 0.02 : 0, maxdisk: 8 * GIB, disk: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0, ha: { managed: 0 },
    ...(running ? { pid: 10_000 + vm.vmid } : {}), ...(agentOn ? { agent: 1 } : {}), ...(vm.lock ? { lock: vm.lock } : {}), ...(vm.config.template ? { template: 1 } : {}),
  };
}

function dhcpAddress(state: ProxmoxState, vm: Vm): string | undefined {
  const ip = propertyString(String(vm.config.ipconfig0 ?? 'ip=dhcp'))?.ip ?? 'dhcp';
  if (ip !== 'dhcp') return undefined;
  const c = parseCidr(state.dhcpCidr);
  if (!c) return undefined;
  const used = new Set([...state.vms.values()].map((v) => v.dhcpAddress).filter((a): a is string => a !== undefined));
  return allocate([{ start: intToIp(c.base + 100), end: intToIp(c.base + c.size - 2) }], used);
}

export function qemuRoutes(state: ProxmoxState): Router {
  const Q = `${API}/nodes/:node/qemu/:vmid`;
  const power = (type: string, run: (vm: Vm) => void, extra: Schema = {}) => (req: FakeRequest): FakeResponse => {
    const c = ctx(state, req);
    const vm = vmOf(state, c);
    requirePrivilege(state, c.who.userid, `/vms/${c.vmid}`, 'VM.PowerMgmt');
    const p = params(req, { skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, min: 0 }, ...extra });
    if (vm.config.template) throw pveError(500, "you can't start a vm if it's a template");
    return upid(startTask(state, c.node, type, String(vm.vmid), c.who.userid, () => {
      if (vm.lock && p.skiplock !== 1) throw new Error(`VM ${vm.vmid} is locked (${vm.lock})`);
      run(vm);
    }).upid);
  };
  return new Router()
    .on('GET', `${API}/version`, (req) => { authenticate(state, req); return { status: 200, body: { data: { version: '8.2.4', release: '8.2', repoid: 'faa83925c9641325' } } }; })
    .on('GET', `${API}/cluster/nextid`, (req) => {
      authenticate(state, req);
      const p = params(req, { vmid: { ...VMID, optional: true } });
      if (p.vmid !== undefined) {
        if (state.vms.has(p.vmid as number)) throw paramError({ vmid: `VM ${p.vmid} already exists` });
        return { status: 200, body: { data: String(p.vmid) } };
      }
      return { status: 200, body: { data: String(nextFreeVmid(state)) } };
    })
    .on('GET', `${API}/cluster/resources`, (req) => {
      authenticate(state, req);
      const p = params(req, { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } });
      const vms = [...state.vms.values()].map((vm) => ({
        id: `qemu/${vm.vmid}`, type: 'qemu', node: vm.node, vmid: vm.vmid, name: vm.config.name, status: vm.status, template: vm.config.template ? 1 : 0, maxmem: statusView(vm).maxmem, maxcpu: statusView(vm).cpus, maxdisk: 8 * GIB,
        ...(vm.config.tags !== undefined ? { tags: String(vm.config.tags) } : {}), ...(vm.lock ? { lock: vm.lock } : {}),
      }));
      const nodes = state.nodes.map((n) => ({ id: `node/${n}`, type: 'node', node: n, status: state.offline.has(n) ? 'offline' : 'online' }));
      return { status: 200, body: { data: p.type === 'vm' ? vms : p.type === 'node' ? nodes : p.type ? [] : [...nodes, ...vms] } };
    })
    .on('GET', `${API}/nodes/:node/qemu`, (req) => {
      authenticate(state, req);
      if (!state.nodes.includes(req.params.node as string)) throw pveError(500, `hostname lookup '${req.params.node ?? ''}' failed - failed to get address info for: ${req.params.node ?? ''}: Name or service not known`);
      params(req, { full: { type: 'boolean', optional: true } });
      const list = [...state.vms.values()].filter((v) => v.node === req.params.node).map((vm) => {
        const s = statusView(vm);
        return { vmid: vm.vmid, name: vm.config.name, status: vm.status, ...(vm.config.template ? { template: 1 } : {}), cpus: s.cpus, maxmem: s.maxmem, maxdisk: s.maxdisk, uptime: s.uptime, ...(vm.lock ? { lock: vm.lock } : {}) };
      });
      return { status: 200, body: { data: list } };
    })
    .on('POST', `${Q}/clone`, (req) => {
      const c = ctx(state, req);
      const p = params(req, {
        newid: VMID, name: { type: 'string', optional: true, check: dnsName }, description: { type: 'string', optional: true }, full: { type: 'boolean', optional: true },
        target: { type: 'string', optional: true }, storage: { type: 'string', optional: true }, format: { type: 'string', optional: true, enum: ['raw', 'qcow2', 'vmdk'] },
        pool: { type: 'string', optional: true }, snapname: { type: 'string', optional: true }, bwlimit: { type: 'integer', optional: true, min: 0 },
      });
      const src = vmOf(state, c);
      const newid = p.newid as number;
      requirePrivilege(state, c.who.userid, `/vms/${src.vmid}`, 'VM.Clone');
      requirePrivilege(state, c.who.userid, `/vms/${newid}`, 'VM.Allocate');
      const target = p.target !== undefined ? String(p.target) : c.node;
      if (!state.nodes.includes(target)) throw pveError(500, `hostname lookup '${target}' failed - failed to get address info for: ${target}: Name or service not known`);
      if (state.offline.has(target)) throw pveError(500, `target node '${target}' is not online`);
      if (p.storage !== undefined && !state.storages.some((x) => x.storage === p.storage && x.content.includes('images') && (!x.nodes || x.nodes.includes(target)))) throw pveError(500, `storage '${String(p.storage)}' does not exist`);
      if (state.vmidRaces > 0 && !state.vms.has(newid)) {
        // SIMULATED VMID race: another client's clone took this ID after our nextid check.
        state.vmidRaces--;
        state.vms.set(newid, { vmid: newid, node: target, status: 'stopped', config: { name: `other-${newid}`, cores: 1, memory: 512, scsi0: `local-lvm:vm-${newid}-disk-0,size=4G` } });
      }
      if (state.vms.has(newid)) throw pveError(500, `unable to create VM ${newid}: config file already exists`);
      if (p.full === 0 && !src.config.template) throw pveError(500, 'Linked clone feature is not supported for a VM that is not a template (use full=1)');
      if (src.lock) throw pveError(500, `VM ${src.vmid} is locked (${src.lock})`);
      const vm = cloneVm(state, src, newid, p, target);
      state.vms.set(newid, vm);
      // A template can be cloned many times at once; any other VM is locked for the copy.
      if (!src.config.template) src.lock = 'clone';
      const task = startTask(state, c.node, 'qmclone', String(src.vmid), c.who.userid, () => {
        delete vm.lock;
        if (src.lock === 'clone') delete src.lock;
      }, () => {
        state.vms.delete(newid);
        if (src.lock === 'clone') delete src.lock;
      });
      task.log.push(`create ${p.full === 1 || !src.config.template ? 'full' : 'linked'} clone of drive scsi0`);
      if (state.cloneLockTimeouts > 0) {
        // SIMULATED: the template's (or storage's) lock was held by another clone for too long.
        state.cloneLockTimeouts--;
        task.failWith = `clone failed: can't lock file '/var/lock/qemu-server/lock-${src.vmid}.conf' - got timeout`;
        task.log.push('trying to acquire lock...');
      }
      return upid(task.upid);
    })
    .on('GET', `${Q}/config`, (req) => {
      const c = ctx(state, req);
      params(req, { current: { type: 'boolean', optional: true }, snapshot: { type: 'string', optional: true } });
      return { status: 200, body: { data: configView(vmOf(state, c)) } };
    })
    .on('PUT', `${Q}/config`, (req) => {
      const c = ctx(state, req);
      const values = verify(req.body, CONFIG_SCHEMA, CONFIG_FAMILIES);
      checkConfigRequest(values);
      const vm = vmOf(state, c);
      try { applyConfig(vm, values); } catch (e) { throw pveError(500, (e as Error).message); }
      return { status: 200, body: { data: null } };
    })
    .on('POST', `${Q}/config`, (req) => {
      const c = ctx(state, req);
      const values = verify(req.body, { ...CONFIG_SCHEMA, background_delay: { type: 'integer', optional: true, min: 1, max: 30 } }, CONFIG_FAMILIES);
      delete values.background_delay;
      checkConfigRequest(values);
      const vm = vmOf(state, c);
      return upid(startTask(state, c.node, 'qmconfig', String(vm.vmid), c.who.userid, () => applyConfig(vm, values)).upid);
    })
    .on('PUT', `${Q}/resize`, (req) => {
      const c = ctx(state, req);
      requirePrivilege(state, c.who.userid, `/vms/${c.vmid}`, 'VM.Config.Disk');
      const p = params(req, { disk: { type: 'string', enum: DISKS }, size: { type: 'string', check: (v) => (SIZE.test(v) ? undefined : `value does not match the regex pattern`) }, digest: { type: 'string', optional: true, maxLength: 64 }, skiplock: { type: 'boolean', optional: true } });
      const vm = vmOf(state, c);
      const disk = String(p.disk);
      if (vm.config[disk] === undefined) throw pveError(500, `disk '${disk}' does not exist`);
      const have = sizeBytes(String(vm.config[disk]));
      const m = SIZE.exec(String(p.size)) as RegExpExecArray;
      const amount = Number(m[2]) * UNIT[(m[3] ?? '') as keyof typeof UNIT];
      const want = m[1] === '+' ? have + amount : amount;
      if (want < have) throw pveError(500, 'shrinking disks is not supported');
      if (vm.lock && p.skiplock !== 1) throw pveError(500, `VM ${vm.vmid} is locked (${vm.lock})`);
      // Since qemu-server 8 (PVE 8.0) resize runs as a task and answers its UPID.
      return upid(startTask(state, c.node, 'resize', String(vm.vmid), c.who.userid, () => {
        vm.config[disk] = String(vm.config[disk]).replace(/(^|,)size=[^,]*/, '').concat(`,size=${Math.round(want / GIB)}G`).replace(/^,/, '');
      }).upid);
    })
    .on('GET', `${Q}/status/current`, (req) => ({ status: 200, body: { data: statusView(vmOf(state, ctx(state, req))) } }))
    .on('POST', `${Q}/status/start`, power('qmstart', (vm) => {
      if (vm.status === 'running') throw new Error(`VM ${vm.vmid} already running`);
      checkCicustom(state, vm);
      vm.status = 'running';
      vm.startedAt = Date.now();
      vm.agent = new Progression(state.timing.agent);
      const addr = dhcpAddress(state, vm);
      if (addr) vm.dhcpAddress = addr;
      bootMachine(state, vm);
    }, { machine: { type: 'string', optional: true }, 'force-cpu': { type: 'string', optional: true } }))
    .on('POST', `${Q}/status/stop`, power('qmstop', (vm) => {
      if (vm.status === 'running') haltMachine(state, vm);
      vm.status = 'stopped';
      delete vm.agent;
      delete vm.startedAt;
    }, { keepActive: { type: 'boolean', optional: true }, 'overrule-shutdown': { type: 'boolean', optional: true } }))
    .on('POST', `${Q}/status/shutdown`, power('qmshutdown', (vm) => {
      if (vm.status !== 'running') throw new Error(`VM ${vm.vmid} not running`);
      haltMachine(state, vm);
      vm.status = 'stopped';
      delete vm.agent;
      delete vm.startedAt;
    }, { forceStop: { type: 'boolean', optional: true }, keepActive: { type: 'boolean', optional: true } }))
    .on('DELETE', Q, (req) => {
      const c = ctx(state, req);
      const p = params(req, { purge: { type: 'boolean', optional: true }, 'destroy-unreferenced-disks': { type: 'boolean', optional: true }, skiplock: { type: 'boolean', optional: true } });
      const vm = vmOf(state, c);
      if (vm.status === 'running') throw pveError(500, `VM ${vm.vmid} is running - destroy failed`);
      return upid(startTask(state, c.node, 'qmdestroy', String(vm.vmid), c.who.userid, () => {
        if (vm.lock && p.skiplock !== 1) throw new Error(`VM ${vm.vmid} is locked (${vm.lock})`);
        state.vms.delete(vm.vmid);
      }).upid);
    });
}
