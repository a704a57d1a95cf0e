// The runbooks the CLI can start: workflow type, whether it mutates the cluster, how its
// workflow ID is formed. Mutating runbooks share one ID per cluster, so the server itself
// refuses a second one while the first runs.
import type { Inventory } from '../config/schema.js';

export interface RunbookSpec {
  name: string;
  workflowType: string;
  mutating: boolean;
  summary: string;
  args(inv: Inventory, opts: RunbookOptions): unknown[];
}

export interface RunbookOptions {
  approvalTimeoutMs?: number;
  /** Recovery runbooks: the member to recover. */
  member?: string;
  /** Print the plan for this inventory and change nothing. */
  planOnly?: boolean;
  canary?: { key: string; value: string };
  /** etcd-backup-verify: the object key of the snapshot. */
  snapshotKey?: string;
  /** Who started it, for reports. */
  trigger?: string;
  /** upgrade: the Kubernetes release to reach. */
  to?: string;
  /** upgrade: workers at once (count or N%), overriding the inventory. */
  workerBatch?: number | string;
  /** upgrade: one approval for all hops. */
  gates?: 'per-hop' | 'single';
  /** upgrade: go on without the snapshot (no backup section), with this reason. */
  skipSnapshot?: string;
}

const recoveryArgs = (inventory: Inventory, o: RunbookOptions) => [{
  inventory,
  ...(o.approvalTimeoutMs ? { approvalTimeoutMs: o.approvalTimeoutMs } : {}),
  ...(o.member ? { member: o.member } : {}),
  ...(o.planOnly ? { planOnly: true } : {}),
  ...(o.canary ? { canary: o.canary } : {}),
}];

export const RUNBOOKS: readonly RunbookSpec[] = [
  {
    name: 'inventory-check',
    workflowType: 'inventoryCheck',
    mutating: false,
    summary: 'SSH to every host (after approval) and report OS, uptime, disk and whether the ports its roles need are free',
    args: (inventory, opts) => [{ inventory, ...(opts.approvalTimeoutMs ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}) }],
  },
  {
    name: 'etcd-status',
    workflowType: 'etcdStatus',
    mutating: false,
    summary: 'read-only: on each etcd member over SSH, etcdctl with TLS (endpoint health, endpoint status, member list); a table of health, leader, raft term/index, db size, version, with findings',
    args: (inventory) => [{ inventory }],
  },
  {
    name: 'recover-etcd-follower',
    workflowType: 'recoverEtcdFollower',
    mutating: true,
    summary: 'replace one failed etcd member while the others keep quorum (remove, move data aside, re-add as learner, promote, verify)',
    args: recoveryArgs,
  },
  {
    name: 'recover-etcd-leader',
    workflowType: 'recoverEtcdLeader',
    mutating: true,
    summary: 'the leader failed: confirm the new election, measure the write outage, then replace the old leader like a follower',
    args: recoveryArgs,
  },
  {
    name: 'recover-etcd-majority',
    workflowType: 'recoverEtcdMajority',
    mutating: true,
    summary: 'quorum is lost: confirm it, restore the newest verified snapshot on one member as a new cluster, grow it back member by member',
    args: recoveryArgs,
  },
  {
    name: 'etcd-backup',
    workflowType: 'etcdBackup',
    // Retention deletes snapshots: one per cluster, never beside a recovery.
    mutating: true,
    summary: 'snapshot a healthy member (followers first) over SSH with TLS, check it, encrypt and stream it to the object store, apply retention locally and remotely (--plan: a dry run of retention only)',
    args: (inventory, o) => [{ inventory, trigger: o.trigger ?? 'mooring CLI', ...(o.planOnly ? { dryRun: true } : {}) }],
  },
  {
    name: 'etcd-backup-verify',
    workflowType: 'verifyEtcdBackup',
    mutating: false,
    summary: 'download a stored snapshot, decrypt it, check its sha256 and snapshot status, trial-restore it into a scratch dir (use `mooring backup verify`)',
    args: (inventory, o) => {
      if (!o.snapshotKey) throw new Error('etcd-backup-verify needs the snapshot: use `mooring backup verify -c FILE ID`');
      return [{ inventory, key: o.snapshotKey }];
    },
  },
  {
    name: 'upgrade',
    workflowType: 'upgradeCluster',
    mutating: true,
    summary: 'plan the hops to a Kubernetes release from the versions the nodes run (one minor at a time, etcd minors first where needed), approve, snapshot through etcd-backup, upgrade external etcd member by member, then per Kubernetes hop: approval, preflight, kubeadm upgrade apply/node, kubelets, workers drained in batches; a blocked step holds and asks (retry/skip/stop)',
    args: (inventory, o) => {
      if (!o.to) throw new Error('upgrade needs the target release: use `mooring upgrade -c FILE --to 1.X.Y`');
      return [{
        inventory, to: o.to,
        ...(o.approvalTimeoutMs ? { approvalTimeoutMs: o.approvalTimeoutMs } : {}),
        ...(o.planOnly ? { planOnly: true } : {}),
        ...(o.canary ? { canary: o.canary } : {}),
        ...(o.workerBatch !== undefined ? { workerBatch: o.workerBatch } : {}),
        ...(o.gates ? { gates: o.gates } : {}),
        ...(o.skipSnapshot ? { skipSnapshot: o.skipSnapshot } : {}),
      }];
    },
  },
  {
    name: 'provision',
    workflowType: 'provision',
    mutating: true,
    summary: 'create the cluster from the inventory: plan and quota check, one approval before the first billable create, the cloud phase (OpenStack or Proxmox) and the host phase as child runs, a report with addresses, the API endpoint and the kubeconfig path',
    args: (inventory, o) => [{ inventory, ...(o.planOnly ? { planOnly: true } : {}), ...(o.approvalTimeoutMs ? { approvalTimeoutMs: o.approvalTimeoutMs } : {}) }],
  },
  {
    name: 'deprovision',
    workflowType: 'deprovision',
    mutating: true,
    summary: 'delete the cluster\'s cloud resources: only what carries its tag, after one approval, in reverse order; the etcd snapshots in the backup bucket are kept',
    args: (inventory, o) => [{ inventory, ...(o.planOnly ? { planOnly: true } : {}), ...(o.approvalTimeoutMs ? { approvalTimeoutMs: o.approvalTimeoutMs } : {}) }],
  },
];

export function findRunbook(name: string): RunbookSpec {
  const rb = RUNBOOKS.find((r) => r.name === name);
  if (!rb) throw new Error(`unknown runbook "${name}": choose one of ${RUNBOOKS.map((r) => r.name).join(', ')} (see \`mooring run --help\`)`);
  return rb;
}

/**
 * ops/<cluster> for every mutating runbook (per-cluster exclusion); <runbook>/<cluster> otherwise.
 * A plan-only run changes nothing, so it does not take the cluster's lock.
 */
export function workflowIdFor(rb: RunbookSpec, cluster: string, planOnly = false): string {
  if (planOnly) return `plan/${rb.name}/${cluster}`;
  return rb.mutating ? `ops/${cluster}` : `${rb.name}/${cluster}`;
}
