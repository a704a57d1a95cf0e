// Activity options of the recovery runbooks: short heartbeats so a killed worker hands over in
// seconds; waits (health, learner catch-up) are retry loops with a bounded total.
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../runbook/activity-options.js';

export const CHANGE: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

export const WAIT: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 1.5, maximumInterval: '3 seconds', maximumAttempts: 80, nonRetryableErrorTypes: NON_RETRYABLE },
};
