// Proxmox VE worker tasks: GET /nodes/{node}/tasks/{upid}/status until "stopped", then exitstatus:
// "OK"; "WARNINGS: N" (done, with N warnings in its log: a success, the warnings shown); anything
// else is the error, reported with the last lines of /log. The node is part of the UPID, so a UPID
// kept in heartbeat details is all a retry needs to resume polling the same task.
import type { PveApi } from '../client.js';
import { ProxmoxTaskError } from '../errors.js';

export interface TaskOutcome { upid: string; exitstatus: string; warnings: string[] }

export function upidNode(upid: string): string {
  const m = /^UPID:([^:]+):/.exec(upid);
  if (!m) throw new Error(`not a UPID: ${upid}`);
  return m[1] as string;
}

export async function taskStatus(api: PveApi, upid: string): Promise<{ status: string; exitstatus?: string }> {
  return (await api.nodes.$(upidNode(upid)).tasks.$(upid).status.$get()) as unknown as { status: string; exitstatus?: string };
}

export async function taskLog(api: PveApi, upid: string): Promise<string[]> {
  const lines = (await api.nodes.$(upidNode(upid)).tasks.$(upid).log.$get({ limit: 1000 })) as unknown as { n: number; t: string }[];
  return lines.map((l) => l.t);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason as Error); }, { once: true });
});

/** Polls a task until it stops; throws ProxmoxTaskError (with the log's tail) when it failed. */
export async function waitTask(api: PveApi, upid: string, what: string, o: { pollMs: number; signal?: AbortSignal; tailLines?: number }): Promise<TaskOutcome> {
  for (;;) {
    const s = await taskStatus(api, upid);
    if (s.status === 'stopped') {
      const exit = s.exitstatus ?? '';
      if (exit === 'OK') return { upid, exitstatus: exit, warnings: [] };
      const log = await taskLog(api, upid).catch(() => [] as string[]);
      if (/^WARNINGS: \d+$/.test(exit)) return { upid, exitstatus: exit, warnings: log.filter((l) => /^WARN/.test(l)) };
      throw new ProxmoxTaskError(upid, exit, log.slice(-(o.tailLines ?? 10)), what);
    }
    await sleep(o.pollMs, o.signal);
  }
}
