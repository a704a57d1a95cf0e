// Records the event histories the replay test holds every released workflow shape to.
// Run after a deliberate change of workflow shape, under the lab lock:
//   flock /tmp/mooring-lab.lock npm run record:histories      (needs root for the lab)
// Real Temporal, real worker and activities, the lab's real sshd hosts, etcd and S3. Each failure a
// recovery handles is caused for real (lab faults), each gate approved as an operator would.
//
// What it records (test/histories/NAME.json), one run per history:
//   inventory-check-approved / -rejected   inventoryCheck, both answers at its gate
//   etcd-status, etcd-backup               the read-only status and a backup to the lab's S3
//   recover-etcd-follower                  a SIGKILLed member (certificates present): 'replace-verify-waits-for-agreement'
//   recover-etcd-follower-lay-down-certificates
//                                          a replaced node (lab fault replace-node) with etcd.tls.caKey:
//                                          the 'lay-down-certificates' branch
//   scheduled-etcd-backup-skipped          the Schedule fires while a recovery holds ops/<cluster>
//   scheduled-etcd-backup, -child          the Schedule fires on an idle cluster: parent and its etcdBackup child
//   scheduled-etcd-backup-visible-outcome  the same on today's code: 'scheduled-backup-visible-outcome'
//   etcd-backup-verify                     verifyEtcdBackup of a snapshot just stored
//   recover-etcd-leader                    the leader SIGKILLed: 'replace-verify-waits-for-agreement'
//   recover-etcd-majority                  quorum lost, no local snapshot, the newest verified one fetched
//                                          from the bucket: 'majority-remote-snapshots' and
//                                          'majority-control-plane-restart' and 'majority-grow-waits-for-agreement' taken
//   recover-etcd-majority-election-confirm the quorum loss confirmed by two probes 3 s apart
//                                          ('majority-confirm-by-election-timeout'), a local snapshot
//   recover-etcd-follower-parallel-reads   a SIGKILLed member, with a canary: 'replace-member-parallel-reads'
//   recover-etcd-majority-parallel-reads   quorum lost, a local snapshot: 'majority-parallel-reads'
//   recover-etcd-majority-confirm-by-status
//                                          quorum lost, a local snapshot: 'majority-confirm-by-status'
//   recover-etcd-majority-reassess-below-quorum
//                                          quorum lost, a local snapshot: 'majority-reassess-below-quorum'
//   recover-etcd-majority-no-backup        quorum lost, inventory without a backup section, a local
//                                          snapshot: the `backup &&` guard short-circuits
//   upgrade-etcd                           upgradeCluster to 1.37.2 on the lab: no control plane, so
//                                          etcd 3.4 → 3.5 → 3.6 (with its etcd-backup child); last,
//                                          as it leaves the lab's etcd at 3.6
//   upgrade-kubernetes                     NOT recorded here (this lab runs no Kubernetes): written by
//                                          test/e2e/upgrade-kubernetes.lab.ts with MOORING_RECORD_UPGRADE_HISTORY=1,
//                                          its first run (1.35.4 → 1.36.3 on the netns lab, two holds, retry)
//   upgrade-external-etcd                  NOT recorded here either: written by test/e2e/upgrade-external-etcd.lab.ts
//                                          with MOORING_RECORD_UPGRADE_HISTORY=1 (1.35.4 on external etcd 3.4 →
//                                          1.37.2: two etcd hops, two Kubernetes hops, the etcd-backup child)
// Histories of the shapes before each patched() (test/histories/*-before-<patch-id>.json) come from
// the commit before the patch, recorded with test/replay/record-old-shape.ts; this script never writes
// them. `-- --force` re-records everything above from today's code: never over released shapes.
import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl } from '../../lab/etcd-cluster.js';
import { loadInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';
import { findRunbook, type RunbookOptions } from '../../client/runbooks.js';
import { startRunbook } from '../../client/start.js';
import { decide } from '../../client/decide.js';
import { createBackupSchedule, scheduleIdFor } from '../../client/schedules.js';
import { PROJECT_ROOT, findTool } from '../../client/tools.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import type { EtcdBackupResult } from '../../workflows/etcd-backup/backup.js';
import type { ScheduledBackupResult } from '../../workflows/etcd-backup/scheduled.js';
import { eventually, startTestTemporal, uniqueTaskQueue } from '../helpers/temporal.js';
import { startTestWorker } from '../helpers/worker.js';
import { scratchDir } from '../helpers/scratch.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const OUT = join(PROJECT_ROOT, 'test', 'histories');

// MOORING_RECORD_SUBNET: another engineer's recording may hold the default one.
const lab = new Lab({ dir: scratchDir('mooring-record-'), subnet: process.env.MOORING_RECORD_SUBNET ?? '127.23.0' });
await lab.up();
const t = await startTestTemporal();
const taskQueue = uniqueTaskQueue('record');
const w = await startTestWorker(t.address, taskQueue);
try {
  const inv = await loadInventory(lab.inventoryFile);
  mkdirSync(OUT, { recursive: true });
  // A history once recorded stands for released code: it is kept unless `-- --force` is given.
  const force = process.argv.includes('--force');
  const save = (name: string, workflowId: string, runId: string) => {
    // The Temporal CLI writes the standard JSON history format (the SDK's own serializer trips
    // over two copies of protobufjs in node_modules).
    const json = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']);
    writeFileSync(join(OUT, `${name}.json`), json);
    process.stdout.write(`recorded ${name}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events\n`);
  };
  const wanted = (...names: string[]) => force || names.some((name) => !existsSync(join(OUT, `${name}.json`)));
  const opts = (o: RunbookOptions = {}) => ({ taskQueue, ...o });
  const approveAtGate = async (handle: WorkflowHandle, comment = 'recorded for the replay test') => {
    await eventually('the gate', async () => {
      if ((await handle.describe()).status.name !== 'RUNNING') throw new Error(`${handle.workflowId} ended before its gate: ${JSON.stringify((await handle.query(progressQuery)).steps)}`);
      return (await handle.query(progressQuery)).pendingApproval;
    }, 120_000, 200);
    await decide(t.client, handle.workflowId, { approved: true, by: 'recorder', comment });
  };
  const etcd1 = () => lab.etcdMembers().find((m) => m.name === 'etcd-1')!;
  const etcdctl = (args: string[]) => hostEtcdctl(lab.etcdSettings, etcd1(), lab.etcdMembers().map((m) => clientEndpoint(lab.etcdSettings, m)), args, 10);
  const canary = { key: 'replay-canary', value: 'written-before-the-failure' };
  await etcdctl(['put', canary.key, canary.value]);
  const backupNow = async (): Promise<EtcdBackupResult> => {
    const h = await startRunbook(t.client, findRunbook('etcd-backup'), inv, opts({ trigger: 'recorder' }));
    const r = (await h.result()) as EtcdBackupResult;
    if (r.outcome !== 'completed' || !r.uploaded) throw new Error(`the backup needed for recording did not complete: ${r.report}`);
    return r;
  };
  // The Schedule a cluster's backups run on, as `mooring backup schedule create` makes it; fired by hand.
  await createBackupSchedule(t.client, inv, { every: '24h', jitter: '0s', taskQueue });
  const fireSchedule = async (): Promise<{ workflowId: string; runId: string; result: ScheduledBackupResult }> => {
    const schedule = t.client.schedule.getHandle(scheduleIdFor(inv.cluster.name));
    const before = (await schedule.describe()).info.recentActions.length;
    await schedule.trigger();
    return eventually('the scheduled run to finish', async () => {
      const action = (await schedule.describe()).info.recentActions.slice(before).at(-1);
      if (!action) return undefined;
      const { workflowId, firstExecutionRunId: runId } = action.action.workflow;
      const parent = t.client.workflow.getHandle(workflowId, runId);
      if ((await parent.describe()).status.name === 'RUNNING') return undefined;
      return { workflowId, runId, result: (await parent.result()) as ScheduledBackupResult };
    }, 240_000, 500);
  };

  for (const [name, approved] of [['inventory-check-approved', true], ['inventory-check-rejected', false]] as const) {
    if (!wanted(name)) continue;
    const handle = await startRunbook(t.client, findRunbook('inventory-check'), inv, opts());
    await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval);
    await decide(t.client, handle.workflowId, { approved, by: 'recorder', comment: 'recorded for the replay test' });
    await handle.result().catch(() => undefined);
    save(name, handle.workflowId, handle.firstExecutionRunId);
  }
  for (const [name, runbook] of [['etcd-status', 'etcd-status'], ['etcd-backup', 'etcd-backup']] as const) {
    if (!wanted(name)) continue;
    const handle = await startRunbook(t.client, findRunbook(runbook), inv, opts());
    await handle.result();
    save(name, handle.workflowId, handle.firstExecutionRunId);
  }
  if (wanted('recover-etcd-follower')) {
    lab.killEtcd('etcd-2');
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, opts());
    await approveAtGate(handle);
    await handle.result();
    save('recover-etcd-follower', handle.workflowId, handle.firstExecutionRunId);
  }

  // A replaced node (empty disk, no /etc/etcd/ssl) with the CA key in the inventory: the recovery
  // issues its certificates. While it waits at its gate it holds ops/<cluster>, so the Schedule
  // firing then is skipped: that run is recorded too.
  if (wanted('recover-etcd-follower-lay-down-certificates', 'scheduled-etcd-backup-skipped')) {
    if (!inv.etcd.tls.caKey) throw new Error('the lab inventory has no etcd.tls.caKey: the lay-down-certificates branch would not run');
    lab.replaceNode('etcd-3');
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, opts({ member: 'etcd-3', canary }));
    await eventually('the gate', async () => (await handle.query(progressQuery)).pendingApproval, 120_000, 200);
    const skipped = await fireSchedule();
    if (skipped.result.outcome !== 'skipped') throw new Error(`the scheduled run beside a recovery was not skipped: ${JSON.stringify(skipped.result)}`);
    if (wanted('scheduled-etcd-backup-skipped')) save('scheduled-etcd-backup-skipped', skipped.workflowId, skipped.runId);
    await approveAtGate(handle);
    const r = (await handle.result()) as { report?: string };
    lab.clearFaults();
    const events = execFileSync(findTool('temporal', 'MOORING_TEMPORAL_BIN'), ['workflow', 'show', '--address', t.address, '--workflow-id', handle.workflowId, '--run-id', handle.firstExecutionRunId, '--output', 'json']).toString();
    if (!events.includes('layDownEtcdCerts')) throw new Error(`the replaced node's certificates were not laid down: ${r.report ?? ''}`);
    if (wanted('recover-etcd-follower-lay-down-certificates')) save('recover-etcd-follower-lay-down-certificates', handle.workflowId, handle.firstExecutionRunId);
  }

  if (wanted('scheduled-etcd-backup', 'scheduled-etcd-backup-child')) {
    const ran = await fireSchedule();
    if (ran.result.outcome !== 'ran') throw new Error(`the scheduled run did not run: ${JSON.stringify(ran.result)}`);
    save('scheduled-etcd-backup', ran.workflowId, ran.runId);
    const child = t.client.workflow.getHandle(ran.result.backupWorkflowId);
    save('scheduled-etcd-backup-child', ran.result.backupWorkflowId, (await child.describe()).runId);
  }

  // Since 'scheduled-backup-visible-outcome' the scheduled run sets its phase from how the backup
  // ended (and fails when it was skipped or degraded): the new shape of a run that backed up.
  if (wanted('scheduled-etcd-backup-visible-outcome')) {
    const ran = await fireSchedule();
    if (ran.result.outcome !== 'ran') throw new Error(`the scheduled run did not run: ${JSON.stringify(ran.result)}`);
    save('scheduled-etcd-backup-visible-outcome', ran.workflowId, ran.runId);
  }

  if (wanted('etcd-backup-verify')) {
    const stored = await backupNow();
    const handle = await startRunbook(t.client, findRunbook('etcd-backup-verify'), inv, opts({ snapshotKey: stored.uploaded!.key }));
    const v = (await handle.result()) as { ok: boolean; report: string };
    if (!v.ok) throw new Error(`verify of a fresh snapshot failed: ${v.report}`);
    save('etcd-backup-verify', handle.workflowId, handle.firstExecutionRunId);
  }

  if (wanted('recover-etcd-leader')) {
    const old = await lab.killLeader();
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-leader'), inv, opts({ canary }));
    await approveAtGate(handle);
    const r = (await handle.result()) as { recovered?: string };
    if (r.recovered !== old) throw new Error(`the leader recovery re-added ${r.recovered}, not the killed leader ${old}`);
    save('recover-etcd-leader', handle.workflowId, handle.firstExecutionRunId);
  }

  // Majority with a backup section: a verified snapshot in the bucket, none left on the members,
  // so the off-site snapshot is fetched and restored (both patches' new branches run).
  if (wanted('recover-etcd-majority')) {
    const stored = await backupNow();
    for (const m of lab.etcdMembers()) {
      const dir = lab.viewPath(m.name, inv.backup!.localDir);
      if (existsSync(dir)) for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
    }
    lab.killMajority();
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-majority'), inv, opts({ canary }));
    await approveAtGate(handle);
    const r = (await handle.result()) as { snapshot?: { remoteKey?: string }; recovered?: string };
    if (r.snapshot?.remoteKey !== stored.uploaded!.key) throw new Error(`the majority recovery did not restore the off-site snapshot ${stored.uploaded!.key}: ${JSON.stringify(r.snapshot)}`);
    save('recover-etcd-majority', handle.workflowId, handle.firstExecutionRunId);
  }

  // Majority without a backup section: a local snapshot on etcd-1; the remote-snapshot branch is
  // not entered (`backup && patched(...)` short-circuits), the control-plane restart is.
  if (wanted('recover-etcd-majority-no-backup')) {
    const noBackup: Inventory = { ...inv };
    delete noBackup.backup;
    await etcdctl(['put', canary.key, canary.value]);
    await hostEtcdctl(lab.etcdSettings, etcd1(), [clientEndpoint(lab.etcdSettings, etcd1())], ['snapshot', 'save', join(lab.viewPath('etcd-1', '/var/backups/etcd'), 'replay-local.db')], 10);
    lab.killMajority();
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-majority'), noBackup, opts({ canary }));
    await approveAtGate(handle);
    const r = (await handle.result()) as { recovered?: string };
    if (r.recovered?.split(',').length !== 3) throw new Error(`the majority recovery without backup did not bring back three members: ${JSON.stringify(r)}`);
    save('recover-etcd-majority-no-backup', handle.workflowId, handle.firstExecutionRunId);
  }

  // The recoveries' shape with the re-assessment after the approval and the default approval
  // timeout (patches recovery-reassess-after-approval, recovery-default-approval-timeout): a
  // follower recovery of a killed member.
  /** A follower recovery of etcd-2, SIGKILLed, with the canary, approved at its gate. */
  const followerOfKilled = async (name: string) => {
    lab.killEtcd('etcd-2');
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-follower'), inv, opts({ canary }));
    await approveAtGate(handle);
    await handle.result();
    save(name, handle.workflowId, handle.firstExecutionRunId);
  };
  if (wanted('recover-etcd-follower-reassessed')) await followerOfKilled('recover-etcd-follower-reassessed');

  // Majority from a local snapshot with the re-assessment, the default timeout and the
  // one-master-at-a-time control-plane restart (patch control-plane-rolling-restart).
  /** A majority recovery from a local snapshot (`file` on etcd-1), inventory without a backup section. */
  const majorityFromLocal = async (name: string, file: string) => {
    const noBackup: Inventory = { ...inv };
    delete noBackup.backup;
    await etcdctl(['put', canary.key, canary.value]);
    await hostEtcdctl(lab.etcdSettings, etcd1(), [clientEndpoint(lab.etcdSettings, etcd1())], ['snapshot', 'save', join(lab.viewPath('etcd-1', '/var/backups/etcd'), file)], 10);
    lab.killMajority();
    const handle = await startRunbook(t.client, findRunbook('recover-etcd-majority'), noBackup, opts({ canary }));
    await approveAtGate(handle);
    const r = (await handle.result()) as { recovered?: string };
    if (r.recovered?.split(',').length !== 3) throw new Error(`the majority recovery did not bring back three members: ${JSON.stringify(r)}`);
    save(name, handle.workflowId, handle.firstExecutionRunId);
  };
  if (wanted('recover-etcd-majority-rolling-restart')) await majorityFromLocal('recover-etcd-majority-rolling-restart', 'replay-rolling.db');

  // Majority with the quorum loss confirmed by two probes CONFIRM_GAP_MS apart (patch
  // majority-confirm-by-election-timeout), from a local snapshot.
  if (wanted('recover-etcd-majority-election-confirm')) await majorityFromLocal('recover-etcd-majority-election-confirm', 'replay-election-confirm.db');

  // Issue 14's reads side by side: the follower procedure's certificate check beside the member
  // list and its verification's three reads at once (patch replace-member-parallel-reads, with a
  // canary so all three run); the majority's snapshot search beside the confirmation's second
  // probe and the re-assessment's reads at once (patch majority-parallel-reads).
  if (wanted('recover-etcd-follower-parallel-reads')) await followerOfKilled('recover-etcd-follower-parallel-reads');
  if (wanted('recover-etcd-majority-parallel-reads')) await majorityFromLocal('recover-etcd-majority-parallel-reads', 'replay-parallel-reads.db');

  // The confirmation's probes take a member's own "no leader" (endpoint status) at once (patch
  // majority-confirm-by-status), and a just-started member's health is polled inside its attempt.
  if (wanted('recover-etcd-majority-confirm-by-status')) await majorityFromLocal('recover-etcd-majority-confirm-by-status', 'replay-confirm-by-status.db');

  // The re-assessment after the approval skips the health checks below a quorum of listening
  // members (patch majority-reassess-below-quorum).
  if (wanted('recover-etcd-majority-reassess-below-quorum')) await majorityFromLocal('recover-etcd-majority-reassess-below-quorum', 'replay-reassess-below-quorum.db');

  // Last: it leaves the lab's etcd on 3.6. No node runs Kubernetes in the lab, so the Kubernetes
  // release source is a SIMULATED directory of release names (as in test/e2e/upgrade-etcd.test.ts).
  if (wanted('upgrade-etcd')) {
    const releases = scratchDir('mooring-record-k8s-releases-');
    for (const v of ['1.35.4', '1.36.3', '1.37.2']) {
      mkdirSync(join(releases, v));
      writeFileSync(join(releases, v, 'kubeadm'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    }
    const upgradeInv: Inventory = { ...inv, kubernetes: { ...inv.kubernetes, binaries: { source: join(releases, '{version}'), installDir: '/usr/bin' } } };
    const handle = await startRunbook(t.client, findRunbook('upgrade'), upgradeInv, opts({ to: '1.37.2', canary }));
    await approveAtGate(handle);
    const r = (await handle.result()) as { etcd?: { version: string }[] };
    if (r.etcd?.at(-1)?.version !== '3.6.16') throw new Error(`the upgrade did not bring etcd to 3.6.16: ${JSON.stringify(r)}`);
    save('upgrade-etcd', handle.workflowId, handle.firstExecutionRunId);
  }
} finally {
  await w.stop();
  await t.stop();
  await lab.down();
}
