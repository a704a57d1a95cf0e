// The CLI's exit codes, one per way a command can end, so scripts and CI can tell a rejected
// approval from a broken cluster. Documented in README.md and `mooring --help`.
import { FailureTypes } from '../workflows/runbook/failure-types.js';

export const ExitCode = {
  ok: 0,
  /** The run failed, or the command could not do its job. */
  failed: 1,
  /** Invalid input (inventory, flags): nothing was started. */
  invalidInput: 2,
  /** The cluster is busy with another run (or the schedule exists already). */
  busy: 3,
  /** A person rejected the approval: the run stopped without doing the step. */
  rejected: 4,
  /** Nobody decided within the approval timeout: the run stopped safely. */
  approvalTimedOut: 5,
  /** The backup ran but is degraded: no off-site copy (the snapshot stays on the member). */
  degraded: 6,
  /** `backup verify` could not check the snapshot on the worker (not a verdict on the snapshot). */
  inconclusive: 7,
  /** `upgrade` stopped part-way on purpose: a person chose stop at a hold, or skipped nodes keep the next hop from starting (runs of releases before the Kubernetes hops: stopped before them). */
  notBuilt: 8,
} as const;

export const EXIT_CODE_HELP = `Exit codes:
  0  ok                      1  failed
  2  invalid input (nothing was started)
  3  the cluster is busy with another run (or the backup schedule exists already)
  4  the approval was rejected          5  the approval timed out (the run stopped safely)
  6  backup degraded: no off-site copy  7  backup verify inconclusive: the worker could not check it
  8  upgrade stopped part-way on purpose: "stop" chosen at a hold, or skipped nodes keep the
     next hop from starting (the report says where it stopped and what is cordoned)`;

// Failure types of the scheduled wrapper and verify (workflows/etcd-backup): kept as strings so
// the client does not import workflow modules for them.
const BY_FAILURE_TYPE: Record<string, number> = {
  [FailureTypes.rejected]: ExitCode.rejected,
  [FailureTypes.approvalTimedOut]: ExitCode.approvalTimedOut,
  [FailureTypes.badInput]: ExitCode.invalidInput,
  BackupDegraded: ExitCode.degraded,
  BackupSkippedBusy: ExitCode.busy,
  VerificationInconclusive: ExitCode.inconclusive,
  KubernetesHopsNotBuilt: ExitCode.notBuilt,
  UpgradeStopped: ExitCode.notBuilt,
  NodesBehind: ExitCode.notBuilt,
  // provision: an image, flavor, network or key pair missing, an address the cloud contradicts.
  OpenStackInventoryMismatch: ExitCode.invalidInput,
};

/** The exit code for a run that ended with a failure of this type. */
export function exitCodeForFailure(type: string | undefined): number {
  return (type && BY_FAILURE_TYPE[type]) || ExitCode.failed;
}

/** Thrown by `fail()`: the command ends with this message and code after its `finally` blocks ran (connections closed). */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  /** `prefixed`: printed as "mooring: <message>" (an inventory report is printed as it is). */
  constructor(message: string, readonly code: number, readonly prefixed = true) {
    super(message);
  }
}
