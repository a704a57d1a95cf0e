// The SIMULATED Proxmox VE fake set up as seed 003's five-host cluster for the Proxmox cloud phase
// tests: token, storages (VM disks on ceph-vm, snippets on a directory standing for CephFS mounted
// on the worker), the template, and seed 003's inventory pointed at it.
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { startProxmoxFake, type ProxmoxFake, type ProxmoxFakeOptions } from '../../lab/fakes/proxmox/index.js';
import { loadInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import type { Inventory } from '../../config/schema.js';

export const PVE_TOKEN = { tokenid: 'mooring@pve!ops', secret: '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f' } as const;
export const PVE_NODES = ['pve1', 'pve2', 'pve3', 'pve4', 'pve5'];
export const TOKEN_ENV = 'MOORING_TEST_PVE_TOKEN';
export const SEED_ENV = 'MOORING_TEST_PVE_HOST_KEY_SEED';
/** The loopback address assigned to the Proxmox tests (kernel-chosen port). */
export const PVE_HOST = '127.89.0.1';

export function sshPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} admin@lab`;
}

export function setPveEnv(): void {
  process.env[TOKEN_ENV] = PVE_TOKEN.secret;
  process.env[SEED_ENV] = Buffer.alloc(32, 7).toString('base64');
}

export async function startSeed003Fake(snippetDir: string, extra: ProxmoxFakeOptions = {}): Promise<ProxmoxFake> {
  return startProxmoxFake({ ...seed003FakeOptions(snippetDir), ...extra });
}

/** Seed 003's five-host Proxmox VE cluster as options of the fake (its host: PVE_HOST unless given). */
export function seed003FakeOptions(snippetDir: string, extra: ProxmoxFakeOptions = {}): ProxmoxFakeOptions {
  return {
    host: PVE_HOST, port: 0, nodes: PVE_NODES,
    tokens: [{ tokenid: PVE_TOKEN.tokenid, secret: PVE_TOKEN.secret }],
    templates: [{ vmid: 9000, name: 'debian-12-cloudinit', node: 'pve1' }],
    storages: [
      { storage: 'local', content: ['iso', 'vztmpl', 'backup'] },
      { storage: 'local-lvm', content: ['images', 'rootdir'] },
      // Ceph RBD: one pool every node sees; seed 003's eight disks take 832 GiB of it.
      { storage: 'ceph-vm', content: ['images', 'rootdir'], shared: true, sizeGiB: 2048 },
      { storage: 'cephfs', content: ['snippets', 'iso'], path: snippetDir },
    ],
    timing: { task: { afterPolls: 2 }, agent: { afterPolls: 1 } },
    ...extra,
  };
}

/** Seed 003's inventory against the fake: its hosts, sizes and topology, the fake's URL and token. */
export async function seed003Inventory(fake: ProxmoxFake, snippetDir: string): Promise<Inventory> {
  const inv = await loadInventory(join(PROJECT_ROOT, 'config', 'examples', 'seed-003-proxmox-stacked-etcd.yaml'));
  if (inv.provider.type !== 'proxmox') throw new Error('seed 003 is a Proxmox inventory');
  // The fake speaks plain HTTP on loopback: no certificate to pin.
  const px = { ...inv.provider.proxmox };
  delete px.fingerprint;
  return {
    ...inv,
    ssh: { ...inv.ssh, hostKeySeed: { env: SEED_ENV } },
    provider: { type: 'proxmox', proxmox: { ...px, apiUrl: fake.apiUrl, tokenId: PVE_TOKEN.tokenid, tokenSecret: { env: TOKEN_ENV }, nodes: PVE_NODES, publicKey: sshPublicKey(), snippets: { storage: 'cephfs', localDir: snippetDir }, agentTimeoutSeconds: 60 } },
  };
}

/** A one-master, one-worker cluster of its own name and VMID range, for the failure cases. */
export function smallCluster(base: Inventory, name: string, first: number, px: Record<string, unknown> = {}): Inventory {
  if (base.provider.type !== 'proxmox') throw new Error('not proxmox');
  return {
    ...base,
    cluster: { name },
    masters: base.masters.slice(0, 1),
    workers: base.workers.slice(0, 1),
    provider: { type: 'proxmox', proxmox: { ...base.provider.proxmox, vmids: { first, last: first + 9 }, ...px } },
  } as Inventory;
}

/** Every message down an error's cause chain (workflow → activity → application failure). */
export function failureText(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' <- ');
}
