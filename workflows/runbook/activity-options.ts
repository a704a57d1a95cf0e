// Timeouts and retry policies for activity proxies. Short heartbeat timeouts make a killed
// worker's activity restart on another worker within seconds.
import type { ActivityOptions } from '@temporalio/workflow';

/** Errors no retry can fix: bad input, a host key that does not match its pin, refused auth. */
export const NON_RETRYABLE = ['InvalidInput', 'HostKeyMismatch', 'AuthenticationFailed', 'PreconditionFailed'];

export const READ_ONLY_SSH: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 6, nonRetryableErrorTypes: NON_RETRYABLE },
};
