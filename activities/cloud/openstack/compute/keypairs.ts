// Nova key pairs: GET /os-keypairs/{name}, POST /os-keypairs (import of a public key). Key pairs
// belong to the user, not the project, and carry no tags: the name is the key.
import type { OpenStackClient } from '../client.js';

export interface Keypair { name: string; public_key: string; fingerprint: string; type?: string }

export async function getKeypair(c: OpenStackClient, name: string): Promise<Keypair | undefined> {
  const r = await c.request<{ keypair: Keypair } | undefined>('compute', 'GET', `/os-keypairs/${encodeURIComponent(name)}`, { allowNotFound: true });
  return r.body?.keypair;
}

export async function importKeypair(c: OpenStackClient, name: string, publicKey: string): Promise<Keypair> {
  return (await c.request<{ keypair: Keypair }>('compute', 'POST', '/os-keypairs', { body: { keypair: { name, public_key: publicKey, type: 'ssh' } } })).body.keypair;
}

export async function deleteKeypair(c: OpenStackClient, name: string): Promise<void> {
  await c.request('compute', 'DELETE', `/os-keypairs/${encodeURIComponent(name)}`, { allowNotFound: true });
}
