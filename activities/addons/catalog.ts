// What the host phase installs after the joins, and what it refuses: the addons that ship with
// Mooring (vendored under addons/ at the repository root, see addons/README.md) and the rule for
// a CNI that does not ship. Pure: the provision workflows import it to refuse bad input at the
// plan, before anything is touched; the activities import it to find the files.
import type { Inventory } from '../../config/schema.js';

export interface ShippedAddon {
  /** What the result and the progress call it. */
  title: string;
  version: string;
  /** The manifest under addons/ (byte-exact upstream copy). */
  file: string;
  /** Its sha256 as vendored (scripts/vendor-addons.sh checks the upstream file against the same sum). */
  sha256: string;
}

/** The one CNI whose manifest ships (its net-conf Network is rendered from kubernetes.podSubnet). */
export const FLANNEL: ShippedAddon = { title: 'CNI flannel', version: 'v0.28.10', file: 'flannel/v0.28.10/kube-flannel.yml', sha256: '944a3c1f925f117727a1b7272a323c80965da642498397ec7e6ea9bef0f9e6c5' };

/** local-path-provisioner as shipped: volumes under /opt/local-path-provisioner, StorageClass local-path. */
export const LOCAL_PATH: ShippedAddon & { storageClass: string } = {
  title: 'local-path storage', version: 'v0.0.30', file: 'local-path-storage/v0.0.30/local-path-storage.yaml', storageClass: 'local-path',
  sha256: 'fe682186b00400fe7e2b72bae16f63e47a56a6dcc677938c6642139ef670045e',
};

/** The addons the host phase applies, in order: the CNI first (nothing but host-network pods runs before it). */
export const ADDONS = ['cni', 'local-path'] as const;
export type AddonName = (typeof ADDONS)[number];

/**
 * Why provision cannot install the inventory's CNI, or undefined when it can: only flannel's
 * manifest ships; any other needs the operator's manifest in kubernetes.cniManifest.
 */
export function cniRefusal(k: Pick<Inventory['kubernetes'], 'cni' | 'cniManifest'>): string | undefined {
  if (k.cni === 'flannel' || k.cniManifest) return undefined;
  return `kubernetes.cni: ${k.cni}'s manifest does not ship with Mooring (only flannel's, ${FLANNEL.version}); `
    + `download the ${k.cni}.yaml of your release and set kubernetes.cniManifest to its absolute path on the machine running the worker, or set kubernetes.cni: flannel`;
}

/** How the result names the CNI the run applies: the shipped flannel, or the operator's manifest. */
export function cniTitle(k: Pick<Inventory['kubernetes'], 'cni' | 'cniManifest'>): string {
  return k.cniManifest ? `CNI ${k.cni} (${k.cniManifest})` : `${FLANNEL.title} ${FLANNEL.version}`;
}
