// What the cloud phase may create: the resources the read-only check found missing, which the
// approval (or its "nothing to create" skip) was about. A resource that goes missing after the
// check (someone deletes a server or a floating IP while the gate waits, or between the check and
// the cloud phase) is not in that list, so it is refused at its create instead of being made with
// no person having seen it; the runbook then checks again and asks. Keys are the check's own
// "<kind> <name>" strings ("server paas-master-1", "floating IP for paas-gateway-1-port").
// Import-free, so workflows may use it.

/** The failure type of a refused create (non-retryable: only a new approval can allow it). */
export const UNAPPROVED_CREATE = 'OpenStackUnapprovedCreate';

export const createKey = (kind: string, name: string): string => `${kind} ${name}`;

/** The key of a floating IP: the check names it by the port it is bound to. */
export const floatingIpKey = (portName: string): string => createKey('floating IP for', portName);

/**
 * True when `key` may be created. `approved` undefined: no list was given (a run started before
 * the list existed, or the cloud phase started on its own), everything missing may be created.
 */
export function mayCreate(approved: readonly string[] | undefined, key: string): boolean {
  return approved === undefined || approved.includes(key);
}
