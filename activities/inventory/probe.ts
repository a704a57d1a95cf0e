// Activity: connect to one host and collect its facts. Read-only, so a retry is harmless.
import type { HostFacts } from './facts.js';
import { FACTS_SCRIPT, parseFacts } from './facts.js';
import type { SshDeps, SshAccess, HostRef } from '../ssh/access.js';
import { withSession } from '../ssh/access.js';
import { heartbeatWhile } from '../heartbeat.js';

export interface ProbeHostInput {
  host: HostRef;
  ssh: SshAccess;
  expectedPorts: number[];
}

export function createInventoryActivities(deps: SshDeps) {
  return {
    async probeHost(input: ProbeHostInput): Promise<HostFacts> {
      return heartbeatWhile(`probing ${input.host.name}`, (signal) =>
        withSession(deps, input.ssh, input.host, signal, async (session) => {
          const out = await session.run(FACTS_SCRIPT, { timeoutMs: 60_000, signal });
          return parseFacts(out, input.host, input.expectedPorts);
        }));
    },
  };
}
