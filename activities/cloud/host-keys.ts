// SSH host keys Mooring makes for the hosts it creates, so their keys are pinned before the first
// connection (no trust on first use). Each key is DERIVED, not stored: HKDF-SHA256 over a secret
// seed (a SecretRef resolved inside the activity) and "<cluster>/<host>" gives the ed25519 private
// key. So:
//  - the private key never enters workflow history: the activity that boots the server derives it,
//    puts it in the server's cloud-init user data, and returns only the public key;
//  - a retry after a crash between create and record derives the same key, so the user data of a
//    server made by the lost attempt matches what the run records;
//  - a later run (the host phase, a node replacement) re-derives the same public key from the same
//    seed and host name without any key store to back up or leak.
// Rotating the seed changes every key a later create derives; existing hosts keep theirs.
import { createHash, createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const INFO_VERSION = 'mooring ssh host key v1';

export interface HostKeyPair {
  /** "ssh-ed25519 AAAA… <comment>": what the inventory and the run keep. */
  publicKey: string;
  /** OpenSSH private key file text: only ever inside the activity and the server's user data. */
  privateKey: string;
}

function sshString(b: Buffer | string): Buffer {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** The 32-byte ed25519 seed for one host, from the cluster's host-key seed secret. */
export function hostKeySeed(secret: Buffer, cluster: string, host: string): Buffer {
  if (secret.length < 16) throw new Error('the host-key seed is shorter than 16 bytes: use 32 random bytes');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(INFO_VERSION), Buffer.from(`${cluster}/${host}`), 32));
}

/** The ed25519 key pair of a 32-byte seed, in OpenSSH formats (public line, private key file). */
export function ed25519FromSeed(seed: Buffer, comment: string): HostKeyPair {
  if (seed.length !== 32) throw new Error('an ed25519 seed is 32 bytes');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pub = Buffer.from(createPublicKey(priv).export({ format: 'jwk' }).x as string, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // openssh-key-v1, unencrypted (sshd reads host keys without a passphrase). The check integers
  // come from the seed so the same host gets the same bytes on every derivation.
  const check = createHash('sha256').update(seed).digest().subarray(0, 4);
  let section = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad: number[] = [];
  for (let i = 1; (section.length + pad.length) % 8 !== 0; i++) pad.push(i);
  section = Buffer.concat([section, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), Buffer.from([0, 0, 0, 1]), sshString(blob), sshString(section)]);
  const b64 = body.toString('base64').match(/.{1,70}/g)!.join('\n');
  return { publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}`, privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n` };
}

export function deriveHostKey(secret: Buffer, cluster: string, host: string): HostKeyPair {
  return ed25519FromSeed(hostKeySeed(secret, cluster, host), `root@${host}`);
}

/** The public key without its comment, as the inventory's `hostKey` and known_hosts compare it. */
export function publicKeyOnly(line: string): string {
  return line.split(/\s+/).slice(0, 2).join(' ');
}
