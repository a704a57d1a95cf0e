// The cloud-init vendor data that pins a VM's SSH host key, as a snippet file on a Proxmox file
// storage that the worker has mounted (PVE's API cannot upload snippets). PVE passes it to the VM
// with `cicustom: vendor=<storage>:snippets/<file>`; vendor data merges under the user data PVE
// generates from ciuser/sshkeys/ipconfig0, so both apply. The file holds a private key: written
// 0600 through a temporary name and renamed, so a VM never boots on half a file.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export function snippetFile(cluster: string, host: string): string {
  return `mooring-${cluster}-${host}.yaml`;
}

export function snippetVolume(storage: string, cluster: string, host: string): string {
  return `${storage}:snippets/${snippetFile(cluster, host)}`;
}

/** Writes the snippet when its content differs; true when it wrote. */
export async function writeSnippet(localDir: string, cluster: string, host: string, content: string): Promise<boolean> {
  const dir = join(localDir, 'snippets');
  const path = join(dir, snippetFile(cluster, host));
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
  return true;
}

export async function removeSnippet(localDir: string, cluster: string, host: string): Promise<void> {
  await rm(join(localDir, 'snippets', snippetFile(cluster, host)), { force: true });
}
