// MOORING_CRASH_BOUNDARIES: the subset of a crash matrix to run, as case names `scenario:N`
// (e.g. `follower:4,upgrade-hop:9`). A subset is chosen by not registering the other cases (none is
// reported as skipped); a name that is not a case of the matrix is refused, so a typo cannot
// select nothing and pass.

/** Whether case `name` is selected; throws at load naming every unknown case and the valid ranges. */
export function crashSelection(cases: readonly string[], example: string): (name: string) => boolean {
  const only = process.env.MOORING_CRASH_BOUNDARIES?.split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((c) => !cases.includes(c));
  if (unknown.length) throw new Error(`MOORING_CRASH_BOUNDARIES: ${unknown.join(', ')} not in the matrix; give scenario:boundary, e.g. ${example} (${ranges(cases)})`);
  return (name) => only === undefined || only.includes(name);
}

/** `follower 1-15, leader 1-16`: each scenario's first and last boundary. */
function ranges(cases: readonly string[]): string {
  const by = new Map<string, number[]>();
  for (const c of cases) {
    const i = c.lastIndexOf(':');
    by.set(c.slice(0, i), [...(by.get(c.slice(0, i)) ?? []), Number(c.slice(i + 1))]);
  }
  return [...by].map(([s, ns]) => `${s} ${Math.min(...ns)}-${Math.max(...ns)}`).join(', ');
}
