// The three etcd disaster-recovery runbooks on the lab: each failure is caused for real (SIGKILL,
// lost disk, killed leader, killed majority) on a real TLS etcd cluster behind real sshd, once on
// Debian's etcd 3.4 and once on etcd 3.6 (built by set-up; its restore is etcdutl's), and the
// runbook, approved through the CLI, brings back three healthy members holding the canary.
// Kubernetes data is the second canary: the master runs a REAL kube-apiserver of the oldest pinned
// release against that etcd (under the SIMULATED kubelet, lab/apiserver.ts); a ConfigMap written
// through it before each failure is read back through it with real kubectl after the recovery, and
// the majority restore ends with Mooring's restartControlPlane restarting that apiserver and
// waiting for its /readyz, after which it serves the snapshot's data: the ConfigMap written before
// the snapshot is there, the one written after it is gone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, memberHealthy } from '../../lab/etcd-cluster.js';
import { nodeRoot } from '../../lab/node-view.js';
import { progressQuery } from '../../workflows/runbook/definitions.js';
import { eventually, type TestTemporal } from '../helpers/temporal.js';
import { startLabStack, type LabStack } from '../helpers/lab-stack.js';
import { mooring } from '../helpers/cli.js';
import { etcdVersionsUnderTest } from '../helpers/etcd-versions.js';
import { pinnedKubernetes } from '../../lab/kubernetes-versions.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** The apiserver the lab's master runs: the oldest pinned release (set-up builds every pinned one). */
const KUBERNETES = pinnedKubernetes()[0]!;

for (const v of etcdVersionsUnderTest({ '3.4': '127.28.0', '3.6': '127.68.0' })) {
  describe(`etcd ${v.etcd} recovery runbooks on the lab (real etcd, sshd, Temporal)`, () => {
    let stack: LabStack | undefined;
    let t: TestTemporal;
    let lab: Lab;
    let env: NodeJS.ProcessEnv;

    const members = () => lab.etcdMembers();
    const etcdctl = (args: string[]) => hostEtcdctl(lab.etcdSettings, members().find((m) => m.name === 'etcd-1')!, members().map((m) => clientEndpoint(lab.etcdSettings, m)), args, 5);
    const allHealthy = async () => (await Promise.all(members().map((m) => memberHealthy(lab.etcdSettings, m)))).every(Boolean);
    const memberLines = async () => (await etcdctl(['member', 'list'])).trim().split('\n');
    /** A ConfigMap's data.written through the real apiserver, or 'NotFound'. */
    const configMap = async (name: string): Promise<string> => {
      try {
        return (await lab.kubectl(['get', 'configmap', name, '-o', 'jsonpath={.data.written}'])).stdout;
      } catch (e) {
        if (/NotFound/.test((e as { stderr?: string }).stderr ?? '')) return 'NotFound';
        throw e;
      }
    };
    const writeConfigMap = (name: string, written: string) => lab.kubectl(['create', 'configmap', name, `--from-literal=written=${written}`]);
    /** The kube-apiserver process the SIMULATED kubelet runs on master-1 (its record, read from the node). */
    const apiserverContainer = () => (JSON.parse(readFileSync(lab.viewPath('master-1', '/var/lib/kubelet/containers.json'), 'utf8')) as { containers: { container: string; id: string; pid: number }[] })
      .containers.find((c) => c.container === 'kube-apiserver')!;

    async function recover(scenario: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
      // Generous: on a loaded 2-core machine a majority recovery with the apiserver's restart took over 4 min.
      const running = mooring(['recover', 'etcd', scenario, '-c', lab.inventoryFile, ...extra], env, 480_000);
      if (!extra.includes('--plan')) {
        const gate = await eventually(`the ${scenario} approval gate`, async () => (await t.client.workflow.getHandle('ops/lab').query(progressQuery)).pendingApproval, 180_000, 300);
        // (A loaded 2-core machine may take over a minute to reach it.) No --approval-timeout given: the recovery's default applies (a quorum loss waits less).
        assert.equal(gate.deadline! - gate.requestedAt, scenario === 'majority' ? 30 * 60_000 : 60 * 60_000);
        const ok = await mooring(['approve', 'ops/lab', '--by', 'oncall', '--comment', `recover ${scenario}`], env);
        assert.equal(ok.code, 0, ok.stderr);
      }
      return running;
    }

    before(async () => {
      // With a quota, so every config the recoveries write is read by real etcd of this version.
      stack = await startLabStack(`recover-${v.etcd}`, v.subnet, { etcdVersion: v.etcd, etcdQuotaBackendBytes: '4GiB', kubernetes: KUBERNETES });
      ({ lab, t, env } = stack);
      await etcdctl(['put', 'canary', 'written-before-any-failure']);
      await writeConfigMap('canary', 'before-any-failure');
    });
    after(async () => { await stack?.stop(); });

    it('follower: a member SIGKILLed is removed, its data moved aside, re-added as a learner, promoted', async () => {
      const before = await memberLines();
      lab.killEtcd('etcd-2');
      const plan = await mooring(['recover', 'etcd', 'follower', '-c', lab.inventoryFile, '--plan'], env);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /etcdctl member remove etcd-2/);
      assert.equal(await memberLines().then((l) => l.length), 3, 'plan mode changed nothing');

      const r = await recover('follower', ['--canary', 'canary=written-before-any-failure']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(await allHealthy());
      const after = await memberLines();
      assert.equal(after.length, 3);
      assert.ok(after.every((l) => /, started, /.test(l) && /, false$/.test(l)), after.join('\n'));
      const oldId = before.find((l) => l.includes('etcd-2'))!.split(',')[0];
      const newId = after.find((l) => l.includes('etcd-2'))!.split(',')[0];
      assert.notEqual(newId, oldId, 'etcd-2 re-joined as a new member');
      const aside = (await t.client.workflow.getHandle('ops/lab').result() as { movedAside?: string }).movedAside;
      assert.ok(aside && existsSync(join(nodeRoot(lab.nodeDir('etcd-2')), aside)), `old data kept at ${aside}`);
      // The config the recovery wrote for the re-added member keeps the inventory's quota.
      const config = readFileSync(lab.viewPath('etcd-2', '/etc/etcd/etcd.conf.yaml'), 'utf8');
      assert.match(config, /^initial-cluster-state: existing$/m);
      assert.match(config, /^quota-backend-bytes: 4294967296$/m);
      // Kubernetes data through the real apiserver: still there, and the API takes writes.
      assert.equal(await configMap('canary'), 'before-any-failure');
      await writeConfigMap('after-follower', 'after-the-follower-recovery');
      assert.equal(await configMap('after-follower'), 'after-the-follower-recovery');
    });

    it('follower: refused on a healthy cluster, before anything is touched', async () => {
      const r = await mooring(['recover', 'etcd', 'follower', '-c', lab.inventoryFile], env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /every member is healthy: there is nothing to recover/);
    });

    it('follower: a replaced node (empty disk, no certificates) gets new ones from the cluster CA and rejoins', async () => {
      lab.replaceNode('etcd-3');
      const ssl = lab.viewPath('etcd-3', '/etc/etcd/ssl');
      assert.ok(!existsSync(join(ssl, 'server.crt')));
      const r = await recover('follower', ['--member', 'etcd-3', '--canary', 'canary=written-before-any-failure']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /wrote 7 files from the cluster's CA/);
      assert.ok(await allHealthy());
      assert.equal((await memberLines()).length, 3);
      // A real certificate for the node's own name and address, signed by the lab CA.
      const cert = new X509Certificate(readFileSync(join(ssl, 'server.crt')));
      assert.ok(cert.verify(new X509Certificate(readFileSync(join(lab.dir, 'pki', 'ca.crt'))).publicKey));
      assert.ok((cert.subjectAltName ?? '').includes(`${v.subnet}.13`), cert.subjectAltName);
      assert.equal(await configMap('canary'), 'before-any-failure');
      lab.clearFaults();
    });

    it('leader: the leader is killed; a new one is confirmed at a higher term, the old one re-added', async () => {
      const termBefore = Number(/"raftTerm":(\d+)/.exec(await etcdctl(['endpoint', 'status', '-w', 'json']))?.[1]);
      const old = await lab.killLeader();
      const r = await recover('leader', ['--canary', 'canary=written-before-any-failure']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const result = await t.client.workflow.getHandle('ops/lab').result() as { newLeader: string; term: number; recovered: string; writesRefusedMs: number };
      assert.notEqual(result.newLeader, old);
      assert.ok(result.term > termBefore, `term ${result.term} > ${termBefore}`);
      assert.equal(result.recovered, old);
      assert.ok(result.writesRefusedMs >= 0);
      assert.ok(await allHealthy());
      assert.equal((await memberLines()).length, 3);
      assert.equal(await configMap('canary'), 'before-any-failure');
      assert.equal(await configMap('after-follower'), 'after-the-follower-recovery');
    });

    it('majority: quorum lost; restored from the newest verified snapshot, grown back to three', async () => {
      // A verified snapshot in the backup dir of etcd-1, the truncated newer one must be skipped.
      await etcdctl(['put', 'canary-snap', 'in-the-snapshot']);
      await writeConfigMap('in-snapshot', 'before-the-snapshot');
      const snapDir = lab.viewPath('etcd-1', '/var/backups/etcd');
      await hostEtcdctl(lab.etcdSettings, members()[0]!, [clientEndpoint(lab.etcdSettings, members()[0]!)], ['snapshot', 'save', join(snapDir, 'older-good.db')], 10);
      // Written after the snapshot the restore uses: a real restore loses it.
      await writeConfigMap('after-snapshot', 'after-the-snapshot');
      assert.equal(await configMap('after-snapshot'), 'after-the-snapshot');
      const apiserverBefore = apiserverContainer();
      await new Promise((res) => setTimeout(res, 1100));
      await hostEtcdctl(lab.etcdSettings, members()[0]!, [clientEndpoint(lab.etcdSettings, members()[0]!)], ['snapshot', 'save', join(snapDir, 'newest.db')], 10);
      lab.truncateSnapshot('etcd-1', '/var/backups/etcd/newest.db');
      const clusterBefore = /"cluster_id":(\d+)/.exec(await etcdctl(['endpoint', 'status', '-w', 'json']))?.[1];

      const victims = lab.killMajority();
      assert.equal(victims.length, 2);
      const refused = await mooring(['recover', 'etcd', 'follower', '-c', lab.inventoryFile, '--member', victims[0]!], env);
      assert.match(refused.stderr, /quorum is lost.*recover etcd majority/);

      const r = await recover('majority', ['--canary', 'canary-snap=in-the-snapshot']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Not used: .*newest\.db/);
      // 3.6 restores only with etcdutl, revisions moved past the old ones for watchers; Debian's 3.4.23 predates --bump-revision.
      assert.match(r.stdout, v.etcd === '3.4' ? /etcdctl snapshot restore .*--bump-revision skipped/ : /etcdutl snapshot restore .*revision bumped by 1e9 and marked compacted/);
      assert.ok(await allHealthy());
      const lines = await memberLines();
      assert.equal(lines.length, 3);
      assert.ok(lines.every((l) => /, started, /.test(l) && /, false$/.test(l)), lines.join('\n'));
      assert.equal((await etcdctl(['get', 'canary', '--print-value-only'])).trim(), 'written-before-any-failure');
      const clusterAfter = /"cluster_id":(\d+)/.exec(await etcdctl(['endpoint', 'status', '-w', 'json']))?.[1];
      assert.notEqual(clusterAfter, clusterBefore, 'a new cluster (new token) was formed');
      const revision = Number(/"revision":(\d+)/.exec(await etcdctl(['endpoint', 'status', '-w', 'json']))?.[1]);
      assert.equal(revision > 1_000_000_000, v.etcd !== '3.4', `revision after the restore: ${revision}`);
      for (const m of members()) assert.ok(existsSync(join(nodeRoot(m.nodeDir), '/etc/etcd/ssl/server.key')), 'certificates untouched');
      // The real kube-apiserver was restarted (a new process under a new container ID from the
      // SIMULATED kubelet) and the runbook waited for its real /readyz on the master's address.
      assert.match(r.stdout, /control plane restarted/i);
      assert.match(r.stdout, new RegExp(`master-1: restarted kube-apiserver, /readyz 200 after \\d+ s \\(https://${v.subnet.replace(/\./g, '\\.')}\\.21:6443/readyz\\)`));
      const apiserverAfter = apiserverContainer();
      assert.notEqual(apiserverAfter.id, apiserverBefore.id, 'a new kube-apiserver container');
      assert.notEqual(apiserverAfter.pid, apiserverBefore.pid, 'a new kube-apiserver process');
      assert.throws(() => process.kill(apiserverBefore.pid, 0), 'the old kube-apiserver is gone');
      // It serves the restored data: what the snapshot held, not what was written after it.
      assert.equal(await configMap('canary'), 'before-any-failure');
      assert.equal(await configMap('in-snapshot'), 'before-the-snapshot');
      assert.equal(await configMap('after-snapshot'), 'NotFound');
      await writeConfigMap('after-restore', 'after-the-restore');
      assert.equal(await configMap('after-restore'), 'after-the-restore');
      // After the approval the runbook looked again (quorum still lost, snapshot still there) before fencing.
      const progress = await t.client.workflow.getHandle('ops/lab').query(progressQuery);
      assert.match(progress.steps.find((x) => x.id === 'reassess')?.detail ?? '', /unchanged/);
      const types = (await t.client.workflow.getHandle('ops/lab').fetchHistory()).events!.flatMap((ev) => (ev.activityTaskScheduledEventAttributes ? [ev.activityTaskScheduledEventAttributes.activityType!.name!] : []));
      assert.deepEqual(types.slice(-2), ['controlPlaneContainers', 'restartControlPlane'], 'the IDs are taken (and kept in history) before the restart');
    });
  });
}
