// Default approval timeouts of the recoveries (`--approval-timeout` overrides them). Pure and
// import-free, so the CLI's help can show them without loading the workflow SDK.
// Follower and leader: the cluster works with one member less; an hour lets on-call reach a
// second person, and longer waits mostly approve a picture nobody looked at recently. Majority:
// quorum is lost, so the Kubernetes API is down while the gate waits; after 30 minutes people are
// usually working on the hosts by hand, and a late approval would restore a snapshot in the middle
// of that work.
export const DEFAULT_APPROVAL_TIMEOUT_MS = { follower: 3_600_000, leader: 3_600_000, majority: 1_800_000 } as const;
