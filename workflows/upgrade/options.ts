// Activity options of the upgrade runbook. Short heartbeats so a killed worker hands over in
// seconds. The wait for a restarted member is a retry loop with a bounded total (about two
// minutes): past it the member "did not come back" and the run stops there.
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../runbook/activity-options.js';

const retry = (maximumAttempts: number, maximumInterval = '10 seconds') => ({ initialInterval: '1 second', backoffCoefficient: 2, maximumInterval, maximumAttempts, nonRetryableErrorTypes: NON_RETRYABLE });

/** Reading versions and release lists. */
export const OBSERVE: ActivityOptions = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '5 seconds', retry: retry(6, '20 seconds') };

/** Copying a release's binaries (tens of MB per tool) into place. */
export const INSTALL: ActivityOptions = { startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry: retry(4, '30 seconds') };

/** move-leader, restart: each looks first, so a retry is harmless. */
export const CHANGE: ActivityOptions = { startToCloseTimeout: '2 minutes', heartbeatTimeout: '5 seconds', retry: retry(5) };

/** A restarted member coming back; the cluster version catching up; the members agreeing. */
export const COME_BACK: ActivityOptions = {
  startToCloseTimeout: '30 seconds', heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 1.5, maximumInterval: '3 seconds', maximumAttempts: 45, nonRetryableErrorTypes: NON_RETRYABLE },
};
