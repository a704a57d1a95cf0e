// The SIMULATED Proxmox VE fake's lab hooks: a started VM hands the machine behind it its vendor
// snippet (the host key), static address and sshkeys, and its guest agent answers only once that
// machine booted; a stop halts it. No lab here: the hooks are recorded and resolved by the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXMOX_FAKE_DEFAULTS, startProxmoxFake, type ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { StartedVm } from '../../lab/fakes/proxmox/state.js';
import { cloudInitUserData } from '../../activities/cloud/cloud-init.js';
import { deriveHostKey } from '../../activities/cloud/host-keys.js';
import { readCloudConfig } from '../../lab/cloud-nodes/user-data.js';
import { sshPublicKey } from '../helpers/openstack-seeds.js';
import { scratchDir } from '../helpers/scratch.js';

const AUTH = { authorization: `PVEAPIToken=${PROXMOX_FAKE_DEFAULTS.tokenid}=${PROXMOX_FAKE_DEFAULTS.tokenSecret}` };

describe('Proxmox VE fake: machines behind VMs (SIMULATED)', () => {
  let fake: ProxmoxFake;
  const snippets = scratchDir('mooring-pve-machines-');
  const started: { vm: StartedVm; resolve: () => void }[] = [];
  const stopped: string[] = [];
  const key = deriveHostKey(Buffer.alloc(32, 5), 'molly', 'master-1');
  const admin = sshPublicKey();

  const call = async (method: string, path: string, form?: Record<string, string | number>): Promise<{ status: number; statusText: string; data: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(`${fake.apiUrl}${path}`, {
      method, headers: { ...AUTH, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(Object.entries(form).map(([k, v]): [string, string] => [k, String(v)])).toString() } : {}),
    });
    const text = await res.text();
    return { status: res.status, statusText: res.statusText, data: text ? (JSON.parse(text) as { data: unknown }).data : undefined };
  };
  const task = async (upid: string) => {
    for (let i = 0; i < 10; i++) {
      const s = (await call('GET', `/nodes/pve/tasks/${encodeURIComponent(upid)}/status`)).data as { status: string; exitstatus?: string };
      if (s.status === 'stopped') return s.exitstatus;
    }
    assert.fail(`task ${upid} did not stop`);
  };

  before(async () => {
    mkdirSync(join(snippets, 'snippets'), { recursive: true });
    fake = await startProxmoxFake({
      host: '127.0.0.1', port: 0, timing: { task: { afterPolls: 1 }, agent: { afterPolls: 0 } },
      storages: [{ storage: 'local', content: ['snippets'], path: snippets }, { storage: 'local-lvm', content: ['images'] }],
      machines: {
        started: (vm) => new Promise<void>((resolve) => { started.push({ vm, resolve }); }),
        stopped: async (m) => { stopped.push(m.name); },
      },
    });
  });
  after(async () => { await fake?.close(); });

  it('a started VM boots its machine with the snippet\'s host key, its static address and sshkeys; the agent waits for it; a stop halts it', async () => {
    const vmid = Number((await call('GET', '/cluster/nextid')).data);
    assert.equal(await task((await call('POST', `/nodes/pve/qemu/${PROXMOX_FAKE_DEFAULTS.templateVmid}/clone`, { newid: vmid, name: 'molly-master-1' })).data as string), 'OK');
    writeFileSync(join(snippets, 'snippets', 'mooring-molly-master-1.yaml'), cloudInitUserData({ name: 'master-1', hostKey: key }), { mode: 0o600 });
    const put = await call('PUT', `/nodes/pve/qemu/${vmid}/config`, { ipconfig0: 'ip=10.77.16.11/24,gw=10.77.16.1', sshkeys: encodeURIComponent(`${admin}\n`), cicustom: 'vendor=local:snippets/mooring-molly-master-1.yaml' });
    assert.equal(put.status, 200, put.statusText);
    assert.equal(await task((await call('POST', `/nodes/pve/qemu/${vmid}/status/start`)).data as string), 'OK');

    assert.equal(started.length, 1);
    const vm = started[0]!.vm;
    assert.deepEqual({ ...vm, userData: undefined }, { vmid, name: 'molly-master-1', userData: undefined, fixedIps: ['10.77.16.11'], authorizedKeys: [admin] });
    assert.equal(readCloudConfig(vm.userData, 'VM').hostKey.publicKey, key.publicKey);
    const early = await call('GET', `/nodes/pve/qemu/${vmid}/agent/network-get-interfaces`);
    assert.deepEqual([early.status, early.statusText], [500, 'QEMU guest agent is not running']);
    started[0]!.resolve();
    await new Promise((r) => setImmediate(r));
    assert.equal((await call('GET', `/nodes/pve/qemu/${vmid}/agent/network-get-interfaces`)).status, 200);

    assert.equal(await task((await call('POST', `/nodes/pve/qemu/${vmid}/status/stop`)).data as string), 'OK');
    assert.deepEqual(stopped, ['molly-master-1']);
  });
});
