// A netns lab's whole state kept as a copy of its directory, taken while the lab is down, and put
// back to start again from the same cluster: the crash matrix of an upgrade hop needs a cluster at
// the hop's start for every case, and `kubeadm init` + joins on a fresh lab cost more than a copy
// and an `up` of the copy (which restarts every node's processes from their files: sshd,
// keepalived, HAProxy, the SIMULATED kubelet and the static pods it runs: real etcd with its data,
// real kube-apiserver, controller-manager, scheduler). Same path, same layout: the lab's files name
// absolute paths in its directory (the inventory's key, the release source), and its namespaces
// and loopback entries are the layout's.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { execFileP } from './processes.js';

/** What a saved lab needs of the lab it was copied from: its directory and a way to stop it. */
export interface DownableLab { readonly dir: string; down(): Promise<void> }

/** Brings `lab` down (every process of it stopped, so the files are still) and copies its directory to `to`. */
export async function saveLab(lab: DownableLab, to: string): Promise<void> {
  await lab.down();
  rmSync(to, { recursive: true, force: true });
  mkdirSync(dirname(to), { recursive: true });
  // cp -a: links (kubeadm into the build cache), modes (keys 0600) and sockets as they are.
  await execFileP('cp', ['-a', '--', lab.dir, to]);
}

/** Brings `lab` down and replaces its directory with the copy in `from`; `up` then starts from it. */
export async function restoreLab(lab: DownableLab, from: string): Promise<void> {
  if (!existsSync(from)) throw new Error(`no saved lab in ${from}`);
  await lab.down();
  rmSync(lab.dir, { recursive: true, force: true });
  await execFileP('cp', ['-a', '--', from, lab.dir]);
}
