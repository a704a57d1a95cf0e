// Every crash matrix that `npm run test:crash` runs, by file (its name in dist/test/crash/ without
// .js), with each scenario's number of cases, so MOORING_CRASH_BOUNDARIES (select.ts) is checked
// against all of them whichever file loads it.
// The counts come from each harness's own boundary constant; a case past the last activity (which
// must fail as never reached) is counted where the file registers one.
import { BOUNDARIES } from './recover-crash.js';
import { UPGRADE_HOP_BOUNDARIES } from './upgrade-crash.js';
import { PROVISION_BOUNDARIES } from './provision-crash.js';
import { PROXMOX_BOUNDARIES } from './proxmox-crash.js';
import type { CrashMatrices } from './select.js';

export const CRASH_MATRICES = {
  // The etcd recoveries, then one hop of the upgrade (+1 past the end).
  'matrix.crash': { ...BOUNDARIES, 'upgrade-hop': UPGRADE_HOP_BOUNDARIES + 1 },
  // OpenStack cloud phase and deprovision (+1 past the end of each).
  'provision-matrix.crash': { provision: PROVISION_BOUNDARIES.provision + 1, deprovision: PROVISION_BOUNDARIES.deprovision + 1 },
  // provisionProxmox and deprovision on Proxmox VE (+1 past the end of each).
  'proxmox.crash': { 'proxmox-provision': PROXMOX_BOUNDARIES['proxmox-provision'] + 1, 'proxmox-deprovision': PROXMOX_BOUNDARIES['proxmox-deprovision'] + 1 },
} as const satisfies CrashMatrices;
