// SIMULATED: how the cloud fakes make long-running work asynchronous (Nova BUILD→ACTIVE, Cinder
// creating→available, Proxmox task UPIDs running→stopped). Real clouds finish such work after a
// while, so a client must poll; the fakes finish it after a number of observations (reads of that
// resource) or after some milliseconds, whichever comes first. Observation counts make tests
// deterministic; milliseconds make a lab that nobody polls still converge.

export interface ProgressOptions {
  /** Reads of the resource that still see the transitional state (default: not counted). */
  afterPolls?: number;
  /** Milliseconds after which the work is done regardless of reads. */
  afterMs?: number;
}

/** When neither is given: done this many milliseconds after the work started (the fakes' default timing). */
export const DEFAULT_PROGRESS_MS = 150;

export class Progression {
  private polls = 0;
  private readonly startedAt = Date.now();
  private readonly afterPolls: number;
  private readonly afterMs: number;

  constructor(opts: ProgressOptions = {}, fallbackMs = DEFAULT_PROGRESS_MS) {
    this.afterPolls = opts.afterPolls ?? Infinity;
    // Poll-driven when only afterPolls is given, so a slow test machine cannot change the outcome.
    this.afterMs = opts.afterMs ?? (opts.afterPolls !== undefined ? Infinity : fallbackMs);
    if (this.afterPolls < 0 || this.afterMs < 0) throw new Error('progress: afterPolls and afterMs must not be negative');
  }

  /** Done by the clock alone (used when settling state before every request). */
  get done(): boolean {
    return this.polls >= this.afterPolls || Date.now() - this.startedAt >= this.afterMs;
  }

  /** A client read the resource: true when it should now see the finished state. */
  observe(): boolean {
    if (this.done) return true;
    this.polls++;
    return false;
  }
}

export function validateProgress(name: string, o: ProgressOptions | undefined): ProgressOptions | undefined {
  if (o === undefined) return undefined;
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'afterPolls' && k !== 'afterMs') throw new Error(`${name}.${k}: unknown (use afterPolls or afterMs)`);
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${name}.${k}: ${JSON.stringify(v)} must be a number >= 0`);
  }
  return o;
}
