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

/** kubeadm upgrade plan/apply/node: minutes on a loaded host; each reads first, so a retry is harmless. */
export const KUBEADM: ActivityOptions = { startToCloseTimeout: '35 minutes', heartbeatTimeout: '15 seconds', retry: retry(3, '30 seconds') };

/** cordon, uncordon, a kubelet restart, a node's state: short, and each looks before it acts. */
export const NODE: ActivityOptions = { startToCloseTimeout: '3 minutes', heartbeatTimeout: '10 seconds', retry: retry(5) };

/** One drain: kubectl's own --timeout bounds it (kubernetes.upgrade.drainTimeoutSeconds, at most a day). */
export const DRAIN: ActivityOptions = { startToCloseTimeout: '25 hours', heartbeatTimeout: '15 seconds', retry: retry(3) };

/** A restarted kubelet's node Ready on the release: about three minutes in all. */
export const NODE_BACK: ActivityOptions = {
  startToCloseTimeout: '1 minute', heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 1.5, maximumInterval: '5 seconds', maximumAttempts: 40, nonRetryableErrorTypes: NON_RETRYABLE },
};
