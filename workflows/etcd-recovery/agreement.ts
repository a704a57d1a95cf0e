// After a membership change, every member must be healthy and name one cluster ID. A member fresh
// from a multi-GB snapshot transfer, or on a loaded host, can miss one 3 s health check: that is
// waited out (bounded by WAIT's retries); two cluster IDs stop at once (the activity says so).
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { MooringActivities } from '../../activities/index.js';
import type { EtcdMemberRef, EtcdTarget, MemberView } from '../../activities/etcd-recovery/context.js';
import { CHANGE, WAIT } from './options.js';

const change = proxyActivities<MooringActivities>(CHANGE);
const wait = proxyActivities<MooringActivities>(WAIT);

/** The members' views once they agree; when patience runs out, one more look, for the caller to report. */
export async function waitForAgreement(target: EtcdTarget, members: EtcdMemberRef[]): Promise<MemberView[]> {
  try {
    return await wait.expectEtcdAgreement({ target, members });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return change.observeEtcd({ target, members });
  }
}
