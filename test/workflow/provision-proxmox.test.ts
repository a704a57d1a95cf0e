// The Proxmox VE cloud phase (provisionProxmox, deprovisionProxmox) on the real Temporal dev server,
// its activities on the `proxmox-api` package against the SIMULATED Proxmox VE fake (seed 003's
// five hosts, on 127.89.0.1): the plan touches nothing; a run clones seed 003's eight VMs with masters
// apart, one clone at a time per storage; a second run clones nothing and writes nothing;
// deprovision leaves the fake as it was. Then each failure of issue 11's list, on a small cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { ProxmoxFake } from '../../lab/fakes/proxmox/index.js';
import type { Inventory } from '../../config/schema.js';
import { PROJECT_ROOT } from '../../client/tools.js';
import { createProxmoxActivities } from '../../activities/cloud/proxmox/activities/index.js';
import type { CloudPhaseResult } from '../../activities/host/context.js';
import { startTestTemporal, uniqueTaskQueue, type TestTemporal } from '../helpers/temporal.js';
import { startWorkflowFileWorker, type TestWorker } from '../helpers/worker.js';
import { scratchDir } from '../helpers/scratch.js';
import { PVE_TOKEN, failureText, seed003Inventory, setPveEnv, smallCluster, startSeed003Fake } from '../helpers/proxmox.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

describe('provisionProxmox workflow (real Temporal dev server, SIMULATED Proxmox VE fake)', () => {
  let temporal: TestTemporal;
  let fake: ProxmoxFake;
  let worker: TestWorker;
  let inventory: Inventory;
  const snippets = scratchDir('mooring-pve-snippets-');
  const taskQueue = uniqueTaskQueue('provision-proxmox');

  before(async () => {
    setPveEnv();
    fake = await startSeed003Fake(snippets);
    inventory = await seed003Inventory(fake, snippets);
    temporal = await startTestTemporal();
    worker = await startWorkflowFileWorker(temporal.address, taskQueue, join(PROJECT_ROOT, 'dist', 'workflows', 'provision', 'proxmox.js'), createProxmoxActivities({ pollMs: 30 }));
  });
  after(async () => {
    await worker?.stop();
    await temporal?.stop();
    await fake?.close();
  });

  const provision = (inv: Inventory, planOnly = false, id = `pve-${randomUUID()}`) =>
    temporal.client.workflow.execute('provisionProxmox', { workflowId: id, taskQueue, args: [{ inventory: inv, planOnly }] }) as Promise<CloudPhaseResult>;
  const deprovision = (inv: Inventory) =>
    temporal.client.workflow.execute('deprovisionProxmox', { workflowId: `pve-down-${randomUUID()}`, taskQueue, args: [{ inventory: inv }] }) as Promise<{ deleted: string[] }>;
  const writes = (from: number) => fake.requests.slice(from).filter((r) => r.method !== 'GET');
  const vmsNamed = (names: string[]) => [...fake.state.vms.values()].filter((v) => names.includes(String(v.config.name)));
  const snapshot = () => [...fake.state.vms.values()].map((v) => `${v.vmid}@${v.node}:${String(v.config.name)}:${v.status}`).sort();
  const rejects = async (p: Promise<unknown>, pattern: RegExp) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(err, 'the run must fail');
    assert.match(failureText(err), pattern);
  };

  it('--plan: VMIDs, placement with masters apart and clones per storage, with no write to Proxmox', async () => {
    const mark = fake.requests.length;
    const r = await provision(inventory, true);
    assert.deepEqual(writes(mark), []);
    assert.equal(r.hosts, undefined);
    const text = r.plan.join('\n');
    assert.match(text, /kube0 \(master\) → pve1, VMID 500 \(new/);
    assert.match(text, /kube2 \(master\) → pve3, VMID 502/);
    assert.match(text, /kube7 \(worker\) → pve\d, VMID 507/);
    assert.match(text, /clones on storage ceph-vm: 8 new, at most 1 at a time/);
    // The capacity read from GET /nodes/{node}/status and /nodes/{node}/storage/{storage}/status.
    assert.match(text, /capacity on pve1: 2 new VM\(s\) \(kube0, kube\d\) need 8 GiB memory, 56 of 64 GiB free; 16 CPUs/);
    assert.match(text, /capacity on storage ceph-vm \(shared\): 8 new disk\(s\) need 832 GiB, 1998 of 2048 GiB free/);
  });

  let before0: string[];
  let first: CloudPhaseResult;
  const id = `pve-seed003-${randomUUID()}`;
  it('clones seed 003: eight VMs running with their addresses, masters on distinct nodes, one clone at a time; no secret in history', async () => {
    before0 = snapshot();
    first = await provision(inventory, false, id);
    const names = first.hosts!.map((h) => h.name);
    assert.deepEqual(names, ['kube0', 'kube1', 'kube2', 'kube3', 'kube4', 'kube5', 'kube6', 'kube7']);
    const vms = vmsNamed(names);
    assert.equal(vms.length, 8);
    for (const v of vms) {
      assert.equal(v.status, 'running');
      assert.equal(v.config.tags, 'mooring-molly');
      assert.match(String(v.config.scsi0), /^ceph-vm:vm-\d+-disk-0,.*size=(64|128)G$/);
      assert.match(String(v.config.ipconfig0), /^ip=10\.0\.1\.10\d\/24,gw=10\.0\.1\.5$/);
      assert.match(String(v.config.sshkeys), /^ssh-ed25519%20AAAA/);
      assert.match(String(v.config.cicustom), /^vendor=cephfs:snippets\/mooring-molly-kube\d\.yaml$/);
    }
    const masterNodes = first.hosts!.filter((h) => h.roles.includes('master')).map((h) => h.machineId.split('/')[0]);
    assert.equal(new Set(masterNodes).size, 3, `masters on ${masterNodes.join(', ')}`);
    for (const h of first.hosts!) assert.match(h.hostKey, /^ssh-ed25519 AAAA\S+$/);
    // The snippet pins exactly the key the run returns.
    const kube0 = readFileSync(join(snippets, 'snippets', 'mooring-molly-kube0.yaml'), 'utf8');
    assert.ok(kube0.includes(`ed25519_public: ${first.hosts![0]!.hostKey}`));
    const history = await temporal.client.workflow.getHandle(id).fetchHistory();
    const text = JSON.stringify(history);
    assert.ok(!text.includes(PVE_TOKEN.secret), 'no token secret in history');
    assert.ok(!text.includes('PRIVATE KEY'), 'no private key in history');
    // At most one clone activity at a time (clonesPerStorage: 1), read from the history's events.
    const cloneIds = new Set<string>();
    let runningClones = 0;
    let most = 0;
    for (const e of history.events ?? []) {
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched?.activityType?.name === 'cloneProxmoxVm') cloneIds.add(String(e.eventId));
      const started = e.activityTaskStartedEventAttributes;
      if (started && cloneIds.has(String(started.scheduledEventId))) most = Math.max(most, ++runningClones);
      const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
      if (ended && cloneIds.has(String(ended.scheduledEventId))) runningClones--;
    }
    assert.equal(cloneIds.size, 8);
    assert.equal(most, 1);
  });

  it('a second run finds every VM: no clone, no write at all, the same hosts and keys', async () => {
    const mark = fake.requests.length;
    const again = await provision(inventory);
    assert.deepEqual(again.created, []);
    assert.deepEqual(writes(mark), []);
    assert.deepEqual(again.hosts, first.hosts);
  });

  it('deprovision stops and destroys the eight VMs, removes their snippets and leaves the fake as it was', async () => {
    const r = await deprovision(inventory);
    assert.equal(r.deleted.length, 8);
    assert.deepEqual(snapshot(), before0);
    assert.deepEqual(readdirSync(join(snippets, 'snippets')), []);
    assert.deepEqual((await deprovision(inventory)).deleted, [], 'a second deprovision finds nothing');
  });

  describe('failures', () => {
    it('a template that does not exist', async () => {
      await rejects(provision(smallCluster(inventory, 'f-tpl', 600, { templateVmid: 9999 })), /provider\.proxmox\.templateVmid: there is no VM 9999/);
    });

    it('a VM that is not a template', async () => {
      fake.state.vms.set(8000, { vmid: 8000, node: 'pve2', status: 'stopped', config: { name: 'plain-vm', cores: 1, memory: 512, scsi0: 'local-lvm:vm-8000-disk-0,size=4G' } });
      try {
        await rejects(provision(smallCluster(inventory, 'f-notpl', 610, { templateVmid: 8000 })), /VM 8000 \(plain-vm\) is not a template: convert it \(qm template 8000\)/);
      } finally { fake.state.vms.delete(8000); }
    });

    it('a storage that does not exist', async () => {
      await rejects(provision(smallCluster(inventory, 'f-storage', 620, { storage: 'nvme-pool' })), /provider\.proxmox\.storage: node pve1 has no storage "nvme-pool"/);
    });

    it('a bridge that does not exist', async () => {
      await rejects(provision(smallCluster(inventory, 'f-bridge', 630, { bridge: 'vmbr7' })), /provider\.proxmox\.bridge: node pve1 has no bridge "vmbr7" \(it has vmbr0\)/);
    });

    it('a VMID range that is full', async () => {
      const inv = smallCluster(inventory, 'f-full', 640, { vmids: { first: 640, last: 641 } });
      for (const id of [640, 641]) fake.state.vms.set(id, { vmid: id, node: 'pve2', status: 'stopped', config: { name: `other-${id}`, cores: 1, memory: 512 } });
      try {
        await rejects(provision(inv), /provider\.proxmox\.vmids: the range 640–641 has no free VMID left for kube0/);
      } finally { for (const id of [640, 641]) fake.state.vms.delete(id); }
    });

    it('a token without VM.Clone: the error names the privilege before anything is made', async () => {
      const limited = 'mooring@pve!limited';
      fake.state.tokens.set(limited, PVE_TOKEN.secret);
      fake.state.tokenPrivileges.set(limited, new Set(['VM.Allocate', 'VM.Audit', 'Datastore.AllocateSpace', 'Datastore.Audit', 'VM.PowerMgmt', 'VM.Monitor', 'VM.Config.Disk', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Cloudinit', 'VM.Config.Options']));
      const mark = fake.requests.length;
      await rejects(provision(smallCluster(inventory, 'f-priv', 650, { tokenId: limited })), /the API token mooring@pve!limited lacks VM\.Clone on \/vms\/9000/);
      assert.deepEqual(writes(mark), []);
    });

    it('too little storage: refused before any clone, naming the storage, the node and the numbers', async () => {
      // local-lvm is per node: 98 GiB, 50 used by other data, pve1's 8 GiB by the template's disk.
      const lvm = fake.state.storages.find((x) => x.storage === 'local-lvm')!;
      lvm.sizeGiB = 98;
      const mark = fake.requests.length;
      try {
        await rejects(provision(smallCluster(inventory, 'f-space', 710, { storage: 'local-lvm' })), /nothing was cloned: storage local-lvm on pve1: needs 64 GiB, 40 GiB free; storage local-lvm on pve2: needs 128 GiB, 48 GiB free/);
        assert.deepEqual(writes(mark), []);
      } finally { delete lvm.sizeGiB; }
    });

    it('too little memory or too few CPUs on a node: refused before any clone with the numbers', async () => {
      const pve1 = fake.state.nodeResources.get('pve1')!;
      const pve2 = fake.state.nodeResources.get('pve2')!;
      pve1.memoryGiB = 10;
      pve2.cpus = 1;
      const mark = fake.requests.length;
      try {
        await rejects(provision(smallCluster(inventory, 'f-mem', 720)), /memory on pve1: needs 4 GiB for kube0, 2 GiB free; CPUs on pve2: kube3 asks for 2 vCPUs, the node has 1/);
        assert.deepEqual(writes(mark), []);
      } finally { pve1.memoryGiB = 64; pve2.cpus = 16; }
    });

    it('an offline node: placement goes around it, or the plan says it cannot keep the masters apart', async () => {
      fake.state.setOnline('pve2', false);
      try {
        const three = smallCluster(inventory, 'f-off', 660, { nodes: ['pve1', 'pve2', 'pve3'] });
        const ok = await provision({ ...three, masters: inventory.masters.slice(0, 1) }, true);
        assert.match(ok.plan.join('\n'), /offline \(placement goes around\): pve2/);
        assert.doesNotMatch(ok.plan.join('\n'), /→ pve2/);
        await rejects(provision({ ...three, masters: inventory.masters }, true), /cannot keep the masters apart: 3 new master\(s\) need their own node but only 2 online node\(s\)/);
      } finally { fake.state.setOnline('pve2', true); }
    });

    it('the clone lock timeout: the clone is retried and succeeds, one VM made', async () => {
      const inv = smallCluster(inventory, 'f-lock', 670);
      fake.state.cloneLockTimeouts = 1;
      const r = await provision(inv);
      assert.equal(r.hosts!.length, 2);
      const clones = [...fake.state.tasks.values()].filter((t) => t.type === 'qmclone' && /got timeout/.test(t.exitstatus ?? ''));
      assert.equal(clones.length, 1, 'one clone task hit the lock timeout');
      assert.equal(vmsNamed(['kube0']).filter((v) => v.vmid >= 670 && v.vmid <= 679).length, 1);
      await deprovision(inv);
    });

    it('the VMID race: the ID taken between the check and the clone is skipped for the next', async () => {
      const inv = smallCluster(inventory, 'f-race', 680);
      const before = snapshot();
      fake.state.vmidRaces = 1;
      const r = await provision(inv);
      const ids = r.hosts!.map((h) => Number(h.machineId.split('/')[1])).sort();
      assert.ok(fake.state.vms.get(680)?.config.name === 'other-680', 'the racer holds 680');
      assert.ok(!ids.includes(680) && ids.every((i) => i > 680 && i <= 689), `ids ${ids.join(', ')}`);
      await deprovision(inv);
      assert.deepEqual(snapshot(), [...before, '680@pve1:other-680:stopped'].sort(), 'deprovision leaves the racer\'s VM alone');
      fake.state.vms.delete(680);
    });

    it('a task ending "WARNINGS: 2" is a success whose warnings are shown', async () => {
      const inv = smallCluster(inventory, 'f-warn', 690);
      fake.state.warnNextTask(2, 'qmclone');
      const wid = `pve-warn-${randomUUID()}`;
      await provision(inv, false, wid);
      // The clone activity's result (as recorded in history) carries the task log's warnings.
      const results = ((await temporal.client.workflow.getHandle(wid).fetchHistory()).events ?? [])
        .flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? [])
        .map((p) => Buffer.from(p.data as Uint8Array | string as never, typeof p.data === 'string' ? 'base64' : undefined).toString('utf8'));
      const clone = results.find((r) => r.includes('"warnings":["WARN'));
      assert.ok(clone, 'a clone result with warnings');
      assert.match(clone, /WARN: SIMULATED warning 1 of 2","WARN: SIMULATED warning 2 of 2"/);
      await deprovision(inv);
    });

    it('the guest agent that never answers: a clear failure after agentTimeoutSeconds', async () => {
      const inv = smallCluster(inventory, 'f-agent', 700, { agentTimeoutSeconds: 5 });
      const rule = fake.faults.inject({ pathPattern: '/agent/network-get-interfaces$', status: 500, message: 'QEMU guest agent is not running', times: 'forever' });
      try {
        await rejects(provision(inv), /did not report 10\.0\.1\.100 within 5 s \(last: QEMU guest agent is not running\): check that the template has qemu-guest-agent/);
      } finally { fake.faults.clear(rule); }
      await deprovision(inv);
      assert.ok(!existsSync(join(snippets, 'snippets', 'mooring-f-agent-kube0.yaml')));
    });
  });
});
