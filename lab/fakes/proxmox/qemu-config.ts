// SIMULATED: the part of Proxmox VE's VM config schema Mooring writes after a clone: name, CPU and
// memory, NICs, disks and cloud-init (ciuser, cipassword, sshkeys, ipconfigN, nameserver,
// searchdomain). Checked the way PVE checks them, including its two classic traps: sshkeys must
// be percent-encoded (encodeURIComponent; a '+' or a space is refused) and ipconfigN is a property
// string `ip=CIDR,gw=IP` (or ip=dhcp).
import { isIPv4, parseCidr } from '../ipam.js';
import { paramError } from './errors.js';
import { dnsName, propertyString, type FamilySchema, type Schema, type Values } from './params.js';
import { digest, pveMac, type Vm } from './state.js';

const SSH_KEY = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;
const NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'rtl8139', 'vmxnet3'];
const NIC_KEYS = ['model', 'macaddr', 'bridge', 'firewall', 'link_down', 'mtu', 'queues', 'rate', 'tag', 'trunks'];
const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

function sshkeys(v: string): string | undefined {
  if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)) return `invalid urlencoded string: ${v}`;
  let text: string;
  try { text = decodeURIComponent(v); } catch { return `invalid urlencoded string: ${v}`; }
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line !== '' && !line.startsWith('#') && !SSH_KEY.test(line)) return 'SSH public key validation error';
  }
  return undefined;
}

function ipconfig(v: string): string | undefined {
  const p = propertyString(v);
  if (!p) return `invalid format - format error: '${v}' is not a property string such as ip=10.0.0.5/24,gw=10.0.0.1`;
  for (const [k, x] of Object.entries(p)) {
    if (k === 'ip' && x !== 'dhcp' && !(x.includes('/') && parseCidr(x, { strict: false }))) return `invalid format - ip: '${x}' is not 'dhcp' or an IPv4 address with prefix length (CIDR)`;
    if (k === 'gw' && !isIPv4(x)) return `invalid format - gw: '${x}' is not an IPv4 address`;
    if ((k === 'ip6' && !['dhcp', 'auto'].includes(x) && !/^[0-9a-fA-F:]+\/\d{1,3}$/.test(x)) || (k === 'gw6' && !/^[0-9a-fA-F:]+$/.test(x))) return `invalid format - ${k}: '${x}' is not valid`;
    if (!['ip', 'gw', 'ip6', 'gw6'].includes(k)) return `invalid format - property '${k}' is not defined in schema (ip, gw, ip6, gw6)`;
  }
  if (p.gw && (!p.ip || p.ip === 'dhcp')) return 'invalid format - gw: a gateway needs a static ip';
  return undefined;
}

function nic(v: string): string | undefined {
  const p = propertyString(v);
  if (!p) return `invalid format - format error: '${v}'`;
  const models = Object.keys(p).filter((k) => NIC_MODELS.includes(k));
  if (models.length + (p.model ? 1 : 0) !== 1) return `invalid format - model: exactly one of ${NIC_MODELS.join(', ')} is required, e.g. virtio,bridge=vmbr0`;
  if (p.model && !NIC_MODELS.includes(p.model)) return `invalid format - model: value '${p.model}' does not have a value in the enumeration '${NIC_MODELS.join(', ')}'`;
  for (const k of Object.keys(p)) if (!NIC_MODELS.includes(k) && !NIC_KEYS.includes(k)) return `invalid format - property '${k}' is not defined in schema`;
  const mac = (models[0] ? p[models[0]] : p.macaddr) ?? '';
  if (mac !== '' && !MAC.test(mac)) return `invalid format - macaddr: '${mac}' is not a MAC address`;
  return undefined;
}

/** PVE writes a NIC as `model=MAC,...` and generates the MAC when none was given. */
function normalizeNic(v: string): string {
  const p = propertyString(v) as Record<string, string>;
  const model = NIC_MODELS.find((m) => m in p) ?? p.model ?? 'virtio';
  const mac = (p[model] || p.macaddr || pveMac()).toUpperCase();
  const rest = Object.entries(p).filter(([k]) => k !== model && k !== 'model' && k !== 'macaddr').map(([k, x]) => `${k}=${x}`);
  return [`${model}=${mac}`, ...rest].join(',');
}

export const CONFIG_SCHEMA: Schema = {
  name: { type: 'string', optional: true, check: dnsName },
  description: { type: 'string', optional: true, maxLength: 8192 },
  tags: { type: 'string', optional: true },
  cores: { type: 'integer', optional: true, min: 1, max: 1024 },
  sockets: { type: 'integer', optional: true, min: 1, max: 4 },
  memory: { type: 'integer', optional: true, min: 16 },
  balloon: { type: 'integer', optional: true, min: 0 },
  cpu: { type: 'string', optional: true },
  ostype: { type: 'string', optional: true, enum: ['other', 'wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11', 'l24', 'l26', 'solaris'] },
  onboot: { type: 'boolean', optional: true },
  agent: { type: 'string', optional: true, check: (v) => /^(enabled=)?[01](,(fstrim_cloned_disks=[01]|type=(virtio|isa)|freeze-fs-on-backup=[01]))*$/.test(v) ? undefined : `invalid format - agent: '${v}' is not [enabled=]<1|0>[,fstrim_cloned_disks=<1|0>][,type=<virtio|isa>]` },
  ciuser: { type: 'string', optional: true },
  cipassword: { type: 'string', optional: true },
  citype: { type: 'string', optional: true, enum: ['configdrive2', 'nocloud', 'opennebula'] },
  ciupgrade: { type: 'boolean', optional: true },
  cicustom: { type: 'string', optional: true },
  sshkeys: { type: 'string', optional: true, check: sshkeys },
  nameserver: { type: 'string', optional: true },
  searchdomain: { type: 'string', optional: true },
  scsihw: { type: 'string', optional: true, enum: ['lsi', 'lsi53c810', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi'] },
  boot: { type: 'string', optional: true },
  vga: { type: 'string', optional: true },
  machine: { type: 'string', optional: true },
  bios: { type: 'string', optional: true, enum: ['seabios', 'ovmf'] },
  numa: { type: 'boolean', optional: true },
  hotplug: { type: 'string', optional: true },
  kvm: { type: 'boolean', optional: true },
  protection: { type: 'boolean', optional: true },
  delete: { type: 'string', optional: true },
  digest: { type: 'string', optional: true, maxLength: 64 },
  skiplock: { type: 'boolean', optional: true },
};

export const CONFIG_FAMILIES: FamilySchema = [
  [/^net\d+$/, { type: 'string', check: nic }],
  [/^ipconfig\d+$/, { type: 'string', check: ipconfig }],
  [/^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/, { type: 'string', check: (v) => (v.trim() === '' ? 'invalid format - empty disk specification' : undefined) }],
  [/^(serial|unused|hostpci|usb)\d+$/, { type: 'string' }],
];

const NOT_STORED = new Set(['delete', 'digest', 'skiplock']);

function known(key: string): boolean {
  return (key in CONFIG_SCHEMA && !NOT_STORED.has(key)) || CONFIG_FAMILIES.some(([re]) => re.test(key));
}

/** Request-time checks beyond single values: the delete list names real options, none also set. */
export function checkConfigRequest(values: Values): void {
  const dels = String(values.delete ?? '').split(/[,;\s]+/).filter(Boolean);
  const errors: Record<string, string> = {};
  for (const d of dels) {
    if (!known(d)) errors.delete = `invalid option '${d}'`;
    else if (d in values) errors.delete = `you can't change and delete the same option '${d}'`;
  }
  if (Object.keys(values).filter((k) => !NOT_STORED.has(k)).length === 0 && dels.length === 0) errors.config = 'no options specified';
  if (Object.keys(errors).length) throw paramError(errors);
}

/** Applies a config change as PVE's update worker does: digest check, lock check, delete, set. */
export function applyConfig(vm: Vm, values: Values): void {
  if (values.digest !== undefined && values.digest !== digest(vm.config)) throw new Error('detected modified configuration - file changed by other user? Try again.');
  if (vm.lock && values.skiplock !== 1) throw new Error(`VM ${vm.vmid} is locked (${vm.lock})`);
  for (const d of String(values.delete ?? '').split(/[,;\s]+/).filter(Boolean)) delete vm.config[d];
  for (const [k, v] of Object.entries(values)) {
    if (NOT_STORED.has(k)) continue;
    vm.config[k] = /^net\d+$/.test(k) ? normalizeNic(String(v)) : v;
  }
}

/** GET config: the stored options plus the digest; the cloud-init password is never shown. */
export function configView(vm: Vm): Record<string, unknown> {
  const out: Record<string, unknown> = { ...vm.config, digest: digest(vm.config) };
  if (out.cipassword !== undefined) out.cipassword = '**********';
  if (vm.lock) out.lock = vm.lock;
  return out;
}
