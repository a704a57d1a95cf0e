// TLS towards the Proxmox VE API, verification always on. Three ways, from the inventory:
// - nothing: the system's CAs (a PVE with an ACME / company certificate);
// - caFile: that CA instead (PVE's own pve-root-ca.pem, which signs each node's pve-ssl.pem);
// - fingerprint: the SHA-256 of the exact certificate, pinned (a self-signed certificate without
//   its CA). Chain checks cannot pass for such a certificate, so the pin replaces them: the socket
//   is refused before any request is written when the certificate differs.
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

export class PinMismatchError extends Error {
  readonly code = 'PROXMOX_PIN_MISMATCH';
  constructor(presented: string) {
    super(`the server presented a certificate with SHA-256 fingerprint ${presented}, not the pinned provider.proxmox.fingerprint`);
  }
}

export function normalizeFingerprint(f: string): string {
  return f.replace(/:/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/**
 * The dispatcher for one client, always our own undici Agent: without one, the npm undici's fetch
 * (proxmox-api's) hands requests to Node's global dispatcher, which on Node 24 is Node's bundled
 * undici 7 and refuses the package's requests ("invalid content-length header").
 */
export function tlsDispatcher(opts: { ca?: string; fingerprint?: string }): Agent {
  if (opts.fingerprint) {
    const want = normalizeFingerprint(opts.fingerprint);
    const connect = buildConnector({ rejectUnauthorized: false });
    return new Agent({
      connect: (o, cb) => connect(o, (err, socket) => {
        if (err || !socket) return cb(err ?? new Error('no socket'), null);
        const got = (socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        if (got === undefined) return cb(null, socket); // plain HTTP (the loopback fake): nothing to pin
        if (normalizeFingerprint(got) !== want) {
          socket.destroy();
          return cb(new PinMismatchError(got), null);
        }
        return cb(null, socket);
      }),
    });
  }
  if (opts.ca) return new Agent({ connect: { ca: opts.ca, rejectUnauthorized: true } });
  return new Agent({ connect: { rejectUnauthorized: true } });
}
