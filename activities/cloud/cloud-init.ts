// Cloud-init user data for a host Mooring creates: its host name and its SSH host key (cloud-init's
// `ssh_keys` with ed25519_private/ed25519_public; `ssh_deletekeys` drops the image's keys and
// `ssh_genkeytypes: []` stops cloud-init making others), so sshd presents exactly the key the run
// recorded. The result holds a private key: it goes to the cloud API and nowhere else.
import type { HostKeyPair } from './host-keys.js';

const indent = (text: string, n: number) => text.trimEnd().split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');

export function cloudInitUserData(host: { name: string; hostKey: HostKeyPair }): string {
  // Hand-written YAML: every value here is made by Mooring (a validated DNS label, base64 keys).
  return [
    '#cloud-config',
    `hostname: ${host.name}`,
    'preserve_hostname: false',
    'ssh_deletekeys: true',
    'ssh_genkeytypes: []',
    'ssh_keys:',
    '  ed25519_private: |',
    indent(host.hostKey.privateKey, 4),
    `  ed25519_public: ${host.hostKey.publicKey}`,
    '',
  ].join('\n');
}
