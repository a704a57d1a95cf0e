// How far the running steps of a run are, read from the server without touching the workflow:
// `describe()` lists the run's pending activities with the details of their last heartbeat, and
// Mooring's long activities heartbeat their progress (activities/heartbeat.ts: `what`, `bytes`,
// `of`, `elapsedMs`). The server keeps the latest details it received; the SDK sends them at most
// every 80% of the heartbeat timeout (8–12 s for backup steps), which is how often this changes.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';

export interface ActivityProgress {
  activityId: string;
  activityType: string;
  /** SCHEDULED, STARTED, CANCEL_REQUESTED, PAUSED… */
  state: string;
  attempt: number;
  /** What the step says it does ("upload of /var/backups/etcd/…"). */
  what?: string;
  bytes?: number;
  /** Total bytes of the transfer, when known. */
  of?: number;
  /** When the server got the last heartbeat (ISO 8601). */
  heartbeatAt?: string;
  /** Bytes per second: between two heartbeats this command saw, else the attempt's average. */
  bytesPerSecond?: number;
}

/** The run's pending activities and their last reported progress. */
export async function pendingActivities(client: Client, d: WorkflowExecutionDescription): Promise<ActivityProgress[]> {
  const out: ActivityProgress[] = [];
  for (const a of d.raw.pendingActivities ?? []) {
    let details: Record<string, unknown> = {};
    if (a.heartbeatDetails?.payloads?.length) {
      // Through the client's converter and codec, as the SDK decodes any payload; a detail that
      // does not decode (another codec key) leaves the step without figures rather than failing status.
      const v = await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, a.heartbeatDetails.payloads).catch(() => undefined);
      if (v && typeof v === 'object') details = v as Record<string, unknown>;
    }
    const num = (k: string) => (typeof details[k] === 'number' && Number.isFinite(details[k]) ? details[k] : undefined);
    const heartbeatMs = optionalTsToMs(a.lastHeartbeatTime);
    const p: ActivityProgress = {
      activityId: a.activityId ?? '', activityType: a.activityType?.name ?? '',
      state: String(a.state ?? '').replace(/^PENDING_ACTIVITY_STATE_/, ''), attempt: a.attempt ?? 1,
    };
    if (typeof details.what === 'string') p.what = details.what;
    const bytes = num('bytes');
    const of = num('of');
    const elapsedMs = num('elapsedMs');
    if (bytes !== undefined) p.bytes = bytes;
    if (of !== undefined && of > 0) p.of = of; // 0: the size is not known yet
    if (heartbeatMs !== undefined) p.heartbeatAt = new Date(heartbeatMs).toISOString();
    if (bytes !== undefined && elapsedMs) p.bytesPerSecond = (bytes * 1000) / elapsedMs;
    out.push(p);
  }
  return out;
}

/**
 * Replaces each transfer's average rate by the rate between the last two heartbeats this
 * follower saw (what the transfer does now, not since its SSH session opened).
 */
export class RateTracker {
  private readonly seen = new Map<string, { bytes: number; atMs: number; rate?: number }>();

  update(list: ActivityProgress[]): ActivityProgress[] {
    return list.map((p) => {
      if (p.bytes === undefined || !p.heartbeatAt) return p;
      const key = `${p.activityId}#${p.attempt}`;
      const atMs = Date.parse(p.heartbeatAt);
      const prev = this.seen.get(key);
      if (prev && atMs > prev.atMs && p.bytes >= prev.bytes) {
        const rate = ((p.bytes - prev.bytes) * 1000) / (atMs - prev.atMs);
        this.seen.set(key, { bytes: p.bytes, atMs, rate });
        return { ...p, bytesPerSecond: rate };
      }
      if (!prev || atMs > prev.atMs) this.seen.set(key, { bytes: p.bytes, atMs });
      return prev?.rate !== undefined && atMs === prev.atMs ? { ...p, bytesPerSecond: prev.rate } : p;
    });
  }
}
