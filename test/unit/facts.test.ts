import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { FACTS_SCRIPT, listeningOn, parseFacts } from '../../activities/inventory/facts.js';

describe('host facts', () => {
  it('finds ports bound on the host address or a wildcard, not on other addresses', () => {
    const ss = [
      'LISTEN 0 4096 10.0.0.5:2379 0.0.0.0:*',
      'LISTEN 0 4096 10.0.0.6:2380 0.0.0.0:*',
      'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*',
      'LISTEN 0 128 [::]:6443 [::]:*',
      'LISTEN 0 128 127.0.0.1:10250 0.0.0.0:*',
    ].join('\n');
    assert.deepEqual([...listeningOn(ss, '10.0.0.5')].sort((a, b) => a - b), [22, 2379, 6443]);
  });

  it('parses the facts script as run by the real local shell', () => {
    const out = execFileSync('/bin/bash', ['-c', FACTS_SCRIPT]).toString();
    const f = parseFacts(out, { name: 'here', ip: '127.0.0.1' }, [1]);
    assert.match(f.kernel, /^Linux /);
    assert.ok(f.uptimeSeconds > 0);
    assert.ok(f.disk.sizeBytes > f.disk.availBytes && f.disk.availBytes > 0);
    assert.deepEqual(f.freePorts, [1]);
  });

  it('refuses output that is not the script\'s', () => {
    assert.throws(() => parseFacts('garbage', { name: 'x', ip: '1.2.3.4' }, []), /unexpected output/);
  });
});
