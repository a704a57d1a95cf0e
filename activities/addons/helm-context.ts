// What the Helm activities take and give, shared by the workflow that calls them and the
// activities (type-only imports: nothing here runs in a workflow).
import type { HostStep, StepResult } from '../host/index.js';

/** installHelm on one master; checkHelm from the first master (it asks every master for its version). */
export type HelmStep = HostStep;
/** What installHelm changed on the master (empty: Helm was there at the version, held). */
export type HelmInstallResult = StepResult;

export interface HelmCheckResult {
  /** e.g. "Helm v4.3.2 on master-1, master-2, master-3; helm list through the VIP 10.0.0.100:6443: 0 releases" */
  line: string;
  /** Releases helm list -A found in the cluster. */
  releases: number;
}
