// SIMULATED: fault injection for the lab's cloud API fakes (OpenStack, Proxmox VE).
// A rule matches requests by method and path and replaces the fake's answer with an error status,
// a hang (no answer until the fake closes), a dropped connection, or a delay. Rules come from the
// test process (`faults.inject`) or from another process (`POST /_fake/faults`), so both are
// validated the same way and a bad rule is refused with the field it got wrong.

export interface FaultRule {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Matched against the request path (no query string); a string is a RegExp source. */
  pathPattern: string | RegExp;
  /** How many matching requests get the fault: a count (default 1) or 'forever'. */
  times?: number | 'forever';
  /** Let this many matching requests through untouched before the fault starts. */
  skip?: number;
  /** Answer with this 4xx/5xx status, in the faked service's own error body shape. */
  status?: number;
  /** Sent as `Retry-After` (seconds), what a real 429/503 carries. */
  retryAfterSeconds?: number;
  /** Replaces the default error message. */
  message?: string;
  /** Never answer; the request is released only when the fake closes (or the client gives up). */
  hang?: boolean;
  /** Destroy the connection without an answer (a reset mid-request). */
  drop?: boolean;
  /** Wait this long, then answer normally (a slow API, for client timeouts that should not trip). */
  delayMs?: number;
}

export type FaultAction =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'delay'; delayMs: number };

export interface ActiveFault {
  id: string;
  method?: string;
  pathPattern: string;
  action: FaultAction;
  /** Remaining hits (Infinity for 'forever'). */
  remaining: number;
  skip: number;
  hits: number;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Validates a rule from code or JSON; the error names the field and says what would be valid. */
export function parseFaultRule(input: unknown): { method?: string; pattern: RegExp; times: number; skip: number; action: FaultAction } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('fault rule must be an object');
  const r = input as Record<string, unknown>;
  const known = new Set(['method', 'pathPattern', 'times', 'skip', 'status', 'retryAfterSeconds', 'message', 'hang', 'drop', 'delayMs']);
  for (const k of Object.keys(r)) if (!known.has(k)) throw new Error(`fault rule: unknown field "${k}" (known: ${[...known].join(', ')})`);
  let method: string | undefined;
  if (r.method !== undefined) {
    if (typeof r.method !== 'string' || !HTTP_METHODS.has(r.method.toUpperCase())) throw new Error(`fault rule.method: ${JSON.stringify(r.method)} is not an HTTP method`);
    method = r.method.toUpperCase();
  }
  let pattern: RegExp;
  if (r.pathPattern instanceof RegExp) pattern = r.pathPattern;
  else if (typeof r.pathPattern === 'string' && r.pathPattern !== '') {
    try { pattern = new RegExp(r.pathPattern); } catch (e) { throw new Error(`fault rule.pathPattern: not a valid regular expression (${(e as Error).message})`); }
  } else throw new Error('fault rule.pathPattern: required, a regular expression (string or RegExp) matched against the request path');
  let times = 1;
  if (r.times === 'forever') times = Infinity;
  else if (r.times !== undefined) {
    if (typeof r.times !== 'number' || !Number.isInteger(r.times) || r.times < 1) throw new Error(`fault rule.times: ${JSON.stringify(r.times)} must be a positive integer or "forever"`);
    times = r.times;
  }
  let skip = 0;
  if (r.skip !== undefined) {
    if (typeof r.skip !== 'number' || !Number.isInteger(r.skip) || r.skip < 0) throw new Error(`fault rule.skip: ${JSON.stringify(r.skip)} must be a non-negative integer`);
    skip = r.skip;
  }
  const kinds = ['status', 'hang', 'drop', 'delayMs'].filter((k) => r[k] !== undefined && r[k] !== false);
  if (kinds.length !== 1) throw new Error(`fault rule: give exactly one of status, hang, drop, delayMs (got ${kinds.length ? kinds.join(', ') : 'none'})`);
  let action: FaultAction;
  if (r.status !== undefined) {
    if (typeof r.status !== 'number' || !Number.isInteger(r.status) || r.status < 400 || r.status > 599) throw new Error(`fault rule.status: ${JSON.stringify(r.status)} must be an HTTP error status 400-599 (e.g. 409, 429, 500, 503)`);
    action = { kind: 'status', status: r.status };
    if (r.retryAfterSeconds !== undefined) {
      if (typeof r.retryAfterSeconds !== 'number' || !Number.isInteger(r.retryAfterSeconds) || r.retryAfterSeconds < 0) throw new Error(`fault rule.retryAfterSeconds: ${JSON.stringify(r.retryAfterSeconds)} must be a non-negative integer`);
      action.retryAfterSeconds = r.retryAfterSeconds;
    }
    if (r.message !== undefined) {
      if (typeof r.message !== 'string') throw new Error('fault rule.message: must be a string');
      action.message = r.message;
    }
  } else if (r.hang === true) action = { kind: 'hang' };
  else if (r.drop === true) action = { kind: 'drop' };
  else if (typeof r.delayMs === 'number' && Number.isFinite(r.delayMs) && r.delayMs >= 0) action = { kind: 'delay', delayMs: r.delayMs };
  else throw new Error('fault rule: hang and drop must be true, delayMs a non-negative number of milliseconds');
  if (action.kind !== 'status' && (r.retryAfterSeconds !== undefined || r.message !== undefined)) throw new Error('fault rule: retryAfterSeconds and message go only with status');
  return { ...(method ? { method } : {}), pattern, times, skip, action };
}

/** The rules in force on one fake; `take` consumes a hit, so `times` counts answered requests. */
export class FaultInjector {
  private readonly rules: (ActiveFault & { pattern: RegExp })[] = [];
  private nextId = 1;

  inject(rule: FaultRule): string {
    const p = parseFaultRule(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ id, ...(p.method ? { method: p.method } : {}), pathPattern: p.pattern.source, pattern: p.pattern, action: p.action, remaining: p.times, skip: p.skip, hits: 0 });
    return id;
  }

  /** Removes one rule, or all of them. Returns how many were removed. */
  clear(id?: string): number {
    if (id === undefined) return this.rules.splice(0).length;
    const i = this.rules.findIndex((r) => r.id === id);
    return i < 0 ? 0 : this.rules.splice(i, 1).length;
  }

  list(): ActiveFault[] {
    return this.rules.map(({ pattern: _pattern, ...r }) => ({ ...r, remaining: r.remaining }));
  }

  /** The first rule matching this request, consumed by one hit; spent rules are removed. */
  take(method: string, path: string): FaultAction | undefined {
    for (const r of this.rules) {
      if (r.method && r.method !== method.toUpperCase()) continue;
      if (!r.pattern.test(path)) continue;
      if (r.skip > 0) { r.skip--; continue; }
      r.hits++;
      r.remaining--;
      if (r.remaining <= 0) this.rules.splice(this.rules.indexOf(r), 1);
      return r.action;
    }
    return undefined;
  }
}
