// MOORING_CRASH_BOUNDARIES: the subset of `npm run test:crash` to run, as case names `scenario:N`
// (e.g. `follower:4,upgrade-hop:9,proxmox-provision:3`). It selects across every crash file (their
// scenarios are listed in catalog.ts, names unique across files): each file registers only its own
// selected cases (none is reported as skipped) and ignores names of another file's scenarios. A name
// of no scenario, a boundary out of its scenario's range or an entry not shaped `scenario:N` is
// refused at load by every file, so a typo cannot select nothing and pass. Unset or blank: every case.

/** Crash file → scenario → its number of cases (cases 1..N; some include one past the last activity). */
export type CrashMatrices = Readonly<Record<string, Readonly<Record<string, number>>>>;

const EXAMPLE = 'follower:4,proxmox-provision:3';

/** Whether case `name` of `file` is selected; throws at load naming every bad entry and the valid ranges. */
export function crashSelection(matrices: CrashMatrices, file: string): (name: string) => boolean {
  const own = matrices[file];
  if (!own) throw new Error(`crash file ${file} is not in the crash catalog (test/crash/catalog.ts)`);
  const scenarios = allScenarios(matrices);
  const only = process.env.MOORING_CRASH_BOUNDARIES?.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = (only ?? []).flatMap((entry) => {
    const m = /^([a-z0-9-]+):([0-9]+)$/.exec(entry);
    if (!m) return [`${entry} is not scenario:boundary`];
    const cases = scenarios.get(m[1]!);
    if (cases === undefined) return [`${entry}: no scenario ${m[1]}`];
    const n = Number(m[2]);
    return n >= 1 && n <= cases ? [] : [`${entry}: boundary out of range (${m[1]} 1-${cases})`];
  });
  if (bad.length) throw new Error(`MOORING_CRASH_BOUNDARIES: ${bad.join('; ')}; give scenario:boundary, e.g. ${EXAMPLE} (${[...scenarios].map(([s, n]) => `${s} 1-${n}`).join(', ')})`);
  const selected = only?.length ? new Set(only) : undefined;
  return (name) => {
    // A case the file registers but its catalog entry does not list: the two have drifted apart.
    const i = name.lastIndexOf(':');
    const n = Number(name.slice(i + 1));
    const cases = own[name.slice(0, i)];
    if (cases === undefined || !Number.isInteger(n) || n < 1 || n > cases) throw new Error(`crash case ${name} is not in ${file}'s entry of the crash catalog (test/crash/catalog.ts)`);
    return selected === undefined || selected.has(name);
  };
}

/** Every scenario of every file with its case count; a scenario name in two files is refused. */
export function allScenarios(matrices: CrashMatrices): Map<string, number> {
  const out = new Map<string, number>();
  const fileOf = new Map<string, string>();
  for (const [file, scenarios] of Object.entries(matrices)) {
    for (const [scenario, cases] of Object.entries(scenarios)) {
      const other = fileOf.get(scenario);
      if (other !== undefined) throw new Error(`crash scenario ${scenario} is in both ${other} and ${file}: case names must be unique across crash files`);
      fileOf.set(scenario, file);
      out.set(scenario, cases);
    }
  }
  return out;
}
