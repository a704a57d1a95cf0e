// SIMULATED: the QEMU guest agent endpoints Mooring uses to learn a new VM's address:
// POST .../agent/ping and GET .../agent/network-get-interfaces, answering `{"data": {"result": ...}}`
// in qemu-ga's shape (name, hardware-address, ip-addresses[{ip-address, ip-address-type, prefix}],
// statistics). Like PVE, they fail with 500 while the VM is stopped, when the agent is not
// configured, and for a while after start until the agent inside the guest is up.
import { Router, type FakeRequest } from '../http.js';
import { parseCidr } from '../ipam.js';
import { paramError, pveError } from './errors.js';
import { API, authenticate } from './auth.js';
import { checkValue, propertyString, VMID } from './params.js';
import type { ProxmoxState, Vm } from './state.js';

function agentVm(state: ProxmoxState, req: FakeRequest): Vm {
  authenticate(state, req);
  const node = req.params.node as string;
  if (!state.nodes.includes(node)) throw pveError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
  const id = checkValue(VMID, req.params.vmid);
  if (id.error) throw paramError({ vmid: id.error });
  const vm = state.vms.get(id.value as number);
  if (!vm || vm.node !== node) throw pveError(500, `Configuration file 'nodes/${node}/qemu-server/${String(id.value)}.conf' does not exist`);
  if (vm.status !== 'running') throw pveError(500, `VM ${vm.vmid} is not running`);
  if (!/^(enabled=)?1/.test(String(vm.config.agent ?? '0'))) throw pveError(500, 'No QEMU guest agent configured');
  if (!vm.agent || !vm.agent.observe()) throw pveError(500, 'QEMU guest agent is not running');
  // SIMULATED lab: a guest whose machine has not booted (or never will) has no agent yet.
  if (vm.machine && !(vm.machine.done && !vm.machine.error)) throw pveError(500, 'QEMU guest agent is not running');
  return vm;
}

/** fe80::/64 address the guest derives from its MAC (EUI-64), as Linux does. */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0] = (b[0] as number) ^ 0x02;
  const eui = [b[0], b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]] as number[];
  const groups = [0, 2, 4, 6].map((i) => (((eui[i] as number) << 8) | (eui[i + 1] as number)).toString(16));
  return `fe80::${groups.join(':')}`;
}

const STATS = { 'rx-bytes': 123_456, 'rx-dropped': 0, 'rx-errs': 0, 'rx-packets': 1_024, 'tx-bytes': 65_432, 'tx-dropped': 0, 'tx-errs': 0, 'tx-packets': 512 };

function interfaces(state: ProxmoxState, vm: Vm): unknown[] {
  const out: unknown[] = [{
    name: 'lo', 'hardware-address': '00:00:00:00:00:00', statistics: { ...STATS },
    'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }, { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 }],
  }];
  for (const key of Object.keys(vm.config).filter((k) => /^net\d+$/.test(k)).sort()) {
    const n = Number(key.slice(3));
    const nic = propertyString(String(vm.config[key])) ?? {};
    const mac = (Object.values(nic)[0] ?? '').toLowerCase();
    const ipcfg = propertyString(String(vm.config[`ipconfig${n}`] ?? (n === 0 ? 'ip=dhcp' : ''))) ?? {};
    const addrs: unknown[] = [];
    if (ipcfg.ip && ipcfg.ip !== 'dhcp') {
      const [ip, prefix] = ipcfg.ip.split('/');
      addrs.push({ 'ip-address-type': 'ipv4', 'ip-address': ip, prefix: Number(prefix) });
    } else if (ipcfg.ip === 'dhcp' && n === 0 && vm.dhcpAddress) {
      addrs.push({ 'ip-address-type': 'ipv4', 'ip-address': vm.dhcpAddress, prefix: parseCidr(state.dhcpCidr)?.prefix ?? 24 });
    }
    if (mac) addrs.push({ 'ip-address-type': 'ipv6', 'ip-address': linkLocal(mac), prefix: 64 });
    // Debian/Ubuntu cloud images name the first virtio NIC eth0 under cloud-init's netplan/ifupdown.
    out.push({ name: `eth${n}`, 'hardware-address': mac, 'ip-addresses': addrs, statistics: { ...STATS } });
  }
  return out;
}

export function agentRoutes(state: ProxmoxState): Router {
  const Q = `${API}/nodes/:node/qemu/:vmid/agent`;
  return new Router()
    .on('POST', `${Q}/ping`, (req) => { agentVm(state, req); return { status: 200, body: { data: { result: {} } } }; })
    .on('GET', `${Q}/network-get-interfaces`, (req) => ({ status: 200, body: { data: { result: interfaces(state, agentVm(state, req)) } } }));
}
