// Version arithmetic for the upgrade plan, and the facts about Kubernetes and etcd releases it
// relies on. Pure and import-free: the workflow, the CLI's --plan and the tests share it.

export interface Version { major: number; minor: number; patch: number }

/** `1.35.4`, `v1.35.4`, `3.5.24-0` (kubeadm's image tag), `v1.35.4+k3s1`: the numbers only. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function mustParse(text: string, what: string): Version {
  const v = parseVersion(text);
  if (!v) throw new Error(`${what}: "${text}" is not a version such as 1.35.4`);
  return v;
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const formatVersion = (v: Version) => `${v.major}.${v.minor}.${v.patch}`;
export const minorOf = (v: Version) => `${v.major}.${v.minor}`;

/** The lowest of some versions (what a mixed set of members or nodes runs at). */
export function lowest(vs: readonly Version[]): Version | undefined {
  return [...vs].sort(compareVersions)[0];
}

export function highest(vs: readonly Version[]): Version | undefined {
  return [...vs].sort(compareVersions).at(-1);
}

/** The newest release of `major.minor` in `releases`, at least `floor` when one is given. */
export function newestOfMinor(releases: readonly Version[], major: number, minor: number, floor?: Version): Version | undefined {
  return highest(releases.filter((r) => r.major === major && r.minor === minor && (!floor || compareVersions(r, floor) >= 0)));
}

/**
 * The etcd kubeadm runs for each Kubernetes minor (its stacked etcd, `SupportedEtcdVersion` in
 * cmd/kubeadm/app/constants/constants.go), and the oldest external etcd it accepts
 * (`MinExternalEtcdVersion`). Read from kubeadm's sources: v1.35.4 (in the Go module cache of the
 * lab build) maps 1.33 → 3.5.24-0, 1.34 and 1.35 → 3.6.6-0 and requires external etcd 3.5.24+;
 * 1.22 moved kubeadm to etcd 3.5 (3.5.0-0, later 3.5.x-0 for every minor 1.22-1.33); from 1.28
 * the external minimum was 3.4.13-4 (kubernetes/kubernetes#118733). Rows are "from this minor on".
 * A Kubernetes minor newer than the last row is assumed to keep its etcd, and the plan says so.
 */
export const KUBEADM_ETCD: readonly { fromMinor: number; etcdMinor: string; minExternal: string }[] = [
  { fromMinor: 17, etcdMinor: '3.4', minExternal: '3.2.18' },
  { fromMinor: 22, etcdMinor: '3.5', minExternal: '3.4.13' },
  { fromMinor: 34, etcdMinor: '3.6', minExternal: '3.5.24' },
];
/** The newest Kubernetes minor whose kubeadm constants the table above was checked against. */
export const KUBEADM_ETCD_CHECKED_THROUGH = 35;

export function etcdForKubernetes(k8sMinor: number): { etcdMinor: string; minExternal: Version; assumed: boolean } | undefined {
  const row = [...KUBEADM_ETCD].reverse().find((r) => k8sMinor >= r.fromMinor);
  if (!row) return undefined;
  return { etcdMinor: row.etcdMinor, minExternal: mustParse(row.minExternal, 'KUBEADM_ETCD'), assumed: k8sMinor > KUBEADM_ETCD_CHECKED_THROUGH };
}

/**
 * etcd's own floor for entering a minor: its v3.5 → v3.6 guide asks for every 3.5 member on
 * 3.5.26 or later first (3.5.24-3.5.26 fix upgrade blockers such as "too many learner members").
 * For other minors the guide says "update to the most recent patch first", which the plan does by
 * always installing the newest release it knows of a minor.
 */
export const ETCD_ENTRY_FLOOR: Readonly<Record<string, string>> = { '3.6': '3.5.26' };
