// The manifest of each addon as this run applies it, read on the worker's machine: the shipped
// files under addons/ (found beside the compiled module, not from the working directory, so the
// CLI, the worker and the container image find them wherever they run), checked against their
// recorded sha256, flannel's rendered for the pod network; or the operator's kubernetes.cniManifest
// as it is. Only the activity holds the text: it never enters workflow history.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/activity';
import type { Inventory } from '../../config/schema.js';
import { cniTitle, FLANNEL, LOCAL_PATH, type AddonName, type ShippedAddon } from './catalog.js';
import type { ManifestFacts } from './context.js';
import { manifestFacts, ManifestError, renderFlannel } from './render.js';

/** addons/ at the repository (or image) root: dist/activities/addons/ is three levels below it. */
export const ADDONS_DIR = fileURLToPath(new URL('../../../addons/', import.meta.url));

export interface AddonManifest {
  title: string;
  text: string;
  facts: ManifestFacts;
}

async function shipped(a: ShippedAddon): Promise<string> {
  const path = `${ADDONS_DIR}${a.file}`;
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    // The installation is broken, not the input: a person must restore the file (scripts/vendor-addons.sh).
    throw ApplicationFailure.nonRetryable(`${a.title} ${a.version}: ${path} is missing on the worker's machine (${err.code ?? err.message}): the installation lacks addons/; run scripts/vendor-addons.sh or reinstall`, 'PreconditionFailed');
  });
  const sum = createHash('sha256').update(bytes).digest('hex');
  if (sum !== a.sha256) throw ApplicationFailure.nonRetryable(`${a.title} ${a.version}: ${path} has sha256 ${sum}, not the vendored ${a.sha256}: restore it with scripts/vendor-addons.sh`, 'PreconditionFailed');
  return bytes.toString('utf8');
}

/** A manifest that is not a list of Kubernetes objects is bad input, named by addon. */
function invalid(title: string, err: unknown, fix: string): never {
  if (err instanceof ManifestError) throw ApplicationFailure.nonRetryable(`${title}: ${err.message}; ${fix}`, 'InvalidInput');
  throw err;
}

export async function addonManifest(inv: Inventory, addon: AddonName): Promise<AddonManifest> {
  if (addon === 'local-path') {
    const title = `${LOCAL_PATH.title} ${LOCAL_PATH.version}`;
    const text = await shipped(LOCAL_PATH);
    try { return { title, text, facts: manifestFacts(text, title) }; } catch (err) { return invalid(title, err, 'restore it with scripts/vendor-addons.sh'); }
  }
  const k = inv.kubernetes;
  const title = cniTitle(k);
  if (k.cniManifest) {
    const text = await readFile(k.cniManifest, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw ApplicationFailure.nonRetryable(`kubernetes.cniManifest: cannot read ${k.cniManifest} on the worker's machine (${err.code ?? err.message}): put the ${k.cni} manifest there, or fix the path`, 'InvalidInput');
    });
    try { return { title, text, facts: manifestFacts(text, `kubernetes.cniManifest ${k.cniManifest}`) }; } catch (err) { return invalid(title, err, 'give kubernetes.cniManifest a manifest of Kubernetes objects (YAML)'); }
  }
  try {
    const text = renderFlannel(await shipped(FLANNEL), k.podSubnet);
    return { title, text, facts: manifestFacts(text, title) };
  } catch (err) {
    return invalid(title, err, 'restore it with scripts/vendor-addons.sh');
  }
}
