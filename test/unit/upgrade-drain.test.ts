// Reading why a drain did not finish from kubectl drain's own output (activities/kubernetes-upgrade/nodes.ts).
// The lines are kubectl 1.35's, as printed against the lab's real apiserver with a
// PodDisruptionBudget minAvailable 1 over two pods, one already evicted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evictionRefusals } from '../../activities/kubernetes-upgrade/nodes.js';

const BLOCKED = `node/worker-1 already cordoned
evicting pod default/web-f599b7565-84h2v
error when evicting pods/"web-f599b7565-84h2v" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.
evicting pod default/web-f599b7565-84h2v
error when evicting pods/"web-f599b7565-84h2v" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.
There are pending pods in node "worker-1" when an error occurred: error when evicting pods/"web-f599b7565-84h2v" -n "default": global timeout reached: 30s
pod/web-f599b7565-84h2v
error: unable to drain node "worker-1" due to error: error when evicting pods/"web-f599b7565-84h2v" -n "default": global timeout reached: 30s, continuing command...
There are pending nodes to be drained:
 worker-1
error when evicting pods/"web-f599b7565-84h2v" -n "default": global timeout reached: 30s`.split('\n');

describe('evictionRefusals', () => {
  it('names each refused pod once with the apiserver\'s reason (the budget), not the timeout', () => {
    assert.deepEqual(evictionRefusals(BLOCKED), ['default/web-f599b7565-84h2v: Cannot evict pod as it would violate the pod\'s disruption budget.']);
  });
  it('keeps different pods and reasons apart', () => {
    assert.deepEqual(evictionRefusals([
      'error when evicting pods/"a" -n "x" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
      'error when evicting pods/"b" -n "y" (will retry after 5s): Too many requests',
    ]), ['x/a: Cannot evict pod as it would violate the pod\'s disruption budget.', 'y/b: Too many requests']);
  });
  it('finds nothing in a drain that finished or timed out without a refusal', () => {
    assert.deepEqual(evictionRefusals(['node/worker-1 cordoned', 'evicting pod default/web-1', 'pod/web-1 evicted', 'node/worker-1 drained']), []);
    assert.deepEqual(evictionRefusals(BLOCKED.filter((l) => !l.includes('will retry'))), []);
  });
});
