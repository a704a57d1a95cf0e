// How the host phase reaches a provisioned host: the inventory's SSH user and key, the host's
// fixed address, and the host key the cloud phase gave it (pinned from the first contact, never
// trusted on first use). Where the inventory names a bastion, every connection goes through it,
// and the bastion's own key is pinned too: the inventory's, or the key of the provisioned host
// whose public or fixed address the bastion is (seed 002: a gateway's floating IP).
import { ApplicationFailure } from '@temporalio/activity';
import type { Inventory } from '../../config/schema.js';
import { withSession, type SshAccess, type SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import type { ProvisionedHost } from './context.js';

/** Everything a host-phase activity needs to reach any host of the cluster. */
export interface HostPhaseTarget {
  inventory: Inventory;
  hosts: ProvisionedHost[];
}

export function sshAccessFor(t: HostPhaseTarget): SshAccess {
  const { ssh } = t.inventory;
  const access: SshAccess = { user: ssh.user, privateKeyPath: ssh.privateKeyPath, connectTimeoutSeconds: ssh.connectTimeoutSeconds };
  if (ssh.bastion) {
    const b = ssh.bastion;
    const hostKey = b.hostKey ?? t.hosts.find((h) => h.publicAddress === b.host || h.address === b.host)?.hostKey;
    if (!hostKey) {
      throw ApplicationFailure.nonRetryable(`ssh.bastion.hostKey: the bastion ${b.host} has no pinned host key and is no provisioned host's address: give its key (ssh-keyscan -t ed25519, checked out of band)`, 'InvalidInput');
    }
    access.bastion = { host: b.host, port: b.port, hostKey, ...(b.user ? { user: b.user } : {}) };
  }
  return access;
}

export function provisionedHost(t: HostPhaseTarget, name: string): ProvisionedHost {
  const h = t.hosts.find((x) => x.name === name);
  if (!h) throw ApplicationFailure.nonRetryable(`hosts: no provisioned host "${name}" (the cloud phase returned ${t.hosts.map((x) => x.name).join(', ')})`, 'InvalidInput');
  if (!h.hostKey) throw ApplicationFailure.nonRetryable(`hosts[${name}].hostKey: empty; the host phase never trusts a key on first use`, 'InvalidInput');
  return h;
}

/** One SSH session to the named host for `fn`, closed afterwards. */
export function onHost<T>(deps: SshDeps, t: HostPhaseTarget, name: string, signal: AbortSignal, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const h = provisionedHost(t, name);
  const node = [...t.inventory.gateways, ...t.inventory.masters, ...t.inventory.workers, ...(t.inventory.etcd.topology === 'external' ? t.inventory.etcd.members : [])].find((n) => n.name === name);
  return withSession(deps, sshAccessFor(t), { name, ip: h.address, sshPort: node?.sshPort ?? 22, hostKey: h.hostKey, where: `hosts[${name}]` }, signal, fn);
}
