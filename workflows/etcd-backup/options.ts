// Activity options of the backup runbooks. A snapshot is tried twice on a member before the
// runbook moves to the next one; an upload is retried for a few minutes before the run is
// reported degraded (the snapshot stays on the node).
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../runbook/activity-options.js';

// Sized for an 8 GB database: `snapshot save`, then the appended-hash check, `snapshot status`
// and a sha256 of the whole file, each reading 8 GB; heartbeats every second carry the bytes done.
export const SNAPSHOT: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE },
};

export const UPLOAD: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
};

export const RETENTION: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
};

export const VERIFY: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};
