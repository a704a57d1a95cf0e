// The preflight of one Kubernetes hop: reads through the real apiserver (nodes, pods, PDBs),
// etcd (stacked: etcdctl on the master with kubeadm's healthcheck-client certificate) and kubeadm
// (certs check-expiration on every master), and judges with preflight-checks.ts.
import type { SshSession } from '../ssh/session.js';
import { sh } from '../ssh/quote.js';
import { withSession, type SshDeps } from '../ssh/access.js';
import type { PreflightInput, PreflightResult } from './context.js';
import { kubectlJson } from './kubectl.js';
import {
  checkCapacity, checkCertificates, checkControlPlane, checkEtcdMembers, checkNodes, impossiblePdbs,
  type NodeObject, type PdbObject, type PodObject,
} from './preflight-checks.js';

const ETCD_PKI = '/etc/kubernetes/pki/etcd';
const stackedEtcdctl = (args: string[]) => sh`etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${`${ETCD_PKI}/ca.crt`} --cert=${`${ETCD_PKI}/healthcheck-client.crt`} --key=${`${ETCD_PKI}/healthcheck-client.key`} --command-timeout=5s ${args}`;

async function stackedEtcd(s: SshSession, signal: AbortSignal): Promise<string[]> {
  const list = await s.exec(stackedEtcdctl(['member', 'list', '-w', 'json']), { timeoutMs: 20_000, signal });
  if (list.code !== 0) {
    return [`etcdctl member list on ${s.target.name} failed (exit ${list.code}: ${list.stderr.trim().split('\n').slice(-2).join(' / ') || 'no output'})${list.code === 127 ? ': install etcdctl (Debian etcd-client) on the masters' : ''}`];
  }
  const health = await s.exec(stackedEtcdctl(['endpoint', 'health', '--cluster', '-w', 'json']), { timeoutMs: 30_000, signal });
  let h: { endpoint: string; health: boolean; error?: string }[] = [];
  try { h = JSON.parse(health.stdout) as typeof h; } catch { return [`etcdctl endpoint health on ${s.target.name}: unreadable answer (exit ${health.code}: ${health.stderr.trim().slice(-200)})`]; }
  return checkEtcdMembers(JSON.parse(list.stdout) as Parameters<typeof checkEtcdMembers>[0], h);
}

export async function preflight(deps: SshDeps, input: PreflightInput, signal: AbortSignal, now: () => number = Date.now): Promise<PreflightResult> {
  const problems: string[] = [];
  const notes: string[] = [];
  const masters = input.nodes.filter((n) => n.role === 'master');
  const drained = new Set(input.batches.flat());
  await withSession(deps, input.ssh, input.via, signal, async (s) => {
    const nodes = (await kubectlJson<{ items: NodeObject[] }>(s, ['get', 'nodes'], signal)).items;
    const pods = (await kubectlJson<{ items: PodObject[] }>(s, ['get', 'pods', '--all-namespaces'], signal)).items;
    const pdbs = (await kubectlJson<{ items: PdbObject[] }>(s, ['get', 'poddisruptionbudgets', '--all-namespaces'], signal)).items;
    const n = checkNodes(nodes, input.nodes.map((x) => x.name), input.from);
    const cp = checkControlPlane(pods, masters.map((m) => m.name), input.from, input.to);
    problems.push(...n.problems, ...cp.problems, ...impossiblePdbs(pdbs, pods, drained), ...checkCapacity(nodes, pods, input.batches));
    notes.push(...n.notes, ...cp.notes);
    const blocking = pdbs.filter((b) => b.status?.disruptionsAllowed === 0);
    if (blocking.length) notes.push(`PodDisruptionBudgets allowing no disruption now: ${blocking.map((b) => `${b.metadata.namespace}/${b.metadata.name} (${b.status?.currentHealthy ?? 0} of ${b.status?.desiredHealthy ?? '?'} healthy)`).join(', ')}; a drain waits on them and the run asks if it cannot finish`);
    if (input.etcd === 'stacked') problems.push(...await stackedEtcd(s, signal));
  });
  for (const m of masters) {
    await withSession(deps, input.ssh, m, signal, async (s) => {
      const r = await s.exec('kubeadm certs check-expiration -o json', { timeoutMs: 60_000, signal });
      if (r.code !== 0) { problems.push(`${m.name}: kubeadm certs check-expiration failed (exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')})`); return; }
      problems.push(...checkCertificates(m.name, JSON.parse(r.stdout) as Parameters<typeof checkCertificates>[1], now(), input.certificateMinDays));
    });
  }
  return { problems, notes };
}
