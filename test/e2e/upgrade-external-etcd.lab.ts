// Issue 12's "Done when" run: a cluster at Kubernetes 1.35.4 on EXTERNAL etcd 3.4 (Debian's
// etcd-server, staged as a release in etcd.binaries.source) is upgraded to 1.37.2, etcd going
// 3.4 → 3.5 → 3.6 on the way, each etcd minor before the Kubernetes hop that needs it.
//   1. The provisioning host phase builds a smaller seed 001 shape on the bare netns lab (gw-1 and
//      gw-2 with keepalived + HAProxy and the VIP, three etcd hosts, one master, one worker): real
//      etcd 3.4 members with Mooring's PKI, real kubeadm init 1.35.4 with etcd.external, real join.
//   2. A canary key is written to etcd; `mooring upgrade --to 1.37.2 --plan` (the CLI) prints the
//      plan; the run is started as the CLI starts it, every gate approved through the decide Update.
//   3. Checked from inside the lab, not from what the workflow says: the plan's hop order, every
//      member on 3.6.16, every node's kubelet and the control plane on 1.37.2, the canary, and the
//      etcd-backup child's snapshot (a real SeaweedFS S3 on loopback) named in the report.
// Real: etcd, kubeadm, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, sshd,
// keepalived, HAProxy, SeaweedFS, Temporal. SIMULATED: the kubelet and container runtime, apt,
// systemctl, the kubeadm preflight checks the lab ignores (docs/upgrade.md, docs/provisioning.md).
// Outside `npm test` (tens of minutes on a loaded 2-core machine): `npm run test:upgrade-external-etcd`.
// MOORING_RECORD_UPGRADE_HISTORY=1 writes the upgrade's history to test/histories/upgrade-external-etcd.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { NetnsLab } from '../../lab/netns/netns-lab.js';
import { SEED_001_NODES } from '../../lab/netns/topology.js';
import { resolveEtcd, PINNED_ETCD } from '../../lab/etcd-versions.js';
import { LAB_IGNORED_PREFLIGHT } from '../../lab/kubernetes-lab.js';
import { writeKubernetesReleases } from '../../lab/kubernetes-releases.js';
import { LAB_BUCKET, startS3Server, type S3Server } from '../../lab/s3.js';
import { nodeRoot } from '../../lab/node-view.js';
import { etcdCacheDir, PROJECT_ROOT, findTool } from '../../client/tools.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { findRunbook } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { parseEndpointStatus } from '../../activities/etcd-recovery/etcdctl.js';
import { decideUpdate, progressQuery, type RunbookProgress } from '../../workflows/runbook/definitions.js';
import type { UpgradeResult } from '../../workflows/upgrade/upgrade.js';
import { SKEW_RULES } from '../../workflows/upgrade/skew.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { startHostPhaseLab, type HostPhaseLab } from '../helpers/host-phase-lab.js';
import { scratchDir } from '../helpers/scratch.js';
import { mooring } from '../helpers/cli.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const LAYOUT = { tag: 'x12', lan: 19, loopback: '127.80.0' };
const FROM = '1.35.4';
const TO = '1.37.2';
const MIDDLE = '1.36.3';
// Seed 001 without master-2 and master-3: the etcd hops and both Kubernetes hops are the same
// code with one master, and two fewer control planes halve the lab's load on a 2-core machine.
const NODES = SEED_001_NODES.filter((n) => n.name !== 'master-2' && n.name !== 'master-3');
const ETCD = ['etcd-1', 'etcd-2', 'etcd-3'];
const K8S_NODES = ['master-1', 'worker-1'];
const CANARY = { key: 'mooring/canary/upgrade-external-etcd', value: `written at ${FROM} on etcd 3.4` };

/**
 * The etcd releases as an image would stage them (etcd.binaries.source): Debian's 3.4 programs
 * (/usr/bin/etcd, /usr/bin/etcdctl; 3.4 has no etcdutl) and the 3.5 and 3.6 builds of set-up.
 */
function stageEtcdReleases(dir: string): { source: string; from: string } {
  const system = resolveEtcd('3.4');
  mkdirSync(join(dir, system.version), { recursive: true });
  for (const tool of ['etcd', 'etcdctl']) symlinkSync(`/usr/bin/${tool}`, join(dir, system.version, tool));
  for (const v of Object.values(PINNED_ETCD)) symlinkSync(join(etcdCacheDir(), v), join(dir, v));
  return { source: join(dir, '{version}'), from: system.version };
}

interface NodeJson { metadata: { name: string }; spec?: { unschedulable?: boolean }; status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] } }

describe(`upgrade on external etcd: Kubernetes ${FROM} on etcd 3.4 → ${TO}, etcd 3.4 → 3.5 → 3.6 on the way (bare netns lab, host phase, real etcd/kubeadm/S3/Temporal)`, { timeout: 3_600_000 }, () => {
  let phase: HostPhaseLab;
  let lab: NetnsLab;
  let s3: S3Server | undefined;
  let w: TestWorker | undefined;
  let inv: Inventory;
  let invFile: string;
  let etcdFrom: string;
  let handle: WorkflowHandle | undefined;
  const taskQueue = uniqueTaskQueue('upgrade-ext-etcd');
  const dir = scratchDir('mooring-upgrade-ext-etcd-');

  const etcdctl = (node: string, args: string[]) => lab.execIn(node, ['/usr/local/sbin/etcdctl', `--endpoints=${ETCD.map((n) => `https://${lab.address(n)}:2379`).join(',')}`,
    '--cacert=/etc/etcd/ssl/ca.crt', '--cert=/etc/etcd/ssl/client.crt', '--key=/etc/etcd/ssl/client.key', ...args]);
  const kubectl = (...args: string[]) => lab.execIn('master-1', ['/usr/local/sbin/kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', '--request-timeout=20s', ...args]);
  const nodes = async () => (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as { items: NodeJson[] }).items;
  const memberVersions = async () => Object.fromEntries(await Promise.all(ETCD.map(async (n) => {
    const s = parseEndpointStatus(await lab.execIn(n, ['/usr/local/sbin/etcdctl', `--endpoints=https://${lab.address(n)}:2379`,
      '--cacert=/etc/etcd/ssl/ca.crt', '--cert=/etc/etcd/ssl/client.crt', '--key=/etc/etcd/ssl/client.key', 'endpoint', 'status', '-w', 'json']));
    return [n, s[0]?.version] as const;
  })));
  /** The image of each control-plane manifest kubeadm wrote on master-1 (what the SIMULATED kubelet runs). */
  const manifestImages = () => Object.fromEntries(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => {
    const m = parse(readFileSync(join(nodeRoot(lab.nodeDir('master-1')), 'etc', 'kubernetes', 'manifests', `${c}.yaml`), 'utf8')) as { spec: { containers: { image: string }[] } };
    return [c, m.spec.containers[0]!.image];
  }));

  before(async () => {
    const staged = stageEtcdReleases(join(dir, 'etcd-releases'));
    etcdFrom = staged.from;
    s3 = await startS3Server({ dir: join(dir, 's3'), ip: `${LAYOUT.loopback}.200` });
    const store = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey }, maxAttempts: 3 });
    await store.send(new CreateBucketCommand({ Bucket: LAB_BUCKET }));
    store.destroy();
    phase = await startHostPhaseLab({ prefix: 'mooring-upgrade-ext-etcd-', layout: LAYOUT, kubernetesVersion: FROM, nodes: NODES });
    lab = phase.lab;
    // The lab's inventory with what this cluster has besides: etcd 3.4 from the staged releases,
    // the Kubernetes release source and the lab's ignored kubeadm checks, backups to the S3 above.
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    const secret = (name: string, value: string) => { writeFileSync(join(secrets, name), `${value}\n`, { mode: 0o600 }); return { file: join(secrets, name) }; };
    const doc = parse(readFileSync(lab.inventoryFile, 'utf8')) as Record<string, Record<string, unknown>>;
    doc.etcd = { ...doc.etcd, version: etcdFrom, binaries: { ...(doc.etcd!.binaries as object), source: staged.source } };
    doc.kubernetes = {
      ...doc.kubernetes,
      binaries: { source: writeKubernetesReleases(join(dir, 'kubernetes-releases')), installDir: '/usr/local/sbin' },
      upgrade: { ignorePreflightErrors: LAB_IGNORED_PREFLIGHT },
    };
    doc.backup = {
      schedule: { every: '6h' },
      objectStore: { endpoint: s3.endpoint, bucket: LAB_BUCKET, accessKey: secret('s3-access-key', s3.accessKey), secretKey: secret('s3-secret-key', s3.secretKey) },
      encryptionKey: secret('backup.key', randomBytes(32).toString('base64')),
    };
    invFile = join(dir, 'inventory.yaml');
    writeFileSync(invFile, stringify(doc));
    inv = await loadInventory(invFile);
    w = await startTestWorker(phase.temporal.address, taskQueue);
  });
  after(async () => {
    if (handle && process.env.MOORING_RECORD_UPGRADE_HISTORY) {
      const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', phase.temporal.address, '--workflow-id', handle.workflowId, '--output', 'json']);
      writeFileSync(join(PROJECT_ROOT, 'test', 'histories', 'upgrade-external-etcd.json'), json);
    }
    await w?.stop();
    await phase?.stop();
    await s3?.stop();
    if (lab) assert.deepEqual(await lab.leftovers(), []);
  });

  it(`the host phase builds Kubernetes ${FROM} on external etcd 3.4, and the control plane runs on it`, async () => {
    const r = await phase.run(`provision-hosts-upgrade-${randomUUID()}`, inv);
    for (const n of ETCD) assert.ok(r.changed.includes(`${n}: etcd ${etcdFrom} installed in /usr/local/sbin`), r.changed.join('\n'));
    assert.ok(r.nodes.every((n) => n.ready), JSON.stringify(r.nodes));
    assert.deepEqual(new Set(Object.values(await memberVersions())), new Set([etcdFrom]));
    assert.ok(Object.values(manifestImages()).every((i) => i.endsWith(`:v${FROM}`)), JSON.stringify(manifestImages()));
    assert.deepEqual((await nodes()).map((n) => `${n.metadata.name}=${n.status.nodeInfo.kubeletVersion}`).sort(), K8S_NODES.map((n) => `${n}=v${FROM}`));
    // kube-apiserver 1.35 keeps its objects in the external etcd 3.4.
    assert.match(await etcdctl('etcd-1', ['get', '/registry/minions/', '--prefix', '--keys-only']), /\/registry\/minions\/worker-1\b/);
    await etcdctl('etcd-2', ['put', CANARY.key, CANARY.value]);
  });

  it(`the plan (CLI): etcd 3.4 → 3.5 → 3.6 before the first Kubernetes hop that needs 3.6, then ${FROM} → ${MIDDLE} → ${TO}`, async () => {
    const plan = await mooring(['upgrade', '-c', invFile, '--to', TO, '--plan'], { TEMPORAL_ADDRESS: phase.temporal.address, MOORING_TASK_QUEUE: taskQueue }, 300_000);
    assert.equal(plan.code, 0, plan.stderr);
    process.stderr.write(`${plan.stdout}\n`);
    const hops = plan.stdout.split('\n').filter((l) => /^\d+\. /.test(l.trim())).map((l) => l.trim());
    // What the skew rules demand: kubeadm 1.36 and 1.37 run etcd 3.6 and accept external etcd 3.5.24+
    // (workflows/upgrade/versions.ts), etcd moves one minor at a time: both etcd hops come before
    // the first Kubernetes hop, and the Kubernetes hops go one minor at a time.
    assert.equal(hops.length, 4, plan.stdout);
    assert.match(hops[0]!, new RegExp(`^1\\. etcd ${etcdFrom.replace(/\./g, '\\.')} → 3\\.5\\.35, member by member .*one minor at a time`));
    assert.match(hops[1]!, /^2\. etcd 3\.5\.35 → 3\.6\.16, member by member .*Kubernetes 1\.36 runs etcd 3\.6/);
    assert.match(hops[2]!, new RegExp(`^3\\. Kubernetes ${FROM.replace(/\./g, '\\.')} → ${MIDDLE.replace(/\./g, '\\.')}:`));
    assert.match(hops[3]!, new RegExp(`^4\\. Kubernetes ${MIDDLE.replace(/\./g, '\\.')} → ${TO.replace(/\./g, '\\.')}:`));
    for (const rule of SKEW_RULES) assert.ok(plan.stdout.includes(rule), `the plan shows the rule: ${rule}`);
    assert.match(plan.stdout, new RegExp(`runs 1\\.35 on external etcd ${etcdFrom.replace(/\./g, '\\.')}, below the 3\\.5\\.24 kubeadm 1\\.35 accepts`));
    assert.deepEqual(new Set(Object.values(await memberVersions())), new Set([etcdFrom]), 'plan mode changed nothing');
  });

  it(`the run: snapshot, etcd member by member to 3.6.16, both Kubernetes hops; every node on ${TO}, the canary readable`, async () => {
    handle = await startRunbook(phase.temporal.client, findRunbook('upgrade'), inv, { to: TO, taskQueue, canary: CANARY });
    const gates: string[] = [];
    const deadline = Date.now() + 50 * 60_000;
    let result: UpgradeResult | undefined;
    while (!result) {
      const p: RunbookProgress = await handle.query(progressQuery);
      if (p.pendingApproval) {
        gates.push(p.pendingApproval.step);
        // Approval gates only: a hold (retry/skip/stop) means a step failed, which this run must not see.
        assert.match(p.pendingApproval.step, /^(approve|k8s-\d+:approve)$/, `the run holds at ${p.pendingApproval.step}: ${p.pendingApproval.plan}`);
        await handle.executeUpdate(decideUpdate, { args: [{ step: p.pendingApproval.step, approved: true, by: 'oncall', identity: 'upgrade-external-etcd-test', comment: 'done-when run' }] });
      }
      if ((await handle.describe()).status.name !== 'RUNNING') {
        try { result = await handle.result() as UpgradeResult; } catch (e) {
          if (e instanceof WorkflowFailedError) assert.fail(`the run failed: ${String((e.cause as Error)?.message)}; steps: ${p.steps.filter((s) => s.status === 'failed').map((s) => `${s.id} ${s.detail ?? ''}`).join(' | ')}`);
          throw e;
        }
      }
      if (Date.now() > deadline) assert.fail(`timed out: ${p.steps.filter((s) => s.status !== 'pending').map((s) => `${s.id} ${s.status}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const p = await handle.query(progressQuery);
    for (const s of p.steps) process.stderr.write(`  ${s.id}: ${s.endedAt && s.startedAt ? `${((s.endedAt - s.startedAt) / 1000).toFixed(1)}s` : '-'} ${s.status} ${s.detail ?? ''}\n`);
    assert.deepEqual(gates, ['approve', 'k8s-1:approve', 'k8s-2:approve']);

    // The order the plan promised, as the steps ran: etcd hop 1, etcd hop 2, then Kubernetes.
    const ended = (id: string) => p.steps.find((s) => s.id === id)?.endedAt ?? assert.fail(`no end of ${id}`);
    const started = (id: string) => p.steps.find((s) => s.id === id)?.startedAt ?? assert.fail(`no start of ${id}`);
    const etcdSteps = (hop: string) => p.steps.filter((s) => s.id.startsWith(`${hop}:etcd-`));
    assert.equal(etcdSteps('etcd-1').length, 3);
    assert.equal(etcdSteps('etcd-2').length, 3);
    assert.ok(ended('snapshot') <= started('etcd-1:order'), 'the snapshot came before any change');
    assert.ok(Math.max(...etcdSteps('etcd-1').map((s) => s.endedAt!)) <= Math.min(...etcdSteps('etcd-2').map((s) => s.startedAt!)), 'etcd 3.5 on every member before 3.6');
    assert.ok(Math.max(...etcdSteps('etcd-2').map((s) => s.endedAt!)) <= started('k8s-1:apply'), 'etcd 3.6 on every member before kubeadm upgrade apply 1.36');
    assert.ok(ended('k8s-1:apply') <= started('k8s-2:apply'));
    assert.deepEqual(result.etcd?.map((e) => e.version), ['3.5.35', '3.6.16']);
    assert.deepEqual(result.kubernetes?.map((k) => `${k.to} ${k.skipped.length}`), [`${MIDDLE} 0`, `${TO} 0`]);

    // The cluster itself, read from inside the lab.
    assert.deepEqual(await memberVersions(), Object.fromEntries(ETCD.map((n) => [n, '3.6.16'])));
    const list = (await etcdctl('etcd-1', ['member', 'list'])).trim().split('\n');
    assert.ok(list.length === 3 && list.every((l) => /, started, /.test(l) && /, false$/.test(l)), list.join('\n'));
    assert.equal((await etcdctl('etcd-3', ['get', CANARY.key, '--print-value-only'])).trim(), CANARY.value);
    assert.equal(p.steps.find((s) => s.id === 'canary')?.status, 'done');
    assert.deepEqual(manifestImages(), { 'kube-apiserver': `registry.k8s.io/kube-apiserver:v${TO}`, 'kube-controller-manager': `registry.k8s.io/kube-controller-manager:v${TO}`, 'kube-scheduler': `registry.k8s.io/kube-scheduler:v${TO}` });
    const ns = await nodes();
    assert.deepEqual(ns.map((n) => `${n.metadata.name}=${n.status.nodeInfo.kubeletVersion}`).sort(), K8S_NODES.map((n) => `${n}=v${TO}`));
    assert.ok(ns.every((n) => !n.spec?.unschedulable && n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')), 'every node Ready and schedulable');
    const pods = JSON.parse(await kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'tier=control-plane', '-o', 'json')) as { items: { spec: { containers: { image: string }[] }; status: { phase: string } }[] };
    assert.equal(pods.items.length, 3);
    assert.ok(pods.items.every((x) => x.spec.containers[0]!.image.endsWith(`:v${TO}`) && x.status.phase === 'Running'), JSON.stringify(pods.items.map((x) => x.spec.containers[0]!.image)));
    // The API answers through the VIP (keepalived + HAProxy) on the new release.
    assert.match(await kubectl('version', '-o', 'json'), new RegExp(`"gitVersion": "v${TO.replace(/\./g, '\\.')}"`));

    // The way back: the etcd-backup child's snapshot, named in the report.
    assert.ok(result.snapshot?.key && result.snapshot.workflowId.startsWith(`ops/${inv.cluster.name}/etcd-backup-`), JSON.stringify(result.snapshot));
    const child = await phase.temporal.client.workflow.getHandle(result.snapshot.workflowId).result() as { outcome: string; uploaded?: { key: string } };
    assert.equal(child.outcome, 'completed');
    assert.equal(child.uploaded?.key, result.snapshot.key);
    assert.ok((p.report ?? '').includes(`The way back: snapshot ${result.snapshot.key} (run ${result.snapshot.workflowId})`), p.report);
    assert.match(p.report ?? '', new RegExp(`Kubernetes done\\*\\*: ${MIDDLE.replace(/\./g, '\\.')} → ${TO.replace(/\./g, '\\.')}, every node on the release`));
  });
});
