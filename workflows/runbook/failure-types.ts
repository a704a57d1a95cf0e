// Failure types a runbook throws; the client maps them to messages and exit codes. Import-free, so
// the CLI can read them without loading the workflow SDK (start-up time, see client/cli.ts).
export const FailureTypes = {
  rejected: 'ApprovalRejected',
  approvalTimedOut: 'ApprovalTimedOut',
  badInput: 'InvalidInput',
  preconditionFailed: 'PreconditionFailed',
} as const;
