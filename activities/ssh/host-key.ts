// Host-key pinning: a host must present exactly the key the inventory pins.
import { createHash } from 'node:crypto';

export class HostKeyMismatchError extends Error {
  override readonly name = 'HostKeyMismatch';
}

/** The base64 blob of an OpenSSH public key line ("ssh-ed25519 AAAA... comment"). */
export function keyBlob(line: string): Buffer {
  const b64 = line.trim().split(/\s+/)[1];
  if (!b64) throw new HostKeyMismatchError(`pinned host key "${line}" is not an OpenSSH public key line`);
  return Buffer.from(b64, 'base64');
}

/** OpenSSH-style fingerprint, as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Compares a presented key with the pinned one; returns null when they match, else a message saying what to do. */
export function checkHostKey(host: string, pinned: string | undefined, presented: Buffer, where: string): string | null {
  if (!pinned) {
    return `${host} has no pinned host key (${where}.hostKey): it presented ${fingerprint(presented)}. ` +
      `Check that fingerprint out of band, then add the key from \`ssh-keyscan -t ed25519 ${host}\` to ${where}.hostKey.`;
  }
  const expected = keyBlob(pinned);
  if (expected.equals(presented)) return null;
  return `${host} presented host key ${fingerprint(presented)} but ${where}.hostKey pins ${fingerprint(expected)}. ` +
    'If the host was rebuilt, verify the new key out of band and update the inventory; otherwise treat this as a possible man-in-the-middle and stop.';
}
