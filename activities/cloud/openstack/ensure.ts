// Look up before create: the heart of the cloud phase's idempotence. A resource is found by its
// name (every name is "<cluster>-…", unique in the project), so an attempt that created it and
// crashed before its result was recorded (or before tagging it) leaves nothing to duplicate: the
// retry finds it, tags it if the tag is missing, and records it.
import { ApplicationFailure } from '@temporalio/common';
import { CloudInventoryError } from './errors.js';
import { createKey, mayCreate, UNAPPROVED_CREATE } from './plan/approved.js';

export interface Ensured<T> { resource: T; created: boolean }

/**
 * Refuses to create `key` unless the approved list names it (plan/approved.ts): called right
 * before each create, after the look-up found nothing, so nothing unapproved is ever made.
 */
export function assertMayCreate(approved: readonly string[] | undefined, key: string): void {
  if (mayCreate(approved, key)) return;
  throw ApplicationFailure.create({
    type: UNAPPROVED_CREATE, nonRetryable: true, details: [{ key }],
    message: `${key} is missing, but it was not missing at the check the approval was given on (it was deleted since): not created without a new approval`,
  });
}

export async function ensureByName<T extends { id: string; name: string; tags?: string[] }>(o: {
  kind: string;
  name: string;
  tag: string;
  find: () => Promise<T[]>;
  create: () => Promise<T>;
  /** Sets the tags when the resource lacks the cluster tag (Neutron's tag API). */
  setTags?: (r: T, tags: string[]) => Promise<unknown>;
  /** What the approval covers (plan/approved.ts); undefined: anything missing may be created. */
  approved?: readonly string[];
}): Promise<Ensured<T>> {
  const found = (await o.find()).filter((r) => r.name === o.name);
  if (found.length > 1) {
    throw new CloudInventoryError(`${found.length} ${o.kind}s are named ${o.name} (${found.map((r) => r.id).join(', ')}): Mooring cannot tell which is the cluster's; delete the extra one`);
  }
  let r = found[0];
  const created = r === undefined;
  if (created) assertMayCreate(o.approved, createKey(o.kind, o.name));
  r ??= await o.create();
  if (o.setTags && !(r.tags ?? []).includes(o.tag)) {
    await o.setTags(r, [...new Set([...(r.tags ?? []), o.tag])]);
    r = { ...r, tags: [...(r.tags ?? []), o.tag] };
  }
  return { resource: r, created };
}
