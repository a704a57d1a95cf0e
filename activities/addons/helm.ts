// Helm on the masters (seed 001 installed it with get_helm.sh, i.e. whatever the internet served
// that day): Helm's own apt repository configured like the Kubernetes one (a sources line naming
// its keyring), the `helm` package pinned to the inventory's release and held, so every master
// has the same Helm and an `apt-get upgrade` never moves it. Checked before acted on: a master
// already at the release, held, reports nothing changed. The smoke check runs the installed helm
// against the cluster through admin.conf, whose server is the VIP.
import { ApplicationFailure } from '@temporalio/activity';
import { heartbeatWhile, reportProgress } from '../heartbeat.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';
import { ensureRemoteFile } from '../host/remote-file.js';
import { onHost } from '../host/session.js';
import { sh } from '../ssh/quote.js';
import type { SshDeps } from '../ssh/access.js';
import type { SshSession } from '../ssh/session.js';
import type { HelmCheckResult, HelmInstallResult, HelmStep } from './helm-context.js';

/** The file name of Helm's install guide, so a master set up by hand from it gets one source, not two. */
export const HELM_APT_SOURCE = '/etc/apt/sources.list.d/helm-stable-debian.list';
/** Named like the Kubernetes repository's keyring; expected on the image, as that one is (docs/provisioning.md). */
export const HELM_APT_KEYRING = '/etc/apt/keyrings/helm-apt-keyring.gpg';
/** Helm's Debian repository (packages.buildkite.com since baltocdn.com was retired). */
export const HELM_APT_REPOSITORY = 'https://packages.buildkite.com/helm-linux/helm-debian/any/';

export const helmAptSourceLine = () => `deb [signed-by=${HELM_APT_KEYRING}] ${HELM_APT_REPOSITORY} any main\n`;
/** `apt-get install` argument: the release, any Debian revision of it. */
export const helmPackagePin = (version: string) => `helm=${version}-*`;

/** 'v4.3.2' as the installed helm reports it, '' when there is none. */
async function installedHelm(s: SshSession, signal: AbortSignal): Promise<string> {
  const r = await s.exec(`helm version --template '{{.Version}}'`, { timeoutMs: 30_000, signal });
  return r.code === 0 ? r.stdout.trim() : '';
}

async function helmHeld(s: SshSession, signal: AbortSignal): Promise<boolean> {
  return (await s.run('apt-mark showhold', { timeoutMs: 30_000, signal })).split('\n').some((l) => l.trim() === 'helm');
}

/** Repository, package at the release, hold; what changed on the host. */
export async function ensureHelm(s: SshSession, version: string, signal: AbortSignal): Promise<string[]> {
  const want = `v${version}`;
  const changed: string[] = [];
  if (await ensureRemoteFile(s, HELM_APT_SOURCE, helmAptSourceLine(), 0o644, signal)) changed.push(`Helm apt repository (${HELM_APT_SOURCE})`);
  const had = await installedHelm(s, signal);
  if (had !== want) {
    // --allow-change-held-packages: a master held at another release is moved to the inventory's.
    await s.run(sh`DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --allow-change-held-packages ${helmPackagePin(version)} && apt-mark hold helm`, { timeoutMs: 600_000, signal });
    const now = await installedHelm(s, signal);
    if (now !== want) {
      // e.g. a helm that get_helm.sh left in /usr/local/bin shadowing the package's: a retry
      // would find the same, so a person decides (the package itself is in place and held).
      const which = (await s.exec('command -v helm', { timeoutMs: 30_000, signal })).stdout.trim();
      throw ApplicationFailure.nonRetryable(`after apt-get install ${helmPackagePin(version)}: helm${which ? ` (${which})` : ''} reports ${now || 'nothing'}, not ${want}; remove the other helm on PATH (get_helm.sh puts one in /usr/local/bin) and run again`, 'HelmVersionMismatch');
    }
    changed.push(`helm ${want} installed and held${had ? ` (was ${had})` : ''}`);
  } else if (!(await helmHeld(s, signal))) {
    await s.run('apt-mark hold helm', { timeoutMs: 30_000, signal });
    changed.push(`helm ${want} held`);
  }
  return changed;
}

/** `helm version --short`: 'v4.3.2', or 'v4.3.2+g<commit>' from a release build. */
export async function helmShortVersion(s: SshSession, signal: AbortSignal): Promise<string> {
  const r = await s.exec('helm version --short', { timeoutMs: 30_000, signal });
  return r.code === 0 ? r.stdout.trim() : '';
}

/** The releases in every namespace, asked of the cluster with the admin kubeconfig. */
export async function helmReleaseCount(s: SshSession, signal: AbortSignal): Promise<number> {
  const r = await s.exec(sh`helm list -A -o json --kubeconfig ${ADMIN_KUBECONFIG}`, { timeoutMs: 60_000, signal });
  if (r.code !== 0) throw new Error(`helm list -A --kubeconfig ${ADMIN_KUBECONFIG} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  const list = JSON.parse(r.stdout) as unknown;
  if (!Array.isArray(list)) throw new Error(`helm list -o json printed no list: ${r.stdout.slice(0, 200)}`);
  return list.length;
}

/** The API server admin.conf names (helm list goes there). */
async function adminServer(s: SshSession, signal: AbortSignal): Promise<string> {
  return (await s.run(sh`sed -n 's/^[[:space:]]*server:[[:space:]]*//p' ${ADMIN_KUBECONFIG}`, { timeoutMs: 30_000, signal })).trim().split('\n')[0] ?? '';
}

const versionMatches = (short: string, version: string) => new RegExp(`^v${version.replace(/\./g, '\\.')}(\\+g[0-9a-f]+)?$`).test(short);

export function createHelmActivities(deps: SshDeps = {}) {
  return {
    /** Helm's apt repository and the pinned, held helm package on one master (run it for every master). */
    async installHelm(i: HelmStep): Promise<HelmInstallResult> {
      if (!i.inventory.masters.some((m) => m.name === i.host)) {
        throw ApplicationFailure.nonRetryable(`installHelm: ${i.host} is not one of masters (${i.inventory.masters.map((m) => m.name).join(', ')}); Helm goes where the admin kubeconfig is`, 'InvalidInput');
      }
      const { version } = i.inventory.kubernetes.helm;
      return heartbeatWhile(`helm ${version} on ${i.host}`, async (signal) => ({
        host: i.host, changed: await onHost(deps, i, i.host, signal, (s) => ensureHelm(s, version, signal)),
      }));
    },

    /**
     * Smoke: every master's helm reports the inventory's release, and helm on `host` (the first
     * master) lists the cluster's releases through admin.conf, whose server must be the VIP.
     */
    async checkHelm(i: HelmStep): Promise<HelmCheckResult> {
      const { version } = i.inventory.kubernetes.helm;
      const endpoint = `https://${i.inventory.kubernetes.controlPlaneEndpoint}`;
      return heartbeatWhile('helm smoke test', async (signal) => {
        const wrong: string[] = [];
        for (const m of i.inventory.masters) {
          const short = await onHost(deps, i, m.name, signal, (s) => helmShortVersion(s, signal));
          if (!versionMatches(short, version)) wrong.push(`${m.name}: ${short || 'no helm'}`);
          reportProgress({ checked: m.name });
        }
        if (wrong.length) throw ApplicationFailure.retryable(`helm version --short is not v${version} on ${wrong.join(', ')} (installHelm puts it there)`, 'SmokeFailed');
        const { server, releases } = await onHost(deps, i, i.host, signal, async (s) => ({ server: await adminServer(s, signal), releases: await helmReleaseCount(s, signal) }));
        if (server !== endpoint) throw ApplicationFailure.retryable(`${ADMIN_KUBECONFIG} on ${i.host} names ${server || 'no server'}, not the control-plane endpoint ${endpoint}: helm list would not go through the VIP`, 'SmokeFailed');
        const names = i.inventory.masters.map((m) => m.name);
        return { releases, line: `Helm v${version} on ${names.join(', ')}; helm list through the VIP ${i.inventory.kubernetes.controlPlaneEndpoint}: ${releases} release${releases === 1 ? '' : 's'}` };
      });
    },
  };
}

export type HelmActivities = ReturnType<typeof createHelmActivities>;
