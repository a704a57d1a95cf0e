// The quota check's verdict, pure (the runbook shows it in the plan and refuses on it): for each
// quota the plan touches, what the missing resources need against what the project has left.
export interface QuotaRow {
  service: 'compute' | 'network';
  /** The quota's own name: Nova's instances/cores/ram/server_groups, Neutron's port, floatingip, … */
  quota: string;
  /** What the resources still missing would take. */
  needed: number;
  used: number;
  /** -1: unlimited. */
  limit: number;
}

export interface QuotaCheck {
  rows: QuotaRow[];
  /** Resources that do not exist yet ("server paas-master-1", …): empty when the cloud is complete. */
  missing: string[];
}

export const left = (r: QuotaRow): number => (r.limit < 0 ? Infinity : Math.max(0, r.limit - r.used));

/** The rows the plan cannot fit in. */
export function quotaShortfalls(q: QuotaCheck): QuotaRow[] {
  return q.rows.filter((r) => r.needed > left(r));
}

export function quotaLine(r: QuotaRow): string {
  const unit = r.quota === 'ram' ? ' MiB' : '';
  return `${r.service} quota ${r.quota}: needs ${r.needed}${unit}, ${r.limit < 0 ? 'unlimited' : `${left(r)}${unit} left (${r.used} of ${r.limit} used)`}`;
}

/** "compute quota instances: needs 9, 4 left (6 of 10 used); …": the refusal names each quota and the numbers. */
export function quotaRefusal(q: QuotaCheck): string | undefined {
  const short = quotaShortfalls(q);
  if (!short.length) return undefined;
  return `the plan needs more than the project has left: ${short.map(quotaLine).join('; ')}. Nothing was created: raise the quota (openstack quota set) or make room, then run again`;
}
