// The runbooks the CLI can start: workflow type, whether it mutates the cluster, how its
// workflow ID is formed. Mutating runbooks share one ID per cluster, so the server itself
// refuses a second one while the first runs.
import type { Inventory } from '../config/schema.js';

export interface RunbookSpec {
  name: string;
  workflowType: string;
  mutating: boolean;
  summary: string;
  args(inv: Inventory, opts: { approvalTimeoutMs?: number }): unknown[];
}

export const RUNBOOKS: readonly RunbookSpec[] = [
  {
    name: 'inventory-check',
    workflowType: 'inventoryCheck',
    mutating: false,
    summary: 'SSH to every host (after approval) and report OS, uptime, disk and whether the ports its roles need are free',
    args: (inventory, opts) => [{ inventory, ...(opts.approvalTimeoutMs ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}) }],
  },
];

export function findRunbook(name: string): RunbookSpec {
  const rb = RUNBOOKS.find((r) => r.name === name);
  if (!rb) throw new Error(`unknown runbook "${name}": choose one of ${RUNBOOKS.map((r) => r.name).join(', ')} (see \`mooring run --help\`)`);
  return rb;
}

/** ops/<cluster> for every mutating runbook (per-cluster exclusion); <runbook>/<cluster> otherwise. */
export function workflowIdFor(rb: RunbookSpec, cluster: string): string {
  return rb.mutating ? `ops/${cluster}` : `${rb.name}/${cluster}`;
}
