// Activity options of the recovery runbooks: short heartbeats so a killed worker hands over in
// seconds; waits (health, learner catch-up) are retry loops with a bounded total.
// CHANGE also carries the steps whose time follows the database's size: finding and checking
// snapshots (sha256 + `snapshot status` of each file read) and the restore. With an 8 GB database
// (etcd's largest supported quota) one check reads 8 GB, so the start-to-close is an hour: it only
// bounds a step that keeps heartbeating; a dead worker is noticed by the 5 s heartbeat timeout,
// and every remote command has its own timeout sized by the bytes it reads (sizedTimeoutMs).
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../runbook/activity-options.js';

export const CHANGE: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

export const WAIT: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 1.5, maximumInterval: '3 seconds', maximumAttempts: 80, nonRetryableErrorTypes: NON_RETRYABLE },
};
